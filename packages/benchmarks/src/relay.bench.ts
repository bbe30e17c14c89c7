// Relay benchmark (issue 12): messages per second relayed in each direction through the built relay (a child
// process), against a raw pipe doing the same work with the same guarantees, in alternating legs of one run:
//   Kafka → RabbitMQ: raw kafkajs consumer + pipelined confirmed amqplib publishes (persistent, mandatory), the
//   offsets committed after the confirms;
//   RabbitMQ → Kafka: raw amqplib consumer (manual acks, the relay's prefetch) + batched kafkajs sends (acks=all,
//   idempotent), each message acked after Kafka's ack.
// Each leg preloads N framed events into its source and is timed from the moment they become readable until all N
// are counted at the destination. Then end-to-end latency at half the relay's measured rate (open loop).
//   npm run bench -- relay      (from the repository root: set-up, stack up, build, then this)
// Target: relay ≥ 0.7× raw in each direction.
import { randomUUID } from "node:crypto";
import { RegistrySerde } from "@kronos/contracts";
import { TokenRevokedEvent } from "@kronos/events-auth";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import type { ConsumeMessage } from "amqplib";
import type { IHeaders, Message } from "kafkajs";
import {
  Arrivals,
  alternateLegs,
  type Leg,
  medianRate,
  openLoop,
  percentile,
  publishConfirmed,
  TransactionalPreloader,
  trackReturns,
} from "./flow.js";
import { BenchHarness, stack } from "./harness.js";
import { median } from "./measure.js";
import { relayPlaces, startRelay } from "./relay-setup.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const COUNT = Number(argValue("--count") ?? process.env.BENCH_COUNT ?? 20_000);
const WARMUP = Math.max(500, Math.round(COUNT / 4));
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
/**
 * The relay's `RELAY_PREFETCH` (its default, or as `BENCH_RELAY_ENV` sets it): in flight per RabbitMQ source and per
 * Kafka partition; the raw pipes keep as many.
 */
const PREFETCH = Number(relayEnv().RELAY_PREFETCH ?? 256);
const LEG_TIMEOUT_MS = 120_000;
const RUN = `${process.pid}`;
const places = relayPlaces(RUN);
// What the relay computes for these records (the event's routing key template, the route's priority by severity).
const ROUTING_KEY = "alert.CRITICAL.billing";
const PRIORITY = 9;

/**
 * A message's id: its leg's tag, then the run (the relay dedupes on it, in the Redis window shared with earlier runs
 * of the benchmark), then its number.
 */
const idOf = (tag: string, n: number) => `${tag}:${RUN}-${n}`;

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const harness = new BenchHarness("relay benchmark", 15 * 60_000);
const started = performance.now();
const serde = new RegistrySerde({ url: stack.registryUrl, autoRegister: true });

// ---------------------------------------------------------------- data: real Confluent frames of the catalog's events

async function alertFrame(id: string, timestamp: Date): Promise<Buffer> {
  return serde.encode(CriticalAlertEvent, {
    meta: { eventId: randomUUID(), occurredAt: timestamp, producer: "gaia", correlationId: null, traceparent: null },
    alertId: randomUUID(),
    severity: "CRITICAL",
    sourceService: "billing",
    // The route dedupes on the fingerprint: one per message, or the relay would (rightly) drop them.
    fingerprint: id,
    title: "Error rate above 5%",
    description: "5xx ratio 7% over 5 minutes on the checkout service",
    labels: { rule: "error-rate", region: "eu" },
    raisedAt: timestamp,
    runbookUrl: null,
  });
}

async function revokedFrame(timestamp: Date): Promise<Buffer> {
  return serde.encode(TokenRevokedEvent, {
    meta: { eventId: randomUUID(), occurredAt: timestamp, producer: "auth", correlationId: null, traceparent: null },
    tokenId: randomUUID(),
    userId: randomUUID(),
    tokenType: "ACCESS",
    revokedBy: null,
    reason: "logout everywhere",
    expiresAt: timestamp,
  });
}

