// One table of consume scenarios, run against BOTH real brokers through createKafkaSubscription and
// createAmqpSubscription: the same deliveries (attempt, redelivered), the same dead letter read back RAW from the
// dead-letter topic or queue (reason, error code, error, attempts, the x-kronos-dl-* header set), and the same
// consumer metrics. The consume policy is one module; this is what proves the two adapters follow it alike.
import { testEndpoints, uniqueName } from "@kronos/testkit";
import { type Channel, type ChannelModel, connect, type GetMessage } from "amqplib";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AmqpConnectionManager,
  type AmqpPublisher,
  CONSUME_METRIC_NAMES,
  createAmqpPublisher,
  createAmqpSubscription,
  createConsumeMetrics,
  createKafkaConnection,
  createKafkaPublisher,
  createKafkaSubscription,
  createTopic,
  DEAD_LETTER_HEADERS,
  type Delivery,
  deadLetterExchangeName,
  deadLetterQueueName,
  declareQueue,
  type KafkaConnection,
  type KafkaPublisher,
  RabbitManagementClient,
  readDeadLetter,
  retryQueueName,
  type Subscription,
} from "../src/index.js";
import { readBack } from "./kafka-read-back.js";
import { eventually } from "./rabbitmq-management.js";

type Broker = "kafka" | "rabbitmq";

/** What the handler does with the n-th delivery of the scenario's message. */
type Step =
  | { readonly do: "ack" }
  | { readonly do: "retry"; readonly reason: string }
  | {
      readonly do: "deadLetter";
      readonly reason: "rejected" | "decode-failed";
      readonly code: string;
      readonly message: string;
    }
  | { readonly do: "hold" }
  | { readonly do: "throw"; readonly message: string };

interface Scenario {
  readonly name: string;
  readonly maxAttempts: number;
  readonly leaseMs?: number;
  readonly steps: readonly Step[];
  /** The deliveries the handler sees, as [attempt, redelivered]. */
  readonly deliveries: ReadonlyArray<readonly [number, boolean]>;
  /** The dead letter it ends as, or none (then the dead letters stay empty). */
  readonly deadLetter?: { reason: string; errorCode: string; error: string; attempts: number };
  /** Settlements by outcome, retry copies written, dead letters written. */
  readonly metrics: { ack: number; retry: number; dead_letter: number; released: number };
}

const TIERS = [200, 400];

const SCENARIOS: readonly Scenario[] = [
  {
    name: "ack",
    maxAttempts: 3,
    steps: [{ do: "ack" }],
    deliveries: [[1, false]],
    metrics: { ack: 1, retry: 0, dead_letter: 0, released: 0 },
  },
  {
    name: "retry ×2, then ack",
    maxAttempts: 3,
    steps: [{ do: "retry", reason: "busy 1" }, { do: "retry", reason: "busy 2" }, { do: "ack" }],
    deliveries: [
      [1, false],
      [2, false],
      [3, false],
    ],
    metrics: { ack: 1, retry: 2, dead_letter: 0, released: 0 },
  },
  {
    name: "reject",
    maxAttempts: 3,
    steps: [{ do: "deadLetter", reason: "rejected", code: "REJECTED", message: "refused by the consumer" }],
    deliveries: [[1, false]],
    deadLetter: { reason: "rejected", errorCode: "REJECTED", error: "refused by the consumer", attempts: 1 },
    metrics: { ack: 0, retry: 0, dead_letter: 1, released: 0 },
  },
  {
    name: "decode failure after a retry",
    maxAttempts: 3,
    steps: [
      { do: "retry", reason: "registry down" },
      { do: "deadLetter", reason: "decode-failed", code: "DECODE_FAILED", message: "unknown schema id 99" },
    ],
    deliveries: [
      [1, false],
      [2, false],
    ],
    deadLetter: { reason: "decode-failed", errorCode: "DECODE_FAILED", error: "unknown schema id 99", attempts: 2 },
    metrics: { ack: 0, retry: 1, dead_letter: 1, released: 0 },
  },
  {
    name: "lease expiry: given back without counting an attempt, then rejected",
    maxAttempts: 3,
    leaseMs: 300,
    steps: [{ do: "hold" }, { do: "deadLetter", reason: "rejected", code: "REJECTED", message: "no" }],
    deliveries: [
      [1, false],
      [1, true],
    ],
    deadLetter: { reason: "rejected", errorCode: "REJECTED", error: "no", attempts: 1 },
    metrics: { ack: 0, retry: 0, dead_letter: 1, released: 1 },
  },
  {
    name: "max attempts",
    maxAttempts: 3,
    steps: [
      { do: "retry", reason: "fail 1" },
      { do: "retry", reason: "fail 2" },
      { do: "retry", reason: "fail 3" },
    ],
    deliveries: [
      [1, false],
      [2, false],
      [3, false],
    ],
    deadLetter: { reason: "max-attempts", errorCode: "CLIENT_RETRY", error: "fail 3", attempts: 3 },
    metrics: { ack: 0, retry: 2, dead_letter: 1, released: 0 },
  },
  {
    name: "a handler that keeps throwing",
    maxAttempts: 2,
    steps: [
      { do: "throw", message: "boom 1" },
      { do: "throw", message: "boom 2" },
    ],
    deliveries: [
      [1, false],
      [2, false],
    ],
    deadLetter: { reason: "max-attempts", errorCode: "HANDLER_FAILED", error: "handler failed: boom 2", attempts: 2 },
    metrics: { ack: 0, retry: 1, dead_letter: 1, released: 0 },
  },
];

