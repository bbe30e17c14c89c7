// Gateway subscribe benchmark (issue #5): messages delivered AND acknowledged per second, the gateway's SSE
// subscription with one HTTP ack per message against the raw clients on the same data, side by side in one run:
// a raw amqplib consumer with prefetch 200 (ack per message) and a raw kafkajs consumer (eachBatch).
//   npm run bench -- subscribe      (from the repository root: set-up, stack up, build, then this)
// Target: the gateway ≥ 0.3× the raw consumers (issue 5). Issue 17: the same subscriptions settled in bulk,
// `POST /settle` every BENCH_SETTLE_EVERY deliveries (and at least every 10 ms) and, on Kafka, `POST
// /ack-through/<handle>` of the last delivery of each partition as often: ≥ 0.3× raw kafkajs, ≥ 0.7× raw amqplib.
// Those rows are skipped, saying so, when the gateway answers the route with 404 NOT_FOUND (not built in).
import { randomUUID } from "node:crypto";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { LogEntryEvent } from "@kronos/events-log";
import { createKafkaClient } from "@kronos/transport/kafkajs";
import type { ConsumeMessage } from "amqplib";
import { Pool } from "undici";
import { BenchHarness, printRates, printRatios, type RatioRow, stack } from "./harness.js";
import { type Contender, medianRatio } from "./measure.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TURN_MS = Number(process.env.BENCH_TURN_MS ?? 2000);
const MAX_PER_TURN = Number(process.env.BENCH_MAX_PER_TURN ?? 20_000);
const PREFETCH = 200;
/** The prefetch of the context row that settles in bulk with more deliveries outstanding (Kafka). */
const WIDE_PREFETCH = 1000;
/** Connections the SSE client acks over (each ack is one POST /ack). */
const ACK_CONNECTIONS = 32;
/** Deliveries settled by one bulk request (`POST /settle` items; deliveries between two `POST /ack-through`s). */
const SETTLE_EVERY = Number(process.env.BENCH_SETTLE_EVERY ?? 100);
/** Longest a delivery waits for its bulk settlement, in ms (a flush of what is pending even if under SETTLE_EVERY). */
const SETTLE_FLUSH_MS = 10;
/** Connections the bulk settlements go over. */
const SETTLE_CONNECTIONS = 4;
const HARD_LIMIT_MS = 6 * 60_000;
const RUN = `${process.pid}`;
const RAW_QUEUE = `kronos.bench.subscribe.raw.${RUN}`;
const GATEWAY_QUEUE = `kronos.bench.subscribe.gateway.${RUN}`;
const BULK_QUEUE = `kronos.bench.subscribe.bulk.${RUN}`;
const TOPIC = `kronos.bench.subscribe.${RUN}`;
// Every contender may consume up to MAX_PER_TURN in each of its turns (warm-up included).
const PER_SOURCE = (ROUNDS + 1) * MAX_PER_TURN + WIDE_PREFETCH;

const harness = new BenchHarness("subscribe benchmark", HARD_LIMIT_MS);
const started = performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- data (the same bytes for every contender)

const serde = new RegistrySerde({ url: stack.registryUrl, autoRegister: true });
const now = new Date();
const alertBytes = await serde.encode(CriticalAlertEvent, {
  meta: { eventId: randomUUID(), occurredAt: now, producer: "bench", correlationId: null, traceparent: null },
  alertId: randomUUID(),
  severity: "WARNING",
  sourceService: "bench",
  fingerprint: "fp-bench",
  title: "Login failures above 50/min",
  description: "Gaia saw 73 failed logins in the last minute.",
  labels: { region: "eu" },
  raisedAt: now,
  runbookUrl: null,
});
const logBytes = await serde.encode(LogEntryEvent, {
  meta: { eventId: randomUUID(), occurredAt: now, producer: "bench", correlationId: null, traceparent: null },
  timestamp: now,
  level: "INFO",
  service: "bench",
  instance: "bench-0",
  logger: "bench.subscribe",
  message: "request served in 12 ms",
  attributes: { route: "/orders", status: "200" },
  traceId: null,
  spanId: null,
});

console.log(`Filling three RabbitMQ queues and one Kafka topic (3 partitions) with ${PER_SOURCE} messages each...`);
const amqp = await harness.amqplib();
const setup = await amqp.createConfirmChannel();
for (const queue of [RAW_QUEUE, GATEWAY_QUEUE, BULK_QUEUE]) {
  await setup.assertQueue(queue, { durable: true });
  harness.onCleanup(async () => {
    const channel = await amqp.createChannel();
    await channel.deleteQueue(queue);
  });
  for (let i = 0; i < PER_SOURCE; i++) {
    setup.sendToQueue(queue, alertBytes, {
      persistent: true,
      messageId: `m-${i}`,
      type: CriticalAlertEvent.name,
      contentType: "application/vnd.kronos.avro",
    });
    if (i % 5000 === 4999) await setup.waitForConfirms();
  }
  await setup.waitForConfirms();
}

