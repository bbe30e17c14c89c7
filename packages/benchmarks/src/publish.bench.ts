// Gateway publish benchmark (issue #4): the gateway's POST /publish against the raw broker clients, RabbitMQ's
// management API, a plain Fastify echo route and the gateway with a null sink, side by side in one run, on the
// same payloads; prints ratios (the result) and messages/s (context).
//   npm run bench -- publish      (from the repository root: set-up, stack up, build, then this)
// Targets: serial gateway ≥ 0.8× the raw one-by-one client; concurrent gateway ≥ 5× the raw one-by-one client and
// ≥ 5× the management API (issue 4); null-sink gateway ≥ 0.75× the Fastify echo and `POST /publish/batch` (100 a
// request, 8 and 64 connections) ≥ 0.6× kafkajs batches of 100 and amqplib with 200 confirms in flight (issue 17).
// BENCH_ONLY=<regular expression> runs only the contenders it matches.
import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { LogEntryEvent } from "@kronos/events-log";
import { createKafkaClient } from "@kronos/transport/kafkajs";
import {
  BenchHarness,
  type HttpTarget,
  printRates,
  printRatios,
  type RatioRow,
  selected,
  stack,
  waitForOutput,
} from "./harness.js";
import { type Contender, medianRatio, runLanes } from "./measure.js";
import { benchAlertQueue, benchAlertValues, benchLogValues } from "./payloads.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TURN_MS = Number(process.env.BENCH_TURN_MS ?? 2000);
const MAX_PER_TURN = 100_000;
const CONCURRENCY = 64;
/** Messages in one `POST /publish/batch` and in one raw kafkajs batch. */
const BATCH = 100;
/** Connections of the smaller batch contender (each with one batch in flight). */
const BATCH_CONNECTIONS = 8;
const PAYLOADS = 2000;
const KAFKA_TOPIC = "kronos.log.entries";
const EXCHANGE = "kronos.gaia.critical";
// WARNING alerts: the manifest's notifications queue binds only CRITICAL and MAJOR, so only the benchmark queue
// (bound with "#", deleted at the end) receives these; RabbitMQ's mandatory flag needs one queue to route to.
const ROUTING_KEY = "alert.WARNING.bench";
const BENCH_QUEUE = `kronos.bench.publish.${process.pid}`;
const HARD_LIMIT_MS = 5 * 60_000;

const here = dirname(fileURLToPath(import.meta.url));
const management = new URL(stack.rabbitmqManagementUrl);
const managementAuth = `Basic ${Buffer.from(`${decodeURIComponent(management.username || "guest")}:${decodeURIComponent(management.password || "guest")}`).toString("base64")}`;
management.username = "";
management.password = "";

const harness = new BenchHarness("publish benchmark", HARD_LIMIT_MS);

// ---------------------------------------------------------------- payloads (the same for every contender)

const now = Date.now();
const logValues = benchLogValues(PAYLOADS, "bench.publish", now);
const alertValues = benchAlertValues(PAYLOADS, now);
// JSON.stringify turns the Dates into ISO strings, which the gateway reads back as timestamp-millis.
const logBodies = logValues.map((payload) => JSON.stringify({ topic: KAFKA_TOPIC, payload }));
const alertBodies = alertValues.map((payload) => JSON.stringify({ topic: EXCHANGE, payload }));
/** `POST /publish/batch` bodies: the same payloads, `BATCH` to a request. */
const batchBodiesOf = (topic: string, values: readonly unknown[]) =>
  Array.from({ length: PAYLOADS / BATCH }, (_, b) =>
    JSON.stringify({ messages: values.slice(b * BATCH, (b + 1) * BATCH).map((payload) => ({ topic, payload })) }),
  );
const logBatchBodies = batchBodiesOf(KAFKA_TOPIC, logValues);
const alertBatchBodies = batchBodiesOf(EXCHANGE, alertValues);

const serde = new RegistrySerde({ url: stack.registryUrl, autoRegister: true });
// One first, so the schema id is looked up (or registered) once rather than by 2000 racing calls.
await serde.encode(LogEntryEvent, logValues[0]);
await serde.encode(CriticalAlertEvent, alertValues[0]);
const logBytes = await Promise.all(logValues.map((value) => serde.encode(LogEntryEvent, value)));
const alertBytes = await Promise.all(alertValues.map((value) => serde.encode(CriticalAlertEvent, value)));
const at = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

// The headers the gateway sets, so the raw clients write comparable messages.
const kafkaHeaders = (i: number) => ({
  "message-id": randomUUID(),
  "event-type": LogEntryEvent.name,
  "content-type": "application/vnd.kronos.avro",
  "correlation-id": randomUUID(),
  producer: "bench",
  timestamp: String(now + i),
});

// ---------------------------------------------------------------- servers

const { apiKey, principalsFile } = harness.principal("produce:*");

