import { TestResources, testEndpoints } from "@kronos/testkit";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKafkaConnection,
  createKafkaPublisher,
  type KafkaAck,
  type KafkaConnection,
  type KafkaPublisher,
  TransportError,
} from "../src/index.js";
import { readBack } from "./kafka-read-back.js";

const resources = new TestResources();
const brokers = testEndpoints().kafkaBrokers.split(",");
const kafka = new Kafka({ clientId: "transport-publish-test", brokers, logLevel: logLevel.NOTHING });
let admin: Admin;
let connection: KafkaConnection;
const publishers: KafkaPublisher[] = [];

function publisher(options: Parameters<typeof createKafkaPublisher>[1] = {}): KafkaPublisher {
  const created = createKafkaPublisher(connection, options);
  publishers.push(created);
  return created;
}

async function topic(partitions: number): Promise<string> {
  const name = resources.topic("transport-publish");
  await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
  return name;
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  connection = createKafkaConnection({ brokers, clientId: "transport-publish-test" });
});

afterAll(async () => {
  await Promise.all(publishers.map((p) => p.close()));
  await connection.close();
  await admin.disconnect();
  await resources.cleanup();
});

describe("KafkaPublisher (real Kafka)", () => {
  it("resolves with the partition and offset a consumer reads the exact bytes and headers at", async () => {
    const name = await topic(3);
    const p = publisher();
    const value = Buffer.from([0, 0, 0, 0, 7, 0xff, 0x00, 0x80, 0x7f]);
    const ack = await p.publish({
      topic: name,
      key: "user-42",
      value,
      headers: { "kronos-message-id": "m-1", "content-type": "application/vnd.kronos+avro" },
      timestamp: "1700000000123",
    });
    expect(ack.topic).toBe(name);
    const [read] = await readBack(kafka, name, 1);
    expect(read).toEqual({
      partition: ack.partition,
      offset: ack.offset,
      key: "user-42",
      value,
      headers: { "kronos-message-id": "m-1", "content-type": "application/vnd.kronos+avro" },
      timestamp: "1700000000123",
      raw: {
        key: Buffer.from("user-42"),
        value,
        headers: {
          "kronos-message-id": Buffer.from("m-1"),
          "content-type": Buffer.from("application/vnd.kronos+avro"),
        },
      },
    });
  });

  it("coalesces 200 concurrent publishes into a few batches, each with its own correct offset", async () => {
    const name = await topic(3);
    const batches: number[] = [];
    const p = publisher({ onBatch: (records) => batches.push(records) });
    const acks = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        p.publish({ topic: name, key: i % 5 === 0 ? null : `k-${i % 7}`, value: Buffer.from(`v-${i}`) }),
      ),
    );
    expect(batches.reduce((sum, n) => sum + n, 0)).toBe(200);
    expect(batches.length).toBeLessThanOrEqual(5);
    const positions = acks.map((ack) => `${ack.partition}/${ack.offset}`);
    expect(new Set(positions).size).toBe(200);
    const read = await readBack(kafka, name, 200);
    const byPosition = new Map(read.map((r) => [`${r.partition}/${r.offset}`, r.value.toString()]));
    acks.forEach((ack, i) => {
      expect(byPosition.get(`${ack.partition}/${ack.offset}`)).toBe(`v-${i}`);
    });
    // Keyed records go to their key's partition: same key, same partition.
    const partitionOfKey = new Map<string, number>();
    acks.forEach((ack, i) => {
      if (i % 5 === 0) return;
      const key = `k-${i % 7}`;
      expect(partitionOfKey.get(key) ?? ack.partition).toBe(ack.partition);
      partitionOfKey.set(key, ack.partition);
    });
  });

  it("publishMany resolves every ack in order, in one batch", async () => {
    const name = await topic(2);
    const batches: number[] = [];
    const p = publisher({ onBatch: (records) => batches.push(records) });
    const acks: KafkaAck[] = await p.publishMany(
      Array.from({ length: 20 }, (_, i) => ({ topic: name, key: "same", value: Buffer.from(`many-${i}`) })),
    );
    expect(batches).toEqual([20]);
    expect(acks).toHaveLength(20);
    const first = BigInt(acks[0]?.offset ?? "-1");
    acks.forEach((ack, i) => {
      expect(ack.partition).toBe(acks[0]?.partition);
      expect(BigInt(ack.offset)).toBe(first + BigInt(i));
    });
    const read = await readBack(kafka, name, 20);
    expect(read.map((r) => r.value.toString()).sort()).toEqual(acks.map((_, i) => `many-${i}`).sort());
  });

  it("fails fast with DESTINATION_NOT_FOUND for a topic that does not exist, without failing the others", async () => {
    const good = await topic(1);
    const missing = resources.topic("transport-publish-missing");
    const p = publisher();
    const started = Date.now();
    const [bad, ok] = await Promise.allSettled([
      p.publish({ topic: missing, value: Buffer.from("x") }, { timeoutMs: 20_000 }),
      p.publish({ topic: good, value: Buffer.from("y") }),
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(bad.status).toBe("rejected");
    const error = (bad as PromiseRejectedResult).reason as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "DESTINATION_NOT_FOUND", retriable: false });
    expect(error.message).toContain(missing);
    expect(ok).toMatchObject({ status: "fulfilled", value: { topic: good, offset: "0" } });
    const topics = await admin.listTopics();
    expect(topics).not.toContain(missing);
  });

  it("rejects with KAFKA_UNAVAILABLE at once when no broker answers", async () => {
    const down = createKafkaConnection({ brokers: ["127.0.0.1:1"], clientId: "transport-publish-test" });
    const p = createKafkaPublisher(down);
    try {
      const started = Date.now();
      const error = await p.publish({ topic: "any", value: Buffer.from("x") }, { timeoutMs: 3000 }).catch((e) => e);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ code: "KAFKA_UNAVAILABLE", retriable: true });
      expect((error as Error).message).toMatch(/ECONNREFUSED/);
    } finally {
      await p.close();
      await down.close();
    }
  });

  it("refuses publishes after close", async () => {
    const p = publisher();
    await p.close();
    await expect(p.publish({ topic: "any", value: Buffer.from("x") })).rejects.toMatchObject({ code: "CLOSED" });
  });
});