// Made as the transport makes its clients (timeouts, logging), with kafkajs' own retries for the set-up.
const kafka = createKafkaClient({
  clientId: "kronos-bench-subscribe",
  brokers: stack.kafkaBrokers.split(","),
  retry: { retries: 5 },
});
const admin = kafka.admin();
await admin.connect();
harness.onCleanup(() => admin.disconnect());
await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }], waitForLeaders: true });
// With the retry topics the gateway's subscription creates (<topic>.retry.<tier>) and a dead-letter topic, if any.
harness.onCleanup(async () => {
  const ours = (await admin.listTopics()).filter((name) => name === TOPIC || name.startsWith(`${TOPIC}.`));
  await admin.deleteTopics({ topics: ours });
});
const producer = kafka.producer();
await producer.connect();
for (let sent = 0; sent < PER_SOURCE; sent += 1000) {
  await producer.send({
    topic: TOPIC,
    acks: -1,
    messages: Array.from({ length: Math.min(1000, PER_SOURCE - sent) }, (_, i) => ({
      key: `k-${(sent + i) % 64}`,
      value: logBytes,
      headers: { "message-id": `m-${sent + i}`, "event-type": LogEntryEvent.name },
    })),
  });
}
await producer.disconnect();

// ---------------------------------------------------------------- contenders

/**
 * A contender fed by a consumer that keeps running between turns: during its turn it settles every message (and
 * counts it), outside its turn it parks them, so it stops at its prefetch without losing anything.
 */
class TurnGate {
  active = false;
  done = 0;
  readonly #parked: Array<() => void> = [];

  /** Settles now (active) or at the start of the next turn. */
  offer(settle: () => void): void {
    if (this.active) settle();
    else this.#parked.push(settle);
  }

  async turn(until: number, max: number): Promise<number> {
    this.done = 0;
    this.active = true;
    for (const settle of this.#parked.splice(0)) settle();
    while (performance.now() < until && this.done < max) await sleep(5);
    this.active = false;
    return this.done;
  }
}

async function rawAmqp(): Promise<Contender> {
  const gate = new TurnGate();
  const channel = await amqp.createChannel();
  await channel.prefetch(PREFETCH);
  await channel.consume(
    RAW_QUEUE,
    (message: ConsumeMessage | null) => {
      if (message === null) return;
      gate.offer(() => {
        channel.ack(message);
        gate.done++;
      });
    },
    { noAck: false },
  );
  return { name: `amqplib consumer, prefetch ${PREFETCH}`, run: (until, max) => gate.turn(until, max) };
}

async function rawKafka(): Promise<Contender> {
  const gate = new TurnGate();
  const consumer = kafka.consumer({ groupId: `kronos-bench-raw-${RUN}`, maxWaitTimeInMs: 100 });
  harness.onCleanup(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning }) => {
      for (const message of batch.messages) {
        while (!gate.active && isRunning()) {
          await sleep(20);
          await heartbeat();
        }
        if (!isRunning()) return;
        resolveOffset(message.offset);
        gate.done++;
      }
      await heartbeat();
    },
  });
  return { name: "kafkajs consumer, eachBatch", run: (until, max) => gate.turn(until, max) };
}

/** A delivery of an SSE subscription: its handle (the event id) and, on Kafka, its partition. */
interface SseDelivery {
  readonly handle: string;
  readonly partition: number | undefined;
}

/** Opens an SSE subscription to the gateway and calls `onDelivery` with every `message` event, in order. */
async function openSse(
  name: string,
  origin: string,
  path: string,
  apiKey: string,
  onDelivery: (delivery: SseDelivery) => void,
): Promise<void> {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(
      `${origin}${path}`,
      { headers: { "x-api-key": apiKey, accept: "text/event-stream" } },
      resolve,
    );
    req.on("error", reject);
    req.end();
    harness.onCleanup(async () => req.destroy());
  });
  if (response.statusCode !== 200) throw new Error(`${name}: subscribe answered ${response.statusCode}`);
  response.setEncoding("utf8");
  let buffer = "";
  response.on("data", (chunk: string) => {
    buffer += chunk;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const handle = /^id: (.+)$/m.exec(block)?.[1];
      if (handle !== undefined && block.includes("\nevent: message")) {
        const partition = /"partition":(\d+)/.exec(block)?.[1];
        onDelivery({ handle, partition: partition === undefined ? undefined : Number(partition) });
      }
      end = buffer.indexOf("\n\n");
    }
  });
}