/** The gateway, or with a null sink (`GATEWAY_BENCH_NULL_SINK=1`: acks at once, sends nothing). */
function startGateway(nullSink: boolean): Promise<string> {
  return harness.gateway(nullSink ? "null-sink gateway" : "gateway", principalsFile, {
    GATEWAY_BENCH_NULL_SINK: nullSink ? "1" : "0",
  });
}

async function startEcho(): Promise<string> {
  const child = harness.startChild("echo server", ["--import", "tsx", join(here, "echo-server.ts")], process.env, here);
  const [, port] = await waitForOutput(child, /"port":(\d+)/, "echo server");
  const origin = `http://127.0.0.1:${port}`;
  harness.server(origin, child.pid);
  return origin;
}

// ---------------------------------------------------------------- brokers (raw clients and the benchmark queue)

const amqpConnection = await harness.amqplib();
await benchAlertQueue(harness, amqpConnection, BENCH_QUEUE);
const confirmChannel = await amqpConnection.createConfirmChannel();
confirmChannel.on("return", (message: { fields: { routingKey: string } }) => {
  harness.failed(`amqplib: returned unroutable (${message.fields.routingKey})`);
});

// Made as the transport makes its clients (timeouts, logging), with kafkajs' own retries for the set-up.
const kafka = createKafkaClient({
  clientId: "kronos-bench",
  brokers: stack.kafkaBrokers.split(","),
  retry: { retries: 5 },
});
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
harness.onCleanup(() => producer.disconnect());

// ---------------------------------------------------------------- contenders

function kafkaOneByOne(): Contender {
  let next = 0;
  return {
    name: "kafkajs one by one",
    async run(until, max) {
      let done = 0;
      while (done < max && performance.now() < until) {
        const i = next++;
        await producer.send({
          topic: KAFKA_TOPIC,
          acks: -1,
          messages: [{ key: null, value: at(logBytes, i), headers: kafkaHeaders(i) }],
        });
        done++;
      }
      return done;
    },
  };
}

function kafkaBatches(size: number): Contender {
  let next = 0;
  return {
    name: `kafkajs batches of ${size}`,
    async run(until, max) {
      let done = 0;
      while (done < max && performance.now() < until) {
        const messages = Array.from({ length: size }, () => {
          const i = next++;
          return { key: null, value: at(logBytes, i), headers: kafkaHeaders(i) };
        });
        await producer.send({ topic: KAFKA_TOPIC, acks: -1, messages });
        done += size;
      }
      return done;
    },
  };
}

function amqpPublish(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    confirmChannel.publish(
      EXCHANGE,
      ROUTING_KEY,
      at(alertBytes, i),
      {
        persistent: true,
        mandatory: true,
        messageId: randomUUID(),
        contentType: "application/vnd.kronos.avro",
        correlationId: randomUUID(),
        type: CriticalAlertEvent.name,
        timestamp: Math.floor(now / 1000),
        headers: { "event-type": CriticalAlertEvent.name, producer: "bench", timestamp: String(now) },
      },
      (error: unknown) => (error ? reject(error) : resolve()),
    );
  });
}

/** `window` unconfirmed messages at most (1: await each confirm before the next publish). */
function amqpWindow(window: number): Contender {
  let next = 0;
  return {
    name: window === 1 ? "amqplib one by one" : `amqplib window ${window}`,
    run: (until, max) =>
      runLanes(window, until, max, async () => {
        await amqpPublish(next++);
        return true;
      }),
  };
}

// ---------------------------------------------------------------- run

const started = performance.now();
console.log("Starting the gateway, the null-sink gateway and the Fastify echo server as child processes...");
const [gateway, nullSinkGateway, echo] = await Promise.all([startGateway(false), startGateway(true), startEcho()]);

const auth = { "content-type": "application/json", "x-api-key": apiKey };
const gatewayKafka: HttpTarget = { origin: gateway, path: "/publish", headers: auth, bodies: logBodies, expect: 202 };
const gatewayRabbit: HttpTarget = { ...gatewayKafka, bodies: alertBodies };
const batchKafka: HttpTarget = {
  ...gatewayKafka,
  path: "/publish/batch",
  bodies: logBatchBodies,
  messagesPerRequest: BATCH,
};
const batchRabbit: HttpTarget = { ...batchKafka, bodies: alertBatchBodies };
const nullSink: HttpTarget = { ...gatewayKafka, origin: nullSinkGateway };
const echoTarget: HttpTarget = {
  origin: echo,
  path: "/echo",
  headers: { "content-type": "application/json" },
  bodies: logBodies,
  expect: 202,
};
const managementTarget: HttpTarget = {
  origin: management.origin,
  path: `/api/exchanges/${encodeURIComponent("/")}/${EXCHANGE}/publish`,
  headers: { "content-type": "application/json", authorization: managementAuth },
  bodies: alertBytes.map((bytes) =>
    JSON.stringify({
      properties: { delivery_mode: 2, content_type: "application/vnd.kronos.avro", type: CriticalAlertEvent.name },
      routing_key: ROUTING_KEY,
      payload: bytes.toString("base64"),
      payload_encoding: "base64",
    }),
  ),
  expect: 200,
};

