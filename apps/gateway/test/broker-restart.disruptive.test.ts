import { execFile, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { pollReadyz } from "@kronos/app-kit/testing";
import { startService, stopService } from "@kronos/local-stack";
import { testEndpoints } from "@kronos/testkit";
import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { bearer, criticalAlert } from "./publish-helpers.js";

// RabbitMQ stopped → 503 within the publish timeout, and publishing works again once it is back, without restarting
// the gateway (issue #4, Robustness). The same for Kafka. The brokers are the machine's: always restarted in finally.

const run = promisify(execFile);
const TIMEOUT_MS = 3000;
const CRITICAL = "kronos.gaia.critical";
const LOG_TOPIC = "kronos.log.entries";
const endpoints = testEndpoints();
const hasRabbitmqctl = spawnSync("sh", ["-c", "command -v rabbitmqctl"]).status === 0;

type App = Awaited<ReturnType<typeof testGateway>>;

async function rabbitmqctl(command: "stop_app" | "start_app"): Promise<void> {
  await run("rabbitmqctl", [command], { timeout: 120_000 });
}

/** Resolves once RabbitMQ accepts an AMQP connection again (throws after `timeoutMs`). */
async function waitForAmqp(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await amqplib.connect(endpoints.rabbitmqUrl, { timeout: 2000 });
      await connection.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`RabbitMQ did not answer AMQP within ${timeoutMs} ms: ${error}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** A fresh exclusive queue bound to `exchange` with `key`, on a connection of its own (closed by the caller). */
async function boundQueue(exchange: string, key: string) {
  const connection = await amqplib.connect(endpoints.rabbitmqUrl);
  connection.on("error", () => {});
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, exchange, key);
  return {
    depth: async () => (await channel.checkQueue(queue)).messageCount,
    close: () => connection.close().catch(() => {}),
  };
}

/** The value of `gateway_broker_connected{broker=...}` in the app's /metrics. */
async function connectedGauge(app: App, broker: string): Promise<number | undefined> {
  const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
  const line = new RegExp(`^gateway_broker_connected\\{[^}]*broker="${broker}"[^}]*\\} (\\d+)$`, "m").exec(text);
  return line ? Number(line[1]) : undefined;
}

describe("publishing through a broker restart, without restarting the gateway", () => {
  let app: App;
  let auth: Record<string, string>;

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), { GATEWAY_PUBLISH_TIMEOUT_MS: String(TIMEOUT_MS) });
    await app.ready();
    auth = await bearer("restart-test", ["produce:*"]);
  });
  afterAll(async () => {
    await app?.close();
  });

  const publish = async (body: object) => {
    const started = performance.now();
    const response = await app.inject({ method: "POST", url: "/publish", headers: auth, payload: body });
    return { response, ms: performance.now() - started };
  };

  /** Publishes `body` until it gets a 202 (or `timeoutMs` passes); returns how long that took. */
  const publishUntilAccepted = async (body: () => object, timeoutMs: number) => {
    const started = Date.now();
    let last = "";
    while (Date.now() - started < timeoutMs) {
      const { response } = await publish(body());
      if (response.statusCode === 202) return Date.now() - started;
      last = `${response.statusCode} ${response.body}`;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`publishing did not recover within ${timeoutMs} ms; last answer: ${last}`);
  };

  it.runIf(hasRabbitmqctl)(
    "RabbitMQ stopped: 503 + Retry-After within the timeout, /readyz names it; back: 202 again",
    async () => {
      await pollReadyz(app, (status) => status === 200, 90_000);
      const key = `restart.${randomUUID()}`;
      const message = () => ({ topic: CRITICAL, key, payload: criticalAlert() });
      let queue = await boundQueue(CRITICAL, key);
      try {
        expect((await publish(message())).response.statusCode).toBe(202);
        expect(await connectedGauge(app, "rabbitmq")).toBe(1);

        try {
          await rabbitmqctl("stop_app");
          const { response, ms } = await publish(message());
          expect(response.statusCode, response.body).toBe(503);
          expect(response.headers["retry-after"]).toBe("5");
          expect(response.json().code).toMatch(/^(RABBITMQ_UNAVAILABLE|TIMEOUT)$/);
          expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
          console.info(`RabbitMQ stopped: ${response.statusCode} ${response.json().code} in ${Math.round(ms)} ms`);

          const down = await pollReadyz(app, (_status, body) => body.checks.rabbitmq?.ok === false, 10_000);
          expect(down.statusCode).toBe(503);
          expect(down.body.checks.rabbitmq?.error).toEqual(expect.any(String));
          expect(await connectedGauge(app, "rabbitmq")).toBe(0);
        } finally {
          await rabbitmqctl("start_app");
          await waitForAmqp(60_000);
        }

        // The exclusive queue went with its connection: bind a new one so the gateway's messages are routable.
        await queue.close();
        queue = await boundQueue(CRITICAL, key);
        const recoveryMs = await publishUntilAccepted(message, 30_000);
        console.info(`RabbitMQ restart: publishing accepted again ${recoveryMs} ms after AMQP answered`);
        expect(await queue.depth()).toBeGreaterThanOrEqual(1);
        await pollReadyz(app, (status) => status === 200, 30_000);
        expect(await connectedGauge(app, "rabbitmq")).toBe(1);
      } finally {
        await queue.close();
      }
    },
  );

  it("Kafka stopped: 503 + Retry-After within the timeout, /readyz names it; back: 202 again", async () => {
    await pollReadyz(app, (status) => status === 200, 90_000);
    const message = () => ({
      topic: LOG_TOPIC,
      payload: {
        meta: { eventId: randomUUID(), occurredAt: Date.now(), producer: "restart-test" },
        timestamp: Date.now(),
        level: "INFO",
        service: "restart-test",
        logger: "test",
        message: "still here",
        attributes: {},
      },
    });
    expect((await publish(message())).response.statusCode).toBe(202);
    expect(await connectedGauge(app, "kafka")).toBe(1);

    try {
      await stopService("kafka");
      const { response, ms } = await publish(message());
      expect(response.statusCode, response.body).toBe(503);
      expect(response.headers["retry-after"]).toBe("5");
      expect(response.json().code).toMatch(/^(KAFKA_UNAVAILABLE|TIMEOUT)$/);
      expect(ms).toBeLessThan(TIMEOUT_MS + 1000);
      console.info(`Kafka stopped: ${response.statusCode} ${response.json().code} in ${Math.round(ms)} ms`);

      const down = await pollReadyz(app, (_status, body) => body.checks.kafka?.ok === false, 10_000);
      expect(down.statusCode).toBe(503);
      expect(await connectedGauge(app, "kafka")).toBe(0);
    } finally {
      await startService("kafka");
    }

    const recoveryMs = await publishUntilAccepted(message, 60_000);
    console.info(`Kafka restart: publishing accepted again ${recoveryMs} ms after the stack reported Kafka up`);
    await pollReadyz(app, (status) => status === 200, 60_000);
    expect(await connectedGauge(app, "kafka")).toBe(1);
  });
});
