import { randomUUID } from "node:crypto";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { TestResources, testEndpoints, testRabbitmqTls } from "@kronos/testkit";
import type { GetMessage } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hsToken, tempPrincipalsFile, testGateway } from "./helpers.js";
import { criticalAlert, plainClients } from "./publish-helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;

const CRITICAL = "kronos.gaia.critical";
const stack = testRabbitmqTls();
const user = stack.users.gateway;

/** The gateway on RabbitMQ over amqps as its own user, the management API over HTTPS with the same login and CA. */
function amqpsEnv(): Record<string, string> {
  const management = new URL(stack.managementUrl);
  management.username = user.username;
  management.password = user.password;
  return {
    RABBITMQ_URL: stack.url,
    RABBITMQ_SSL_CA_FILE: stack.caFile,
    RABBITMQ_USERNAME: user.username,
    RABBITMQ_PASSWORD_FILE: user.passwordFile,
    RABBITMQ_MANAGEMENT_URL: management.toString(),
  };
}

describe("gateway over amqps with its least-privilege user (end to end)", () => {
  const resources = new TestResources();
  const serde = new RegistrySerde({ url: testEndpoints().registryUrl });
  let app: App;
  let clients: Awaited<ReturnType<typeof plainClients>>;
  let headers: Record<string, string>;

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), amqpsEnv());
    await app.ready();
    clients = await plainClients();
    headers = { authorization: `Bearer ${await hsToken("operator", ["admin", "produce:*", "consume:*"], "10m")}` };
  });
  afterAll(async () => {
    await clients?.close();
    await app?.close();
    await resources.cleanup();
  });

  it("POST /publish to a RabbitMQ event: 202 after the confirm, and the message arrives framed", async () => {
    expect(app.amqp.redactedUrl).toMatch(/^amqps:/);
    const key = `alert.amqps.${randomUUID()}`;
    const queue = await clients.bindQueue(CRITICAL, key);
    const payload = criticalAlert();
    const response = await app.inject({
      method: "POST",
      url: "/publish",
      headers,
      payload: { topic: CRITICAL, key, payload },
    });
    expect(response.statusCode, response.body).toBe(202);
    let message: GetMessage | false = false;
    for (let i = 0; i < 100 && !message; i++) {
      message = await clients.channel.get(queue, { noAck: true });
      if (!message) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!message) throw new Error(`nothing arrived on ${queue}`);
    expect((await serde.decode(CriticalAlertEvent, message.content)).alertId).toBe(payload.alertId);
  });

  it("queue administration creates a kronos.* queue over amqps and lists it through the HTTPS management API", async () => {
    const name = resources.queue("kronos.amqps-gw");
    const created = await app.inject({
      method: "POST",
      url: "/queues/create",
      headers,
      payload: { name, broker: "rabbitmq" },
    });
    expect(created.statusCode, created.body).toBe(201);
    const listed = await app.inject({ method: "GET", url: `/queues?broker=rabbitmq&prefix=${name}`, headers });
    expect(listed.statusCode, listed.body).toBe(200);
    expect((listed.json().queues as { name: string }[]).map((q) => q.name)).toContain(name);
  });

  it("a queue outside the gateway user's permissions is refused, naming the queue and the user", async () => {
    const name = resources.queue("outside-kronos");
    const response = await app.inject({
      method: "POST",
      url: "/queues/create",
      headers,
      payload: { name, broker: "rabbitmq" },
    });
    expect(response.statusCode, response.body).toBe(403);
    expect(response.json().code).toBe("ACCESS_REFUSED");
    expect(response.body).toContain(`access to queue '${name}' in vhost '/' refused for user '${user.username}'`);
    expect(response.body).not.toContain(user.password);
  });
});