const C = `${CONCURRENCY} conn`;
const B8 = `batches of ${BATCH}, ${BATCH_CONNECTIONS} conn`;
const B64 = `batches of ${BATCH}, ${C}`;
const contenders: Contender[] = selected([
  harness.httpContender("gateway kafka, 1 conn", gatewayKafka, 1),
  kafkaOneByOne(),
  harness.httpContender(`gateway kafka, ${C}`, gatewayKafka, CONCURRENCY),
  kafkaBatches(BATCH),
  harness.httpContender(`gateway kafka ${B8}`, batchKafka, BATCH_CONNECTIONS),
  harness.httpContender(`gateway kafka ${B64}`, batchKafka, CONCURRENCY),
  harness.httpContender("gateway rabbitmq, 1 conn", gatewayRabbit, 1),
  amqpWindow(1),
  harness.httpContender(`gateway rabbitmq, ${C}`, gatewayRabbit, CONCURRENCY),
  amqpWindow(200),
  harness.httpContender(`gateway rabbitmq ${B8}`, batchRabbit, BATCH_CONNECTIONS),
  harness.httpContender(`gateway rabbitmq ${B64}`, batchRabbit, CONCURRENCY),
  // As many unconfirmed as the 64 connections can have: the most the gateway's confirms can overlap.
  amqpWindow(CONCURRENCY),
  harness.httpContender("management API, 1 conn", managementTarget, 1),
  harness.httpContender(`management API, ${C}`, managementTarget, CONCURRENCY),
  harness.httpContender("fastify echo, 1 conn", echoTarget, 1),
  harness.httpContender("null-sink gateway, 1 conn", nullSink, 1),
  harness.httpContender(`fastify echo, ${C}`, echoTarget, CONCURRENCY),
  harness.httpContender(`null-sink gateway, ${C}`, nullSink, CONCURRENCY),
]);

console.log(
  `${contenders.length} contenders, ${ROUNDS} rounds (+1 warm-up) of ${TURN_MS / 1000} s turns each, in the same order ` +
    `every round; ${PAYLOADS} distinct payloads per destination (LogEntry → ${KAFKA_TOPIC}, ` +
    `CriticalAlert → ${EXCHANGE} "${ROUTING_KEY}")`,
);
const results = await harness.runRounds(
  contenders,
  { rounds: ROUNDS, turnMs: TURN_MS, maxPerTurn: MAX_PER_TURN },
  started,
);

const rate = (name: string) => results.get(name) ?? [];
printRates(contenders, rate);

const rows: RatioRow[] = [
  { label: "serial gateway ÷ raw one-by-one", a: "gateway kafka, 1 conn", b: "kafkajs one by one", target: 0.8 },
  { label: "", a: "gateway rabbitmq, 1 conn", b: "amqplib one by one", target: 0.8 },
  { label: "concurrent gateway ÷ raw one-by-one", a: `gateway kafka, ${C}`, b: "kafkajs one by one", target: 5 },
  { label: "", a: `gateway rabbitmq, ${C}`, b: "amqplib one by one", target: 5 },
  { label: "concurrent gateway ÷ management API", a: `gateway rabbitmq, ${C}`, b: `management API, ${C}`, target: 5 },
  { label: "", a: `gateway rabbitmq, ${C}`, b: "management API, 1 conn", target: 5 },
  {
    label: "null-sink gateway ÷ Fastify echo",
    a: "null-sink gateway, 1 conn",
    b: "fastify echo, 1 conn",
    target: 0.75,
  },
  { label: "", a: `null-sink gateway, ${C}`, b: `fastify echo, ${C}`, target: 0.75 },
  {
    label: "/publish/batch ÷ raw batched client",
    a: `gateway kafka ${B8}`,
    b: `kafkajs batches of ${BATCH}`,
    target: 0.6,
  },
  { label: "", a: `gateway kafka ${B64}`, b: `kafkajs batches of ${BATCH}`, target: 0.6 },
  { label: "", a: `gateway rabbitmq ${B8}`, b: "amqplib window 200", target: 0.6 },
  { label: "", a: `gateway rabbitmq ${B64}`, b: "amqplib window 200", target: 0.6 },
  {
    label: "(context) gateway ÷ raw best",
    a: `gateway kafka, ${C}`,
    b: `kafkajs batches of ${BATCH}`,
    target: Number.NaN,
  },
  { label: "", a: `gateway rabbitmq, ${C}`, b: "amqplib window 200", target: Number.NaN },
  {
    label: "(context) same confirms in flight",
    a: `gateway rabbitmq, ${C}`,
    b: `amqplib window ${CONCURRENCY}`,
    target: Number.NaN,
  },
];
printRatios(rows, (a, b) => medianRatio(rate(a), rate(b)));
harness.printServerCpu();
harness.printFailures("requests did not get the expected status");
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
await harness.finish(harness.failures > 0 ? 1 : 0);