/**
 * An SSE subscription settled in bulk: `settle` mode sends `POST /settle` with an `ack` item for each delivery,
 * `ackThrough` mode `POST /ack-through/<handle>` of the last delivery of each partition (of the subscription, on
 * RabbitMQ), every {@link SETTLE_EVERY} deliveries and every {@link SETTLE_FLUSH_MS} ms. Counts what the answers say
 * was settled (`succeeded`, `acked`) during the turn.
 */
async function gatewayBulk(
  name: string,
  origin: string,
  path: string,
  apiKey: string,
  mode: "settle" | "ackThrough",
): Promise<Contender> {
  const gate = new TurnGate();
  const pool = new Pool(origin, { connections: SETTLE_CONNECTIONS, pipelining: 1 });
  harness.onCleanup(() => pool.close());
  const jsonHeaders = { "x-api-key": apiKey, "content-type": "application/json" };
  const emptyHeaders = { "x-api-key": apiKey };
  let failures = 0;
  const fail = (what: string) => {
    if (failures++ < 3) console.error(`${name}: ${what}`);
  };
  let pending: SseDelivery[] = [];
  // Cumulative acks go one round at a time: a later one overtaking an earlier one would settle its handle first
  // (and the earlier would answer 409).
  let inFlight = 0;
  const post = (requestPath: string, body: string | null, count: (answer: Record<string, number>) => number) => {
    inFlight++;
    pool
      .request({ method: "POST", path: requestPath, headers: body === null ? emptyHeaders : jsonHeaders, body })
      .finally(() => inFlight--)
      .then(async (response) => {
        const answer = (await response.body.json()) as Record<string, number>;
        if (response.statusCode !== 200) return fail(`${requestPath} answered ${response.statusCode}`);
        if (mode === "settle" && answer.failed !== 0) fail(`${answer.failed} items of a settle failed`);
        if (gate.active) gate.done += count(answer);
      })
      .catch((error: unknown) => fail(`${requestPath} failed: ${String(error)}`));
  };
  const flush = () => {
    if (pending.length === 0 || (mode === "ackThrough" && inFlight > 0)) return;
    const batch = pending;
    pending = [];
    if (mode === "settle") {
      const items = batch.map(({ handle }) => ({ handle, action: "ack" }));
      post("/settle", JSON.stringify({ items }), (answer) => answer.succeeded ?? 0);
      return;
    }
    const lastOfPartition = new Map<number | undefined, string>();
    for (const { handle, partition } of batch) lastOfPartition.set(partition, handle);
    for (const handle of lastOfPartition.values()) {
      post(`/ack-through/${encodeURIComponent(handle)}`, null, (answer) => answer.acked ?? 0);
    }
  };
  setInterval(flush, SETTLE_FLUSH_MS).unref();
  await openSse(name, origin, path, apiKey, (delivery) =>
    gate.offer(() => {
      pending.push(delivery);
      if (pending.length >= SETTLE_EVERY) flush();
    }),
  );
  return { name, run: (until, max) => gate.turn(until, max) };
}

/**
 * Whether the gateway serves `POST <path>`: false when it answers 404 `NOT_FOUND` (no such route; a 404 for the
 * probe's unknown handle, `HANDLE_EXPIRED`, means the route is there).
 */
