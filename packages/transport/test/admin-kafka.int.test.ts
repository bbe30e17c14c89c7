import { TestResources, testEndpoints } from "@kronos/testkit";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { createKafkaConnection, createTopic, deleteTopic, describeTopics, type KafkaConnection } from "../src/index.js";
import { rejection } from "./assertions.js";

const resources = new TestResources();
const brokers = testEndpoints().kafkaBrokers.split(",");
const connection: KafkaConnection = createKafkaConnection({ brokers, clientId: "transport-admin-test" });
// A plain client, for producing and committing: the test checks the admin functions against what it did.
const plain = new Kafka({ brokers, clientId: "transport-admin-test-plain", logLevel: logLevel.NOTHING });

afterAll(async () => {
  await connection.close();
  await resources.cleanup();
});

describe("Kafka topic administration (real Kafka)", () => {
  it("creates a topic, finds the equivalent one, refuses different settings with TOPIC_CONFLICT", async () => {
    const topic = resources.topic("admin-topic");
    const options = { partitions: 3, retentionMs: 3_600_000, cleanupPolicy: "delete" } as const;
    expect(await createTopic(connection, topic, options)).toBe("created");
    expect(await createTopic(connection, topic, options)).toBe("exists");
    expect(await createTopic(connection, topic, { partitions: 3 })).toBe("exists");

    const partitions = await rejection(createTopic(connection, topic, { ...options, partitions: 6 }));
    expect(partitions).toMatchObject({ code: "TOPIC_CONFLICT", retriable: false });
    expect(partitions.message).toBe(
      `topic "${topic}" already exists with different settings: partitions is 3 (wanted 6)`,
    );
    const config = await rejection(createTopic(connection, topic, { retentionMs: 60_000, cleanupPolicy: "compact" }));
    expect(config.code).toBe("TOPIC_CONFLICT");
    expect(config.message).toContain("retention.ms is 3600000 (wanted 60000)");
    expect(config.message).toContain("cleanup.policy is delete (wanted compact)");

    const [info] = await describeTopics(connection, [topic]);
    expect(info).toMatchObject({
      name: topic,
      replicationFactor: 1,
      config: { retentionMs: 3_600_000, cleanupPolicy: "delete" },
      consumerGroups: [],
    });
    expect(info?.partitions).toEqual([
      { partition: 0, low: 0, high: 0 },
      { partition: 1, low: 0, high: 0 },
      { partition: 2, low: 0, high: 0 },
    ]);
  });

  it("refuses invalid options, including a replication factor the cluster cannot place", async () => {
    const topic = resources.topic("admin-invalid");
    const zero = await rejection(createTopic(connection, topic, { partitions: 0 }));
    expect(zero.code).toBe("INVALID_OPTIONS");
    expect(zero.message).toContain(topic);
    expect(zero.message).toContain("partitions");
    const health = await connection.checkHealth();
    const tooMany = await rejection(createTopic(connection, topic, { replicationFactor: health.brokers + 1 }));
    expect(tooMany.code).toBe("INVALID_OPTIONS");
    expect(tooMany.message).toContain("INVALID_REPLICATION_FACTOR");
    expect(await describeTopics(connection, [topic])).toEqual([]);
  });

  it("describes end offsets after producing, and the lag of a group that committed part of them", async () => {
    const topic = resources.topic("admin-offsets");
    expect(await createTopic(connection, topic, { partitions: 2 })).toBe("created");
    const producer = plain.producer();
    await producer.connect();
    try {
      const messages = (n: number) => Array.from({ length: n }, (_, i) => ({ value: `m${i}` }));
      await producer.send({ topic, acks: -1, messages: messages(6).map((m) => ({ ...m, partition: 0 })) });
      await producer.send({ topic, acks: -1, messages: messages(4).map((m) => ({ ...m, partition: 1 })) });
    } finally {
      await producer.disconnect();
    }
    const groupId = `${topic}-group`;
    // An OffsetCommit for a group with no members: the group committed 4 of the 6 records of partition 0.
    const admin = plain.admin();
    await admin.connect();
    try {
      await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: "4" }] });
    } finally {
      await admin.disconnect();
    }

    const [info] = await describeTopics(connection, [topic, `${topic}-missing`]);
    expect(info?.partitions).toEqual([
      { partition: 0, low: 0, high: 6 },
      { partition: 1, low: 0, high: 4 },
    ]);
    expect(info?.consumerGroups).toEqual([
      {
        groupId,
        partitions: [
          { partition: 0, committed: 4, lag: 2 },
          { partition: 1, committed: null, lag: null },
        ],
        totalLag: 2,
      },
    ]);
    const all = await describeTopics(connection);
    expect(all.map((t) => t.name)).toContain(topic);
    expect(all.some((t) => t.name.startsWith("__"))).toBe(false);
  });

  it("deletes a topic, then reports not-found", async () => {
    const topic = resources.topic("admin-delete");
    await createTopic(connection, topic, { partitions: 1 });
    expect(await deleteTopic(connection, topic)).toBe("deleted");
    expect(await describeTopics(connection, [topic])).toEqual([]);
    expect(await deleteTopic(connection, topic)).toBe("not-found");
  });
});