/** The x-kronos-dl-* headers every dead letter carries on both brokers, and those only one broker has. */
const COMMON_DL_HEADERS = Object.values(DEAD_LETTER_HEADERS)
  .filter((name) => !/-(partition|offset|queue|routing-key)$/.test(name))
  .sort();
const BROKER_DL_HEADERS: Record<Broker, string[]> = {
  kafka: [DEAD_LETTER_HEADERS.partition, DEAD_LETTER_HEADERS.offset],
  rabbitmq: [DEAD_LETTER_HEADERS.queue, DEAD_LETTER_HEADERS.routingKey],
};

const BODY = Buffer.from([0, 0, 0, 0, 42, 0x02, 0xff]);
const HEADERS = { "event-type": "kronos.test.PolicyChecked", producer: "svc-policy" };

const endpoints = testEndpoints();
const brokers = endpoints.kafkaBrokers.split(",");
const kafka = new Kafka({ clientId: "transport-policy-test", brokers, logLevel: logLevel.NOTHING });
const manager = new AmqpConnectionManager({ url: endpoints.rabbitmqUrl, name: `transport-policy-test-${process.pid}` });
const management = new RabbitManagementClient({ url: endpoints.rabbitmqManagementUrl });
let admin: Admin;
let connection: KafkaConnection;
let kafkaPublisher: KafkaPublisher;
let amqpPublisher: AmqpPublisher;
let plain: ChannelModel;
let channel: Channel;
const topics: string[] = [];
const queues: string[] = [];
const exchanges: string[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  connection = createKafkaConnection({ brokers, clientId: "transport-policy-test" });
  kafkaPublisher = createKafkaPublisher(connection);
  manager.start();
  expect(await manager.waitForConnection(15_000)).toBe(true);
  amqpPublisher = createAmqpPublisher(manager);
  plain = await connect(endpoints.rabbitmqUrl);
  plain.on("error", () => {});
  channel = await plain.createChannel();
  channel.on("error", () => {});
});

afterAll(async () => {
  const existing = new Set(await admin.listTopics());
  const doomed = topics.filter((topic) => existing.has(topic));
  if (doomed.length > 0) await admin.deleteTopics({ topics: doomed }).catch(() => {});
  await admin.disconnect();
  await kafkaPublisher.close();
  await connection.close();
  for (const queue of queues) await channel.deleteQueue(queue).catch(() => {});
  for (const exchange of exchanges) await channel.deleteExchange(exchange).catch(() => {});
  await plain.close().catch(() => {});
  await amqpPublisher.close();
  await manager.close();
});