async function alertRecords(tag: string, count: number, timestampMs = Date.now()): Promise<Message[]> {
  const records: Message[] = [];
  for (let n = 0; n < count; n++) {
    const id = idOf(tag, n);
    records.push({
      key: id,
      value: await alertFrame(id, new Date(timestampMs)),
      timestamp: String(Math.round(timestampMs)),
      headers: {
        "message-id": id,
        "event-type": CriticalAlertEvent.name,
        "content-type": "application/vnd.kronos.avro",
      },
    });
  }
  return records;
}

// ---------------------------------------------------------------- brokers: set-up and the destinations' counters

const topics = [places.alerts, places.alertsRaw, places.audit];
const kafka = await harness.kafkaWithTopics(
  "kronos-bench-relay",
  // As the benchmark manifest declares them (the relay checks its topology at start).
  topics.map((topic) => ({
    topic,
    numPartitions: topic === places.audit ? 6 : 3,
    configEntries: [{ name: "retention.ms", value: "3600000" }],
  })),
  `kronos.bench.relay.${RUN}.`,
);

const amqp = await harness.amqplib();
const setup = await amqp.createChannel();
await setup.assertExchange(places.critical, "topic", { durable: true });
await setup.assertExchange(places.security, "fanout", { durable: true });
await setup.assertExchange(places.securityRaw, "fanout", { durable: true });
await setup.assertQueue(places.criticalSink, { durable: true });
await setup.bindQueue(places.criticalSink, places.critical, "#");
await setup.assertQueue(places.securityRawQueue, { durable: true, arguments: { "x-queue-type": "quorum" } });
await setup.bindQueue(places.securityRawQueue, places.securityRaw, "");
harness.onCleanup(async () => {
  const channel = await amqp.createChannel();
  const queues = [places.criticalSink, places.securityRawQueue, places.securityQueue];
  for (const queue of [...queues, `${places.securityQueue}.dlq`]) await channel.deleteQueue(queue).catch(() => {});
  const exchanges = [places.critical, places.security, places.securityRaw, `${places.securityQueue}.dlx`];
  for (const exchange of exchanges) await channel.deleteExchange(exchange).catch(() => {});
});

const arrivals = new Arrivals();
// Kafka → RabbitMQ arrivals: a consumer of the sink queue (no acks: it only counts).
const sink = await amqp.createChannel();
await sink.consume(places.criticalSink, (message) => arrivals.arrive(message?.properties.messageId), { noAck: true });
// RabbitMQ → Kafka arrivals: a group of the benchmark's own reading the audit topic.
const auditReader = kafka.consumer({ groupId: `kronos-bench-relay-audit-${RUN}`, maxWaitTimeInMs: 50 });
harness.onCleanup(() => auditReader.disconnect());
await auditReader.connect();
await auditReader.subscribe({ topics: [places.audit], fromBeginning: true });
const headerText = (headers: IHeaders | undefined, name: string) => headers?.[name]?.toString();
await auditReader.run({
  eachBatch: async ({ batch }) => {
    for (const message of batch.messages) arrivals.arrive(headerText(message.headers, "message-id"));
  },
});

const preloader = new TransactionalPreloader(kafka, `kronos-bench-relay-${RUN}`);
await preloader.connect();
harness.onCleanup(() => preloader.disconnect());

// ---------------------------------------------------------------- the raw pipes

