import type { KronosApp } from "@kronos/app-kit";
import { TestResources } from "@kronos/testkit";
import { declareQueue } from "@kronos/transport";
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestDatabase } from "./database.js";
import { asOperator, drain, eventually, openApp, stackEnv } from "./harness.js";

// A RabbitMQ dead letter keeps its AMQP header types end to end: published by plain amqplib with typed headers,
// rejected into its dead-letter queue by RabbitMQ itself (x-death), taken into custody, replayed to its queue, and
// read back raw with amqplib: a byte array is still a byte array, a number a number, a timestamp a timestamp.
const resources = new TestResources();
const database = new TestDatabase();
const queue = resources.queue("dlq-typed");
resources.queue(`${queue}.dlq`);
resources.exchange(`${queue}.dlx`);
let app: KronosApp;

beforeAll(async () => {
  app = await openApp(database, {});
  await declareQueue(app.amqp, queue, { deadLetter: true });
  await app.close();
  app = await openApp(database, { rabbitmq: [`${queue}.dlq`] });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await Promise.all([database.drop(), resources.cleanup()]);
});

const typed = {
  text: "héllo",
  signature: Buffer.from([0xff, 0x00, 0x81]),
  count: 42,
  large: 2 ** 40,
  ratio: 0.25,
  urgent: true,
  nothing: null,
  sentAt: { "!": "timestamp", value: 1_700_000_000 },
  trace: { hops: [1, "two", Buffer.from([3])], origin: "billing" },
};

describe("typed AMQP headers on the real RabbitMQ and PostgreSQL", () => {
  it("stores a dead letter's header table with its types and replays it with the same types", async () => {
    let id: string;
    const connection = await connect(stackEnv.RABBITMQ_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish("", queue, Buffer.from("typed body"), {
        messageId: "typed-1",
        type: "kronos.test.Typed",
        persistent: true,
        headers: typed,
      });
      await channel.waitForConfirms();
      await channel.consume(queue, (message) => {
        if (message) channel.nack(message, false, false);
      });
      const row = await eventually(
        async () =>
          (
            await app.db.query<{ id: string; amqp_headers: Array<[string, { type: string }]> | null }>(
              "SELECT id::text, amqp_headers FROM dead_letters WHERE source = $1",
              [`${queue}.dlq`],
            )
          ).rows[0],
        45_000,
        "the rejected message stored",
      );
      const types = Object.fromEntries((row.amqp_headers ?? []).map(([name, value]) => [name, value.type]));
      expect(types).toMatchObject({
        signature: "bytes",
        count: "number",
        urgent: "boolean",
        sentAt: "typed",
        trace: "table",
        "x-death": "array",
      });
      id = row.id;
      // GET /dead-letters/:id shows the table with its types.
      const detail = (await app.inject({ method: "GET", url: `/dead-letters/${id}`, headers: asOperator })).json();
      expect(detail.amqpHeaders).toContainEqual([
        "signature",
        { type: "bytes", base64: typed.signature.toString("base64") },
      ]);
      expect(detail.amqpHeaders).toContainEqual(["count", { type: "number", value: 42 }]);
    } finally {
      // Closing the connection ends the rejecting consumer, so the replayed copy stays in the queue to be read raw.
      await connection.close();
    }

    const created = await app.inject({
      method: "POST",
      url: "/replays",
      headers: asOperator,
      payload: { ids: [id], ratePerSecond: 50 },
    });
    expect(created.statusCode).toBe(201);
    const [message] = await drain(queue, 1);
    expect(message?.content.toString()).toBe("typed body");
    expect(message?.properties.messageId).toBe("typed-1");
    expect(message?.properties.type).toBe("kronos.test.Typed");
    const headers = message?.properties.headers ?? {};
    expect(Buffer.isBuffer(headers.signature)).toBe(true);
    expect(headers.signature).toEqual(typed.signature);
    expect(headers.count).toBe(42);
    expect(headers.large).toBe(2 ** 40);
    expect(headers.ratio).toBe(0.25);
    expect(headers.urgent).toBe(true);
    expect(headers.nothing).toBeNull();
    expect(headers.sentAt).toEqual({ "!": "timestamp", value: 1_700_000_000 });
    expect(headers.trace).toEqual({ hops: [1, "two", Buffer.from([3])], origin: "billing" });
    expect(headers.text).toBe("héllo");
    // RabbitMQ's failure bookkeeping stays behind; the replay marker comes along.
    expect(headers).not.toHaveProperty("x-death");
    expect(headers["x-kronos-replay-dead-letter-id"]).toBe(id);
    expect(headers["x-kronos-replay-count"]).toBe("1");
  });
});
