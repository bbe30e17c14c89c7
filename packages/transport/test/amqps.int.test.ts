import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TestResources, testEndpoints, testRabbitmqTls, uniqueName } from "@kronos/testkit";
import { type Channel, type ChannelModel, connect } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AmqpConnectionManager,
  type AmqpConnectionOptions,
  classifyAmqpConnectError,
  createAmqpPublisher,
  declareQueue,
  RabbitManagementClient,
  TransportError,
} from "../src/index.js";

// RabbitMQ over TLS (the stack's stunnel front, `rabbitmq-tls`) with each app's least-privilege user.
const stack = testRabbitmqTls();
const resources = new TestResources();
let plain: ChannelModel;
let admin: Channel;
const managers: AmqpConnectionManager[] = [];
/** Every log line the managers wrote, as JSON: no password may appear in one. */
const logLines: string[] = [];
const logger = {
  debug: (fields: object, message: string) => logLines.push(JSON.stringify({ ...fields, message })),
  info: (fields: object, message: string) => logLines.push(JSON.stringify({ ...fields, message })),
  warn: (fields: object, message: string) => logLines.push(JSON.stringify({ ...fields, message, ...errOf(fields) })),
  error: (fields: object, message: string) => logLines.push(JSON.stringify({ ...fields, message, ...errOf(fields) })),
};
function errOf(fields: object): object {
  const err = (fields as { err?: Error }).err;
  return err ? { errMessage: err.message, errStack: err.stack } : {};
}

function manager(options: Partial<AmqpConnectionOptions> & Pick<AmqpConnectionOptions, "credentials">) {
  const created = new AmqpConnectionManager({
    url: stack.url,
    name: uniqueName("transport-amqps"),
    tls: { caFile: stack.caFile },
    logger,
    connectTimeoutMs: 3000,
    reconnect: { initialDelayMs: 200, maxDelayMs: 500 },
    ...options,
  });
  managers.push(created);
  created.start();
  return created;
}

async function connected(options: Parameters<typeof manager>[0]): Promise<AmqpConnectionManager> {
  const created = manager(options);
  expect(await created.waitForConnection(10_000)).toBe(true);
  return created;
}

/** Resolves with the first failed connection attempt's error (the manager keeps retrying until closed). */
async function firstFailure(options: Parameters<typeof manager>[0]): Promise<Error> {
  const created = manager(options);
  for (let i = 0; i < 100 && created.lastError === undefined; i++) await new Promise((r) => setTimeout(r, 50));
  expect(created.state).not.toBe("connected");
  const error = created.lastError;
  if (!error) throw new Error("no connection attempt failed within 5 s");
  return error;
}

/** A queue only the administrator declares, named as a dead-letter queue (`kronos.<x>.dlq`): every app may use it. */
async function deadLetterQueue(): Promise<string> {
  const queue = `${uniqueName("kronos.amqps-test")}.dlq`;
  await admin.assertQueue(queue, { durable: false, autoDelete: false });
  return queue;
}

const created: string[] = [];