/** One scenario's source on one broker: subscribe, publish the message, read back what landed where. */
interface Source {
  subscribe(scenario: Scenario, registry: Registry, handler: (delivery: Delivery) => void): Subscription;
  publish(): Promise<void>;
  /** The dead letter read back raw: its body and its headers as text. */
  deadLetter(): Promise<{ body: Buffer; headers: Record<string, string> }>;
  /** How many dead letters are there (after the scenario settled). */
  deadLetterCount(): Promise<number>;
  /** The destination label of its dead letters. */
  readonly deadLetterDestination: string;
}

/** The options both brokers' subscriptions take alike: the scenario's policy, and metrics into `registry`. */
function policyOptions(scenario: Scenario, registry: Registry) {
  return {
    consumerName: "policy-test",
    maxAttempts: scenario.maxAttempts,
    retryTiersMs: TIERS,
    ...(scenario.leaseMs === undefined ? {} : { leaseMs: scenario.leaseMs }),
    metrics: createConsumeMetrics(registry),
  };
}

async function kafkaSource(): Promise<Source> {
  const topic = uniqueName("policy");
  const dlq = `${topic}.dlq`;
  topics.push(topic, dlq, ...TIERS.map((tier) => `${topic}.retry.${tier}`));
  await createTopic(connection, topic, { partitions: 1 });
  return {
    deadLetterDestination: dlq,
    subscribe: (scenario, registry, handler) =>
      createKafkaSubscription(
        connection,
        {
          topic,
          groupId: `${topic}-g`,
          from: "earliest",
          maxInFlight: 10,
          ...policyOptions(scenario, registry),
        },
        handler,
      ),
    publish: async () => {
      await kafkaPublisher.publish({ topic, key: "k-1", value: BODY, headers: { ...HEADERS, "message-id": "m-1" } });
    },
    deadLetter: async () => {
      const [record] = await readBack(kafka, dlq, 1, 15_000);
      return { body: record?.value ?? Buffer.alloc(0), headers: record?.headers ?? {} };
    },
    deadLetterCount: async () => {
      if (!(await admin.listTopics()).includes(dlq)) return 0;
      const offsets = await admin.fetchTopicOffsets(dlq);
      return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    },
  };
}

async function rabbitSource(): Promise<Source> {
  const queue = uniqueName("policy");
  queues.push(queue, deadLetterQueueName(queue), ...TIERS.map((tier) => retryQueueName(queue, tier)));
  exchanges.push(deadLetterExchangeName(queue));
  await declareQueue(manager, queue, { deadLetter: true });
  const dlq = deadLetterQueueName(queue);
  return {
    deadLetterDestination: deadLetterExchangeName(queue),
    subscribe: (scenario, registry, handler) =>
      createAmqpSubscription(
        manager,
        {
          queue,
          prefetch: 10,
          management,
          ...policyOptions(scenario, registry),
        },
        handler,
      ),
    publish: () =>
      amqpPublisher.publish({
        exchange: "",
        routingKey: queue,
        content: BODY,
        messageId: "m-1",
        type: HEADERS["event-type"],
        headers: { producer: HEADERS.producer },
      }),
    deadLetter: async () => {
      const got = await eventually(async () => {
        const message: GetMessage | false = await channel.get(dlq, { noAck: true });
        if (message === false) throw new Error(`nothing in ${dlq} yet`);
        return message;
      }, 15_000);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(got.properties.headers ?? {})) {
        headers[name] = Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
      }
      if (got.properties.messageId !== undefined) headers["message-id"] = String(got.properties.messageId);
      if (got.properties.type !== undefined) headers["event-type"] = String(got.properties.type);
      return { body: got.content, headers };
    },
    deadLetterCount: async () => (await channel.checkQueue(dlq)).messageCount,
  };
}