async function gatewayServes(origin: string, path: string, apiKey: string, body?: string): Promise<boolean> {
  const response = await fetch(`${origin}${path}`, {
    method: "POST",
    headers: { "x-api-key": apiKey, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body ?? null,
  });
  const answer = (await response.json().catch(() => ({}))) as { code?: string };
  return !(response.status === 404 && answer.code === "NOT_FOUND");
}

/** An SSE subscription to the gateway, acking every message with `POST /ack/<id>` over a pool of connections. */
async function gatewaySse(name: string, origin: string, path: string, apiKey: string): Promise<Contender> {
  const gate = new TurnGate();
  const acks = new Pool(origin, { connections: ACK_CONNECTIONS, pipelining: 1 });
  harness.onCleanup(() => acks.close());
  let failures = 0;
  const ack = (id: string) => {
    acks
      .request({ method: "POST", path: `/ack/${encodeURIComponent(id)}`, headers: { "x-api-key": apiKey } })
      .then(async (response) => {
        await response.body.dump();
        if (response.statusCode === 204) {
          if (gate.active) gate.done++;
        } else if (failures++ < 3) console.error(`${name}: ack answered ${response.statusCode}`);
      })
      .catch((error: unknown) => {
        if (failures++ < 3) console.error(`${name}: ack failed: ${String(error)}`);
      });
  };
  await openSse(name, origin, path, apiKey, ({ handle }) => gate.offer(() => ack(handle)));
  return { name, run: (until, max) => gate.turn(until, max) };
}

console.log("Starting the gateway as a child process...");
const { apiKey, principalsFile } = harness.principal("consume:*");
// Every subscription but the wide one asks for PREFETCH itself.
const gateway = await harness.gateway("gateway", principalsFile, {
  GATEWAY_SUBSCRIBE_MAX_PREFETCH: String(WIDE_PREFETCH),
});
const query = `prefetch=${PREFETCH}&leaseMs=600000`;
const bulk = (await gatewayServes(
  gateway,
  "/settle",
  apiKey,
  JSON.stringify({ items: [{ handle: "probe", action: "ack" }] }),
))
  ? [
      await gatewayBulk(
        "gateway SSE rabbitmq + POST /settle",
        gateway,
        `/subscribe/${BULK_QUEUE}?${query}`,
        apiKey,
        "settle",
      ),
      await gatewayBulk(
        "gateway SSE kafka (group) + POST /settle",
        gateway,
        `/subscribe/${TOPIC}?${query}&group=bench-settle-${RUN}&from=earliest`,
        apiKey,
        "settle",
      ),
      // Context: a bulk client with two settlements of 100 in flight is bounded by their round trip; with more
      // deliveries outstanding it is not.
      await gatewayBulk(
        `gateway SSE kafka (group) + POST /settle, prefetch ${WIDE_PREFETCH}`,
        gateway,
        `/subscribe/${TOPIC}?prefetch=${WIDE_PREFETCH}&leaseMs=600000&group=bench-wide-${RUN}&from=earliest`,
        apiKey,
        "settle",
      ),
    ]
  : [];
const through = (await gatewayServes(gateway, "/ack-through/probe", apiKey))
  ? [
      await gatewayBulk(
        "gateway SSE kafka (group) + ack-through",
        gateway,
        `/subscribe/${TOPIC}?${query}&group=bench-through-${RUN}&from=earliest`,
        apiKey,
        "ackThrough",
      ),
    ]
  : [];
for (const [found, route] of [
  [bulk, "POST /settle"],
  [through, "POST /ack-through/:handle"],
] as const) {
  if (found.length === 0)
    console.log(`The gateway has no ${route} (404 NOT_FOUND): its bulk-settlement rows are skipped.`);
}
const contenders: Contender[] = [
  await gatewaySse("gateway SSE rabbitmq + HTTP acks", gateway, `/subscribe/${GATEWAY_QUEUE}?${query}`, apiKey),
  ...bulk.slice(0, 1),
  await rawAmqp(),
  await gatewaySse(
    "gateway SSE kafka (group) + HTTP acks",
    gateway,
    `/subscribe/${TOPIC}?${query}&group=bench-${RUN}&from=earliest`,
    apiKey,
  ),
  ...bulk.slice(1),
  ...through,
  await rawKafka(),
];

console.log(
  `${contenders.length} contenders, ${ROUNDS} rounds (+1 warm-up) of ${TURN_MS / 1000} s turns, at most ` +
    `${MAX_PER_TURN} messages a turn; a message counts once it is delivered and its ack done`,
);
const results = await harness.runRounds(
  contenders,
  { rounds: ROUNDS, turnMs: TURN_MS, maxPerTurn: MAX_PER_TURN },
  started,
);

const rate = (name: string) => results.get(name) ?? [];
printRates(contenders, rate, "messages/s delivered and acked");
const rows: RatioRow[] = [
  {
    label: "gateway SSE + acks ÷ raw consumer",
    a: "gateway SSE rabbitmq + HTTP acks",
    b: `amqplib consumer, prefetch ${PREFETCH}`,
    target: 0.3,
  },
  { label: "", a: "gateway SSE kafka (group) + HTTP acks", b: "kafkajs consumer, eachBatch", target: 0.3 },
  {
    label: `bulk settlement (${SETTLE_EVERY} a request) ÷ raw`,
    a: "gateway SSE rabbitmq + POST /settle",
    b: `amqplib consumer, prefetch ${PREFETCH}`,
    target: 0.7,
  },
  { label: "", a: "gateway SSE kafka (group) + POST /settle", b: "kafkajs consumer, eachBatch", target: 0.3 },
  { label: "", a: "gateway SSE kafka (group) + ack-through", b: "kafkajs consumer, eachBatch", target: 0.3 },
  {
    label: "(context) wider prefetch",
    a: `gateway SSE kafka (group) + POST /settle, prefetch ${WIDE_PREFETCH}`,
    b: "kafkajs consumer, eachBatch",
    target: Number.NaN,
  },
];
printRatios(rows, (a, b) => medianRatio(rate(a), rate(b)));
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
await harness.finish(0);