/** Raw Kafka → RabbitMQ: eachBatch, PREFETCH records of a partition at once, committed after their confirms. */
async function rawKafkaToRabbit(): Promise<void> {
  const out = await amqp.createConfirmChannel();
  const returned = trackReturns(out);
  const consumer = kafka.consumer({
    groupId: `kronos-bench-relay-raw-${RUN}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 3000,
    maxWaitTimeInMs: 250,
  });
  harness.onCleanup(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: [places.alertsRaw], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      for (let next = 0; next < batch.messages.length; next += PREFETCH) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(next, next + PREFETCH);
        await Promise.all(
          chunk.map((message) => {
            const text = (name: string) => headerText(message.headers, name);
            return publishConfirmed(
              out,
              places.critical,
              ROUTING_KEY,
              message.value as Buffer,
              {
                persistent: true,
                mandatory: true,
                messageId: text("message-id") as string,
                type: text("event-type") as string,
                contentType: text("content-type") ?? "application/vnd.kronos.avro",
                timestamp: Math.floor(Number(message.timestamp) / 1000),
                priority: PRIORITY,
                headers: { "x-kronos-relay-kafka-timestamp": message.timestamp },
              },
              returned,
            );
          }),
        );
        const last = chunk[chunk.length - 1]?.offset as string;
        resolveOffset(last);
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() },
        ]);
        await heartbeat();
      }
    },
  });
  await joined;
}

/**
 * Raw RabbitMQ → Kafka: manual acks with PREFETCH unacked; what arrived while a send was in flight goes in the next
 * one (one batch in flight: kafkajs' idempotent producer), each message acked once Kafka acknowledged its batch.
 */
async function rawRabbitToKafka(): Promise<{ start(): Promise<void>; stop(): Promise<void> }> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  harness.onCleanup(() => producer.disconnect());
  const channel = await amqp.createChannel();
  await channel.prefetch(PREFETCH);
  let pending: ConsumeMessage[] = [];
  let sending = false;
  const flush = async () => {
    if (sending || pending.length === 0) return;
    sending = true;
    const batch = pending;
    pending = [];
    try {
      await producer.send({
        topic: places.audit,
        acks: -1,
        messages: batch.map((message) => ({
          key: message.properties.messageId as string,
          value: message.content,
          timestamp: String(message.properties.timestamp * 1000),
          headers: {
            "message-id": message.properties.messageId as string,
            "event-type": message.properties.type as string,
          },
        })),
      });
      for (const message of batch) channel.ack(message);
    } catch (error) {
      harness.failed(`raw RabbitMQ → Kafka send: ${String(error)}`);
      for (const message of batch) channel.nack(message, false, true);
    } finally {
      sending = false;
    }
    void flush();
  };
  let tag: string | undefined;
  return {
    start: async () => {
      ({ consumerTag: tag } = await channel.consume(places.securityRawQueue, (message) => {
        if (message === null) return;
        pending.push(message);
        setImmediate(() => void flush());
      }));
    },
    stop: async () => {
      if (tag !== undefined) await channel.cancel(tag);
      tag = undefined;
    },
  };
}

// ---------------------------------------------------------------- legs

const publisher = await amqp.createConfirmChannel();

async function preloadSecurity(exchange: string, tag: string, count: number, timestampMs = Date.now()) {
  for (let n = 0; n < count; n++) {
    publisher.publish(exchange, "", await revokedFrame(new Date(timestampMs)), {
      persistent: true,
      messageId: idOf(tag, n),
      type: TokenRevokedEvent.name,
      contentType: "application/vnd.kronos.avro",
      timestamp: Math.floor(timestampMs / 1000),
    });
    if (n % 2000 === 1999) await publisher.waitForConfirms();
  }
  await publisher.waitForConfirms();
}

console.log("Starting the relay as a child process (a copy of the manifest with two benchmark routes)...");
const { apiKey: adminKey, principalsFile } = harness.principal("admin");
const relay = await startRelay(harness, places, adminKey, principalsFile, relayEnv());
await rawKafkaToRabbit();
const rawToKafka = await rawRabbitToKafka();

/** `BENCH_RELAY_ENV='A=1 B=2'`: extra variables for the relay (for trying its settings). */
function relayEnv(): Record<string, string> {
  const pairs = (process.env.BENCH_RELAY_ENV ?? "").split(/\s+/).filter((pair) => pair.includes("="));
  return Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
}

/** CPU µs per message of the relay process and of this one (the raw pipes and the counting), by leg. */
const cpuPerMessage = new Map<string, { relay: number[]; bench: number[] }>();

/**
 * Times leg `name`: from `begin` (which makes its preload readable) until all `count` of `tag` arrived; records the
 * CPU each process used per message meanwhile.
 */
async function timeLeg(name: string, tag: string, count: number, begin: () => Promise<void>): Promise<number> {
  const relayBefore = relay.cpuMs();
  const benchBefore = process.cpuUsage();
  const start = performance.now();
  await begin();
  const end = await arrivals.waitFor(tag, count, LEG_TIMEOUT_MS);
  const bench = process.cpuUsage(benchBefore);
  const entry = cpuPerMessage.get(name) ?? { relay: [], bench: [] };
  entry.relay.push(((relay.cpuMs() - relayBefore) * 1000) / count);
  entry.bench.push((bench.user + bench.system) / count);
  cpuPerMessage.set(name, entry);
  return end - start;
}

const kafkaLeg = (name: string, topic: string): Leg => ({
  name,
  run: async (tag, count) => {
    await preloader.load(topic, await alertRecords(tag, count));
    return timeLeg(name, tag, count, () => preloader.commit());
  },
});

const rabbitLeg = (name: string, exchange: string, pause: () => Promise<void>, resume: () => Promise<void>): Leg => ({
  name,
  run: async (tag, count) => {
    await pause();
    await preloadSecurity(exchange, tag, count);
    return timeLeg(name, tag, count, resume);
  },
});

const toRabbit = [
  kafkaLeg("relay Kafka → RabbitMQ", places.alerts),
  kafkaLeg("raw Kafka → RabbitMQ", places.alertsRaw),
];
const toKafka = [
  rabbitLeg(
    "relay RabbitMQ → Kafka",
    places.security,
    () => relay.pause(places.toKafka),
    () => relay.resume(places.toKafka),
  ),
  rabbitLeg("raw RabbitMQ → Kafka", places.securityRaw, rawToKafka.stop, rawToKafka.start),
];

console.log(
  `${COUNT} messages a leg (warm-up ${WARMUP}), ${ROUNDS} rounds, legs alternating relay / raw; a leg is timed from ` +
    "the moment its preload becomes readable until all of it is counted at the destination",
);
let rates = new Map<string, number[]>();
const latencies: string[] = [];
try {
  console.log("\nKafka → RabbitMQ");
  const kafkaRates = await alternateLegs("kr", toRabbit, { rounds: ROUNDS, count: COUNT, warmup: WARMUP });
  console.log("\nRabbitMQ → Kafka");
  const rabbitRates = await alternateLegs("rk", toKafka, { rounds: ROUNDS, count: COUNT, warmup: WARMUP });
  rates = new Map([...kafkaRates, ...rabbitRates]);
  // Both RabbitMQ sources are consuming again: each leg ends with its resume.

  // ------------------------------------------------------------ latency at half the relay's rate, open loop
  const latencyProducer = kafka.producer();
  await latencyProducer.connect();
  harness.onCleanup(() => latencyProducer.disconnect());
  const plain = await amqp.createChannel();
  const measure = async (label: string, tag: string, rate: number, send: (ids: string[], dueMs: number) => void) => {
    const total = Math.max(100, Math.round(rate * LATENCY_SECONDS));
    const due = new Map<string, number>();
    arrivals.time(tag);
    await openLoop(total, rate, (first, count, dueMs) => {
      const ids = Array.from({ length: count }, (_, i) => idOf(tag, first + i));
      for (const [i, id] of ids.entries()) due.set(id, dueMs + (i * 1000) / rate);
      send(ids, dueMs);
    });
    await arrivals.waitFor(tag, total, LEG_TIMEOUT_MS);
    const ms = [...due].map(([id, dueMs]) => performance.timeOrigin + (arrivals.arrivedAt.get(id) ?? 0) - dueMs);
    latencies.push(
      `  ${label.padEnd(26)} ${String(Math.round(rate)).padStart(6)}/s × ${total}: p50 ${percentile(ms, 50).toFixed(1)} ms, p99 ${percentile(ms, 99).toFixed(1)} ms`,
    );
  };
  const kafkaSend = (topic: string) => (ids: string[], dueMs: number) => {
    void Promise.all(
      ids.map(async (id) => ({
        key: id,
        value: await alertFrame(id, new Date(dueMs)),
        timestamp: String(Math.round(dueMs)),
        headers: { "message-id": id, "event-type": CriticalAlertEvent.name },
      })),
    )
      .then((messages) => latencyProducer.send({ topic, acks: -1, messages }))
      .catch((error: unknown) => harness.failed(`latency send: ${String(error)}`));
  };
  const rabbitSend = (exchange: string) => (ids: string[], dueMs: number) => {
    void Promise.all(ids.map(() => revokedFrame(new Date(dueMs)))).then((frames) => {
      for (const [i, id] of ids.entries()) {
        plain.publish(exchange, "", frames[i] as Buffer, {
          persistent: true,
          messageId: id,
          type: TokenRevokedEvent.name,
          timestamp: Math.floor(dueMs / 1000),
        });
      }
    });
  };
  const toRabbitRate = medianRate(rates, "relay Kafka → RabbitMQ") / 2;
  const toKafkaRate = medianRate(rates, "relay RabbitMQ → Kafka") / 2;
  console.log(`\nLatency, open loop at half the relay's rate, ${LATENCY_SECONDS} s each...`);
  await measure("relay Kafka → RabbitMQ", "lkr0", toRabbitRate, kafkaSend(places.alerts));
  await measure("raw Kafka → RabbitMQ", "lkr1", toRabbitRate, kafkaSend(places.alertsRaw));
  await measure("relay RabbitMQ → Kafka", "lrk0", toKafkaRate, rabbitSend(places.security));
  await measure("raw RabbitMQ → Kafka", "lrk1", toKafkaRate, rabbitSend(places.securityRaw));
} finally {
  await harness.cleanup();
}

console.log("\nmessages/s (median of rounds)");
for (const [name, perRound] of rates) {
  console.log(`  ${name.padEnd(26)} ${Math.round(median(perRound)).toLocaleString("en-US").padStart(8)}`);
}
console.log("\nratios relay ÷ raw (median of per-round ratios)");
for (const [direction, target] of [
  ["Kafka → RabbitMQ", 0.7],
  ["RabbitMQ → Kafka", 0.7],
] as const) {
  const relayRates = rates.get(`relay ${direction}`) ?? [];
  const rawRates = rates.get(`raw ${direction}`) ?? [];
  const ratio = median(relayRates.map((rate, i) => rate / (rawRates[i] ?? Number.NaN)));
  console.log(
    `  ${direction.padEnd(26)} ${ratio.toFixed(2)}×  target ≥ ${target}×  ${ratio >= target ? "met" : "MISSED"}`,
  );
}
console.log("\nCPU µs per message during the legs (median of rounds; this process: the raw pipe, the counting)");
for (const [name, cpu] of cpuPerMessage) {
  console.log(
    `  ${name.padEnd(26)} relay ${median(cpu.relay).toFixed(0).padStart(5)}  this ${median(cpu.bench).toFixed(0).padStart(5)}`,
  );
}
console.log("\nend-to-end latency (source timestamp → arrival at a destination consumer)");
for (const line of latencies) console.log(line);
harness.printFailures("operations failed");
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
await harness.finish(harness.failures > 0 ? 1 : 0);