async function metricValue(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

/**
 * Runs `scenario` on `source`: the handler follows its steps, one per delivery; resolves with the deliveries seen
 * once every settlement the scenario expects is recorded (a retry or dead letter only once its copy is confirmed).
 */
async function run(scenario: Scenario, source: Source, registry: Registry): Promise<Array<readonly [number, boolean]>> {
  const seen: Array<readonly [number, boolean]> = [];
  const subscription = source.subscribe(scenario, registry, (delivery) => {
    const index = seen.length;
    seen.push([delivery.attempt, delivery.redelivered]);
    const step = scenario.steps[index];
    switch (step?.do) {
      case "ack":
        return delivery.ack();
      case "retry":
        return delivery.retry({ delayMs: 0, reason: step.reason }).then(() => {});
      case "deadLetter":
        return delivery.deadLetter(step.reason, { code: step.code, message: step.message });
      case "hold":
        return;
      case "throw":
        throw new Error(step.message);
      default:
        throw new Error(
          `unexpected delivery ${index + 1}: ${JSON.stringify([delivery.attempt, delivery.redelivered])}`,
        );
    }
  });
  const expected = Object.values(scenario.metrics).reduce((sum, n) => sum + n, 0);
  try {
    await subscription.ready;
    await source.publish();
    await eventually(async () => {
      expect(await metricValue(registry, CONSUME_METRIC_NAMES.settlements)).toBe(expected);
    }, 20_000);
    return seen;
  } finally {
    await subscription.close();
  }
}

describe.each<[Broker, () => Promise<Source>]>([
  ["kafka", kafkaSource],
  ["rabbitmq", rabbitSource],
])("the consume policy on %s (real broker)", (broker, makeSource) => {
  it.concurrent.each(SCENARIOS.map((scenario) => [scenario.name, scenario] as const))(
    "%s",
    async (_, scenario) => {
      const source = await makeSource();
      const registry = new Registry();
      const seen = await run(scenario, source, registry);
      expect(seen).toEqual(scenario.deliveries);

      const count = (name: string, extra: Record<string, string> = {}) =>
        metricValue(registry, name, { broker, ...extra });
      expect(await count(CONSUME_METRIC_NAMES.deliveries)).toBe(scenario.deliveries.length);
      for (const outcome of ["ack", "retry", "dead_letter", "released"] as const) {
        expect(await count(CONSUME_METRIC_NAMES.settlements, { outcome }), outcome).toBe(scenario.metrics[outcome]);
      }
      expect(await count(CONSUME_METRIC_NAMES.retries)).toBe(scenario.metrics.retry);
      expect(await count(CONSUME_METRIC_NAMES.inFlight)).toBe(0);

      const expected = scenario.deadLetter;
      if (expected === undefined) {
        expect(await source.deadLetterCount()).toBe(0);
        expect(await count(CONSUME_METRIC_NAMES.deadLetters)).toBe(0);
        return;
      }
      expect(
        await count(CONSUME_METRIC_NAMES.deadLetters, {
          destination: source.deadLetterDestination,
          reason: expected.reason,
        }),
      ).toBe(1);
      const letter = await source.deadLetter();
      expect(letter.body).toEqual(BODY);
      const h = letter.headers;
      expect({
        reason: h[DEAD_LETTER_HEADERS.reason],
        errorCode: h[DEAD_LETTER_HEADERS.errorCode],
        error: h[DEAD_LETTER_HEADERS.error],
        attempts: Number(h[DEAD_LETTER_HEADERS.attempts]),
      }).toEqual(expected);
      expect(h).toMatchObject({
        [DEAD_LETTER_HEADERS.broker]: broker,
        [DEAD_LETTER_HEADERS.eventType]: HEADERS["event-type"],
        [DEAD_LETTER_HEADERS.producer]: HEADERS.producer,
        [DEAD_LETTER_HEADERS.consumer]: broker === "kafka" ? expect.stringMatching(/-g$/) : "policy-test",
      });
      const dlHeaders = Object.keys(h)
        .filter((name) => name.startsWith("x-kronos-dl-"))
        .sort();
      expect(dlHeaders).toEqual([...COMMON_DL_HEADERS, ...BROKER_DL_HEADERS[broker]].sort());
      expect(readDeadLetter(h)).toMatchObject({ writer: "kronos", broker, messageId: "m-1", ...expected });
    },
    30_000,
  );
});
