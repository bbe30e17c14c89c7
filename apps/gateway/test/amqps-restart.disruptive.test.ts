import { pollReadyz } from "@kronos/app-kit/testing";
import { killService, startService } from "@kronos/local-stack";
import { testRabbitmqTls } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";

// The stack's TLS front (stunnel, service rabbitmq-tls) crashes: the gateway's /readyz says RabbitMQ is down, and
// once `up` brings the front back the gateway reconnects over amqps by itself, with its own user.

type App = Awaited<ReturnType<typeof testGateway>>;

describe("gateway over amqps when the TLS front crashes", () => {
  const stack = testRabbitmqTls();
  let app: App;

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), {
      RABBITMQ_URL: stack.url,
      RABBITMQ_SSL_CA_FILE: stack.caFile,
      RABBITMQ_USERNAME: stack.users.gateway.username,
      RABBITMQ_PASSWORD_FILE: stack.users.gateway.passwordFile,
    });
    await app.ready();
    await pollReadyz(app, (status) => status === 200, 30_000);
  });
  afterAll(async () => {
    await startService("rabbitmq-tls");
    await app?.close();
  });

  it("/readyz names rabbitmq while stunnel is gone, and is 200 again after up, without restarting the gateway", async () => {
    expect(await killService("rabbitmq-tls")).toBeGreaterThan(0);
    const down = await pollReadyz(app, (_status, body) => body.checks.rabbitmq?.ok === false, 20_000);
    expect(down.statusCode).toBe(503);
    await startService("rabbitmq-tls");
    const up = await pollReadyz(app, (status) => status === 200, 30_000);
    expect(up.body.checks.rabbitmq?.ok).toBe(true);
    expect(app.amqp.redactedUrl).toMatch(/^amqps:/);
  });
});
