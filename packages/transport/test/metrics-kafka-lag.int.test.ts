import { TestResources, testEndpoints } from "@kronos/testkit";
import { Kafka, logLevel } from "kafkajs";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKafkaConnection,
  createTopic,
  deleteTopic,
  KAFKA_CONSUMER_LAG,
  type KafkaConnection,
  registerKafkaLagMetrics,
} from "../src/index.js";
import { eventually } from "./rabbitmq-management.js";
import { expectScrapeDespiteHang, recordingLogger, scrape, silentServer } from "./scrape.js";

const resources = new TestResources();
const brokers = testEndpoints().kafkaBrokers.split(",");
const connection: KafkaConnection = createKafkaConnection({ brokers, clientId: "transport-lag-metrics-test" });
// A plain client, for producing and committing: the collector is checked against what it did.
const plain = new Kafka({ brokers, clientId: "transport-lag-metrics-test-plain", logLevel: logLevel.NOTHING });
const topic = resources.topic("lag-metrics");
const group = `${topic}-group`;
const idle = `${topic}-idle`;
const admin = plain.admin();

const series = (partition: number) => `{group="${group}",topic="${topic}",partition="${partition}"}`;

beforeAll(async () => {
  await createTopic(connection, topic, { partitions: 3 });
  const producer = plain.producer();
  await producer.connect();
  try {
    const records = (partition: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ value: `m${i}`, partition }));
    await producer.send({ topic, acks: -1, messages: [...records(0, 6), ...records(1, 4), ...records(2, 1)] });
  } finally {
    await producer.disconnect();
  }
  // OffsetCommits for a group with no members: 4 of 6 consumed on partition 0, 1 of 4 on partition 1, none on 2.
  await admin.connect();
  await admin.setOffsets({
    groupId: group,
    topic,
    partitions: [
      { partition: 0, offset: "4" },
      { partition: 1, offset: "1" },
    ],
  });
});

afterAll(async () => {
  await admin.deleteGroups([group]).catch(() => {});
  await admin.disconnect();
  await connection.close();
  await resources.cleanup();
});

describe("kronos_kafka_consumer_lag (real Kafka)", () => {
  it("reports end offset minus committed offset per partition a group committed on, on scrape", async () => {
    const registry = new Registry();
    registerKafkaLagMetrics(connection, { registry, groups: [group, idle] });
    const lag = await scrape(registry, KAFKA_CONSUMER_LAG);
    // Partition 2 has no committed offset and the idle group committed nothing: no series for them.
    expect(lag).toEqual(
      new Map([
        [series(0), 2],
        [series(1), 3],
      ]),
    );

    // The group consumes further: the next scrape reads afresh.
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: "6" }] });
    expect((await scrape(registry, KAFKA_CONSUMER_LAG)).get(series(0))).toBe(0);
  });

  it("leaves out a topic deleted since the group committed on it", async () => {
    const gone = resources.topic("lag-metrics-gone");
    await createTopic(connection, gone, { partitions: 1 });
    await admin.setOffsets({ groupId: group, topic: gone, partitions: [{ partition: 0, offset: "0" }] });
    await deleteTopic(connection, gone);
    const registry = new Registry();
    registerKafkaLagMetrics(connection, { registry, groups: [group] });
    // Kafka finishes a deletion in the background: a read racing it fails once, and the next one succeeds.
    const lag = await eventually(async () => {
      const found = await scrape(registry, KAFKA_CONSUMER_LAG);
      expect(found.get(series(1))).toBe(3);
      return found;
    });
    expect([...lag.keys()].filter((labels) => labels.includes(gone))).toEqual([]);
  });

  it("asks for the groups at every scrape when given a function", async () => {
    const registry = new Registry();
    let groups: string[] = [];
    registerKafkaLagMetrics(connection, { registry, groups: () => groups });
    expect(await scrape(registry, KAFKA_CONSUMER_LAG)).toEqual(new Map());
    groups = [group];
    expect((await scrape(registry, KAFKA_CONSUMER_LAG)).get(series(1))).toBe(3);
  });

  it("keeps the last values and logs when a read fails, without failing the scrape", async () => {
    const registry = new Registry();
    const logger = recordingLogger();
    let calls = 0;
    registerKafkaLagMetrics(connection, {
      registry,
      logger,
      groups: () => {
        calls += 1;
        if (calls > 1) throw new Error("groups unavailable");
        return [group];
      },
    });
    const first = await scrape(registry, KAFKA_CONSUMER_LAG);
    expect(first.get(series(1))).toBe(3);
    expect(await scrape(registry, KAFKA_CONSUMER_LAG)).toEqual(first);
    expect(logger.warnings).toEqual([`${KAFKA_CONSUMER_LAG}: read failed, kept last values`]);
  });

  it("answers the scrape within the time limit when Kafka does not answer", async () => {
    const silent = await silentServer();
    const hanging = createKafkaConnection({ brokers: [`127.0.0.1:${silent.port}`], clientId: "transport-lag-hang" });
    try {
      const registry = new Registry();
      const logger = recordingLogger();
      registerKafkaLagMetrics(hanging, { registry, groups: [group], timeoutMs: 300, logger });
      await expectScrapeDespiteHang(registry, KAFKA_CONSUMER_LAG, logger);
    } finally {
      await hanging.close();
      await silent.close();
    }
  });
});