beforeAll(async () => {
  plain = await connect(testEndpoints().rabbitmqUrl);
  plain.on("error", () => undefined);
  admin = await plain.createChannel();
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

afterAll(async () => {
  for (const queue of created) await admin.deleteQueue(queue).catch(() => undefined);
  await resources.cleanup();
  await plain?.close().catch(() => undefined);
  const passwords = Object.values(stack.users).map((user) => user.password);
  // The failure tests above logged attempts: the check below has lines to look at.
  expect(logLines.some((line) => line.includes("connection attempt failed"))).toBe(true);
  for (const line of logLines) for (const password of passwords) expect(line).not.toContain(password);
});

describe("RabbitMQ over amqps with each app's own user (real broker through the stack's TLS front)", () => {
  it.each(["gateway", "relay", "dlq-manager"] as const)(
    "%s: publishes with confirms and reads back a message on a queue its permissions allow",
    async (app) => {
      const user = stack.users[app];
      const amqp = await connected({ credentials: { username: user.username, password: user.password } });
      const queue = await deadLetterQueue();
      created.push(queue);
      const publisher = createAmqpPublisher(amqp);
      try {
        await publisher.publish({
          exchange: "",
          routingKey: queue,
          content: Buffer.from(`over TLS as ${user.username}`),
          messageId: crypto.randomUUID(),
        });
      } finally {
        await publisher.close();
      }
      const channel = await amqp.connection().createChannel();
      const got = await channel.get(queue, { noAck: true });
      await channel.close();
      if (!got) throw new Error(`nothing on ${queue}`);
      expect(got.content.toString()).toBe(`over TLS as ${user.username}`);
    },
  );

  it("gateway and relay declare queues under kronos.; mutual TLS with the stack's client certificate works", async () => {
    for (const app of ["gateway", "relay"] as const) {
      const user = stack.users[app];
      const amqp = await connected({
        credentials: { username: user.username, password: user.password },
        tls: { caFile: stack.caFile, certFile: stack.clientCertFile, keyFile: stack.clientKeyFile },
      });
      const queue = resources.queue(`kronos.amqps-${app}`);
      const channel = await amqp.connection().createChannel();
      await channel.assertQueue(queue, { durable: false });
      await channel.close();
    }
  });

  it("a wrong password fails as login-refused, naming neither password", async () => {
    const user = stack.users.relay;
    const error = await firstFailure({ credentials: { username: user.username, password: "not-the-password" } });
    expect(classifyAmqpConnectError(error).kind).toBe("login-refused");
    expect(error.message).toMatch(/ACCESS_REFUSED - Login was refused/);
    expect(error.message).not.toContain("not-the-password");
  });

  it("a server certificate from an untrusted CA fails as certificate-untrusted, and the manager's error says what to check", async () => {
    const user = stack.users.gateway;
    const amqp = manager({
      credentials: { username: user.username, password: user.password },
      tls: { caFile: stack.untrustedCaFile },
      explain: (failure) => (failure.kind === "certificate-untrusted" ? "check THE_CA_SETTING" : undefined),
    });
    for (let i = 0; i < 100 && amqp.lastError === undefined; i++) await new Promise((r) => setTimeout(r, 50));
    expect(amqp.lastError && classifyAmqpConnectError(amqp.lastError).kind).toBe("certificate-untrusted");
    expect(() => amqp.connection()).toThrow(/check THE_CA_SETTING \(self-signed certificate in certificate chain\)/);
  });

  it("a client certificate the stack's CA did not sign is refused by the server", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kronos-amqps-stranger-"));
    const made = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"].concat([
        "-subj",
        "/CN=stranger",
        "-keyout",
        join(dir, "k.pem"),
        "-out",
        join(dir, "c.pem"),
      ]),
      { encoding: "utf8" },
    );
    expect(made.status, made.stderr).toBe(0);
    const user = stack.users.gateway;
    const error = await firstFailure({
      credentials: { username: user.username, password: user.password },
      tls: { caFile: stack.caFile, certFile: join(dir, "c.pem"), keyFile: join(dir, "k.pem") },
    });
    expect(classifyAmqpConnectError(error).kind).toBe("client-certificate-refused");
  });

  it("a name outside the app's permissions is refused, naming the queue or exchange and the user", async () => {
    const user = stack.users["dlq-manager"];
    const amqp = await connected({ credentials: { username: user.username, password: user.password } });
    const queue = uniqueName("kronos.amqps-refused");
    const refused = await declareQueue(amqp, queue, {}).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "ACCESS_REFUSED", retriable: false });
    expect((refused as Error).message).toContain(
      `access to queue '${queue}' in vhost '/' refused for user 'kronos-dlq-manager'. Grant that RabbitMQ user`,
    );

    const gateway = stack.users.gateway;
    const other = await connected({ credentials: { username: gateway.username, password: gateway.password } });
    const publisher = createAmqpPublisher(other);
    try {
      const error = await publisher
        .publish({ exchange: "amq.topic", routingKey: "x", content: Buffer.from("x"), messageId: crypto.randomUUID() })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).code).toBe("PUBLISH_REJECTED");
      expect((error as TransportError).message).toMatch(
        /access to exchange 'amq\.topic' in vhost '\/' refused for user 'kronos-gateway'/,
      );
    } finally {
      await publisher.close();
    }
  });

  it("the management API answers over HTTPS with the stack's CA and an app's own login", async () => {
    const user = stack.users.gateway;
    const queue = await deadLetterQueue();
    created.push(queue);
    const url = new URL(stack.managementUrl);
    url.username = user.username;
    url.password = user.password;
    const client = new RabbitManagementClient({ url: url.toString(), caFile: stack.caFile });
    expect((await client.getQueue(queue))?.name).toBe(queue);
    const untrusted = new RabbitManagementClient({ url: url.toString(), caFile: stack.untrustedCaFile });
    const error = await untrusted.getQueue(queue).catch((e: unknown) => e);
    expect((error as TransportError).code).toBe("MANAGEMENT_UNAVAILABLE");
    expect((error as TransportError).message).not.toContain(user.password);
  });
});
