import type { KronosApp } from "@kronos/app-kit";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { createKafkaSubscription, createTopic, type RawHeader } from "@kronos/transport";
import { createKafkaClient } from "@kronos/transport/kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestDatabase } from "./database.js";
import { asOperator, eventually, openApp } from "./harness.js";

// A Spring dead letter keeps its bytes end to end: written by a plain kafkajs producer (not transport's publisher) with binary headers that are
// not UTF-8, stored byte for byte, read into the model from the bytes, and replayed with the same header bytes.
const resources = new TestResources();
const database = new TestDatabase();
const springDlq = resources.topic("dlq-raw-spring");
const original = resources.topic("dlq-raw-original");
let app: KronosApp;

/** A non-negative `n` as Spring writes an int (4 bytes) or a long (8): big-endian. */
const bigEndian = (n: number, size: 4 | 8) => Buffer.from(n.toString(16).padStart(size * 2, "0"), "hex");

beforeAll(async () => {
  app = await openApp(database, {});
  await Promise.all([
    createTopic(app.kafka, springDlq, { partitions: 1 }),
    createTopic(app.kafka, original, { partitions: 1 }),
  ]);
  await app.close();
  app = await openApp(database, { kafka: [springDlq] });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await Promise.all([database.drop(), resources.cleanup()]);
});

describe("raw headers on the real Kafka and PostgreSQL", () => {
  it("stores a Spring dead letter's binary headers byte for byte, shows the decoded offset, replays the same bytes", async () => {
    // 129, 200 and this timestamp are big-endian bytes that are not valid UTF-8: a text view loses them.
    const partition = bigEndian(129, 4);
    const offset = bigEndian(200, 8);
    const timestamp = bigEndian(1_700_000_000_255, 8);
    const key = Buffer.from([0xff, 0x00, 0x81]);
    const binary = Buffer.from([0xc3, 0x28, 0x00]);
    const repeated = [Buffer.from([0xfe]), Buffer.from("second")];
    const kafka = createKafkaClient({ clientId: "dlq-raw-test", brokers: testEndpoints().kafkaBrokers.split(",") });
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: springDlq,
        acks: -1,
        messages: [
          {
            key,
            value: Buffer.from('{"id":3}'),
            headers: {
              "kafka_dlt-original-topic": original,
              "kafka_dlt-original-partition": partition,
              "kafka_dlt-original-offset": offset,
              "kafka_dlt-original-timestamp": timestamp,
              "kafka_dlt-original-consumer-group": "payments-service",
              "kafka_dlt-exception-fqcn": "org.springframework.kafka.listener.ListenerExecutionFailedException",
              "kafka_dlt-exception-message": "amount < 0",
              binary,
              repeated,
            },
          },
        ],
      });
    } finally {
      await producer.disconnect();
    }

    const row = await eventually(
      async () =>
        (
          await app.db.query<{ id: string; raw_headers: [string, string][]; record_key_bytes: Buffer }>(
            "SELECT id::text, raw_headers, record_key_bytes FROM dead_letters WHERE source = $1",
            [springDlq],
          )
        ).rows[0],
      45_000,
      "the Spring dead letter stored",
    );
    expect(row.record_key_bytes.equals(key)).toBe(true);
    const stored = row.raw_headers.map(([name, value]) => [name, Buffer.from(value, "base64")]);
    expect(stored).toContainEqual(["kafka_dlt-original-offset", offset]);
    expect(stored.filter(([name]) => name === "repeated")).toEqual([
      ["repeated", repeated[0]],
      ["repeated", repeated[1]],
    ]);

    const detail = (await app.inject({ method: "GET", url: `/dead-letters/${row.id}`, headers: asOperator })).json();
    expect(detail.model).toMatchObject({
      dialect: "spring",
      destination: original,
      partition: 129,
      offset: "200",
      originalTimestampMs: 1_700_000_000_255,
      consumer: "payments-service",
    });
    expect(detail.headers["kafka_dlt-original-offset"].base64).toBe(offset.toString("base64"));
    expect(detail.headers.binary.base64).toBe(binary.toString("base64"));

    const received: { rawKey: Buffer | null; rawHeaders: ReadonlyArray<RawHeader> }[] = [];
    const subscription = createKafkaSubscription(
      app.kafka,
      { topic: original, groupId: `${original}-consumer`, from: "earliest", maxInFlight: 10, consumerName: "t" },
      async (delivery) => {
        received.push({ rawKey: delivery.rawKey, rawHeaders: delivery.rawHeaders });
        await delivery.ack();
      },
    );
    try {
      await subscription.ready;
      const created = await app.inject({
        method: "POST",
        url: "/replays",
        headers: asOperator,
        payload: { ids: [row.id], ratePerSecond: 50 },
      });
      expect(created.statusCode).toBe(201);
      const [copy] = await eventually(async () => (received.length > 0 ? received : undefined), 30_000, "the replay");
      expect(copy?.rawKey?.equals(key)).toBe(true);
      // Spring's failure bookkeeping is dropped; every other header comes back with its bytes, repeats in order.
      expect(copy?.rawHeaders.filter(([name]) => !name.startsWith("x-kronos-replay-"))).toEqual([
        ["binary", binary],
        ["repeated", repeated[0]],
        ["repeated", repeated[1]],
      ]);
      expect(copy?.rawHeaders.find(([name]) => name === "x-kronos-replay-dead-letter-id")?.[1].toString()).toBe(row.id);
    } finally {
      await subscription.close();
    }
  });
});
