// DLQ manager benchmark (issue 13): dead letters taken into custody per second (ingest) and replayed per second
// (replay), through the built dlq-manager (a child process on a database of the run's own), against raw pipes with
// the same durability, in alternating legs of one run:
//   ingest: raw kafkajs consumer → INSERT … ON CONFLICT DO NOTHING (pg, 64 in flight as custody), offsets
//   committed after the INSERTs committed;
//   replay: raw SELECT of a page → confirmed amqplib publishes (persistent, mandatory) → UPDATE … state =
//   'replayed' after the confirms.
// Ingest legs preload N dead letters into a Kafka dead-letter topic in one transaction and are timed from its commit
// until all N rows are in PostgreSQL; replay legs are timed from POST /replays (no rate limit) until the job is done
// and all N are counted at the destination.
//   npm run bench -- dlq      (from the repository root: set-up, stack up, build, then this)
// Target: the dlq-manager ≥ 0.6× raw, ingest and replay.

import { randomUUID } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { deadLetterHeaders } from "@kronos/transport";
import type { Message } from "kafkajs";
import pg from "pg";
import { Arrivals, alternateLegs, type Leg, publishConfirmed, TransactionalPreloader, trackReturns } from "./flow.js";
import { BenchHarness, freePort, stack, waitFor } from "./harness.js";
import { median } from "./measure.js";
import { benchMeta } from "./payloads.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// One replay job selects at most 10,000 dead letters (the dlq-manager's MAX_SELECTION).
const COUNT = Math.min(10_000, Number(argValue("--count") ?? process.env.BENCH_COUNT ?? 5000));
const WARMUP = Math.max(200, Math.round(COUNT / 4));
/** Custody's dead letters in flight (its PREFETCH); the raw ingest pipe keeps as many. */
const IN_FLIGHT = 64;
/** The raw replay pipe's page: rows selected, published (confirms pipelined), then marked at once. */
const PAGE = 256;
const LEG_TIMEOUT_MS = 180_000;
const RUN = `${process.pid}`;
const P = `kronos.bench.dlq.${RUN}`;
const SOURCE = `${P}.in.dlq`;
const RAW_SOURCE = `${P}.raw-in.dlq`;
const DESTINATION = `${P}.dest`;
const SINK = `${P}.dest.sink`;
const ROUTING_KEY = "alert.CRITICAL.billing";
const SERVER = process.env.BENCH_DATABASE_SERVER ?? "postgres://postgres@127.0.0.1:5432";
const APP_DB = `kronos_bench_dlq_${RUN}`;
const RAW_DB = `kronos_bench_dlq_raw_${RUN}`;
const dlqDist = dirname(fileURLToPath(import.meta.resolve("@kronos/dlq-manager")));

function argValue(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const harness = new BenchHarness("dlq benchmark", 20 * 60_000);
const started = performance.now();
const serde = new RegistrySerde({ url: stack.registryUrl, autoRegister: true });

// ---------------------------------------------------------------- data: Kronos dead letters of real framed events

/** The `[tag]` a leg's dead letters carry in their error text (what its replay job filters on). */
const marker = (tag: string) => `[${tag}]`;

async function deadLetters(tag: string, count: number): Promise<Message[]> {
  const now = Date.now();
  const records: Message[] = [];
  for (let n = 0; n < count; n++) {
    const id = `${tag}:${n}`;
    const value = await serde.encode(CriticalAlertEvent, {
      meta: benchMeta("gaia", now),
      alertId: randomUUID(),
      severity: "CRITICAL",
      sourceService: "billing",
      fingerprint: id,
      title: "Error rate above 5%",
      description: "5xx ratio 7% over 5 minutes on the checkout service",
      labels: { rule: "error-rate", region: "eu" },
      raisedAt: new Date(now),
      runbookUrl: null,
    });
    const headers = deadLetterHeaders({
      reason: "max-attempts",
      errorCode: "HANDLER_FAILED",
      error: `notifier answered 503 for alert ${id} ${marker(tag)}`,
      broker: "rabbitmq",
      destination: DESTINATION,
      routingKey: ROUTING_KEY,
      queue: `${P}.notifications`,
      eventType: CriticalAlertEvent.name,
      attempts: 5,
      firstFailureMs: now - 60_000,
      lastFailureMs: now,
      consumer: "notifier",
    });
    records.push({
      key: null,
      value,
      headers: { ...headers, "message-id": id, "event-type": CriticalAlertEvent.name },
    });
  }
  return records;
}

// ---------------------------------------------------------------- brokers and databases

const kafka = await harness.kafkaWithTopics(
  "kronos-bench-dlq",
  [SOURCE, RAW_SOURCE].map((topic) => ({ topic, numPartitions: 3 })),
  `${P}.`,
);

const amqp = await harness.amqplib();
const setup = await amqp.createChannel();
await setup.assertExchange(DESTINATION, "topic", { durable: true });
await setup.assertQueue(SINK, { durable: true });
await setup.bindQueue(SINK, DESTINATION, "#");
harness.onCleanup(async () => {
  const channel = await amqp.createChannel();
  await channel.deleteQueue(SINK).catch(() => {});
  await channel.deleteExchange(DESTINATION).catch(() => {});
});
const arrivals = new Arrivals();
const sink = await amqp.createChannel();
await sink.consume(SINK, (message) => arrivals.arrive(message?.properties.messageId), { noAck: true });

const maintenance = new pg.Client({ connectionString: `${SERVER}/postgres` });
await maintenance.connect();
harness.onCleanup(async () => {
  for (const name of [APP_DB, RAW_DB]) {
    await maintenance.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`).catch(() => {});
  }
  await maintenance.end();
});
await maintenance.query(`CREATE DATABASE ${pg.escapeIdentifier(RAW_DB)}`);
// Custody's pool has 10 connections; the raw pipes get as many.
const raw = new pg.Pool({ connectionString: `${SERVER}/${RAW_DB}`, max: 10 });
harness.onCleanup(() => raw.end());
await raw.query(`CREATE TABLE dead_letters (
  id bigserial PRIMARY KEY,
  dedup_key text NOT NULL UNIQUE,
  source text NOT NULL,
  message_id text,
  body bytea NOT NULL,
  headers jsonb NOT NULL,
  state text NOT NULL DEFAULT 'new',
  first_seen timestamptz NOT NULL DEFAULT now())`);
await raw.query("CREATE INDEX dead_letters_message_id ON dead_letters (message_id text_pattern_ops)");

const preloader = new TransactionalPreloader(kafka, `kronos-bench-dlq-${RUN}`);
await preloader.connect();
harness.onCleanup(() => preloader.disconnect());

// ---------------------------------------------------------------- the raw pipes

/** Raw ingest: IN_FLIGHT dead letters at a time, each one INSERT (committed), then the offsets committed. */
async function rawIngest(): Promise<void> {
  const consumer = kafka.consumer({ groupId: `kronos-bench-dlq-raw-${RUN}`, maxWaitTimeInMs: 250 });
  harness.onCleanup(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topics: [RAW_SOURCE], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale, resolveOffset }) => {
      for (let next = 0; next < batch.messages.length; next += IN_FLIGHT) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(next, next + IN_FLIGHT);
        await Promise.all(
          chunk.map((message) => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
            return raw.query(
              `INSERT INTO dead_letters (dedup_key, source, message_id, body, headers) VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (dedup_key) DO NOTHING`,
              [
                `kafka:${batch.topic}:${batch.partition}:${message.offset}`,
                batch.topic,
                headers["message-id"] ?? null,
                message.value,
                JSON.stringify(headers),
              ],
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

const out = await amqp.createConfirmChannel();
const returned = trackReturns(out);

/** Raw replay of a leg's rows: pages of PAGE, published with confirms pipelined, marked replayed once confirmed. */
async function rawReplay(tag: string): Promise<void> {
  let after = "0";
  for (;;) {
    // Ordered by the bigint, not by its text.
    const page = await raw.query<{ id: string; message_id: string; body: Buffer }>(
      `SELECT d.id::text AS id, message_id, body FROM dead_letters d
        WHERE message_id LIKE $1 AND state = 'new' AND d.id > $2 ORDER BY d.id LIMIT $3`,
      [`${tag}:%`, after, PAGE],
    );
    if (page.rows.length === 0) return;
    await Promise.all(
      page.rows.map((row) =>
        publishConfirmed(
          out,
          DESTINATION,
          ROUTING_KEY,
          row.body,
          { persistent: true, mandatory: true, messageId: row.message_id, type: CriticalAlertEvent.name },
          returned,
        ),
      ),
    );
    const ids = page.rows.map((row) => row.id);
    await raw.query("UPDATE dead_letters SET state = 'replayed' WHERE id = ANY($1::bigint[])", [ids]);
    after = ids[ids.length - 1] as string;
  }
}

// ---------------------------------------------------------------- the dlq-manager

console.log("Starting the dlq-manager as a child process (a database and a dead-letter topic of the run's own)...");
const { apiKey, principalsFile } = harness.principal("dlq:read,dlq:replay,produce:*");
const port = await freePort();
const origin = `http://127.0.0.1:${port}`;
harness.startChild("dlq-manager", [join(dlqDist, "server.js")], {
  ...process.env,
  NODE_ENV: "development",
  LOG_LEVEL: "warn",
  DLQ_MANAGER_HOST: "127.0.0.1",
  DLQ_MANAGER_PORT: String(port),
  DLQ_MANAGER_PRINCIPALS_FILE: principalsFile,
  DLQ_DATABASE_URL: `${SERVER}/${APP_DB}`,
  DLQ_CATALOG_SOURCES: "false",
  DLQ_KAFKA_SOURCES: SOURCE,
  DLQ_CONSUMER_GROUP: `kronos-bench-dlq-${RUN}`,
  DLQ_REPLAY_MAX_RATE: "100000",
  KAFKA_BROKERS: stack.kafkaBrokers,
  RABBITMQ_URL: stack.rabbitmqUrl,
  SCHEMA_REGISTRY_URL: stack.registryUrl,
});
await waitFor(`${origin}/readyz`, "dlq-manager", 90_000);
const headers = { "x-api-key": apiKey, "content-type": "application/json" };
const deadline = Date.now() + 90_000;
for (;;) {
  const { sources } = (await (await fetch(`${origin}/sources`, { headers })).json()) as {
    sources: Array<{ state: string }>;
  };
  if (sources.length === 1 && sources[0]?.state === "consuming") break;
  if (Date.now() > deadline) throw new Error(`custody did not start: ${JSON.stringify(sources)}`);
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const app = new pg.Pool({ connectionString: `${SERVER}/${APP_DB}`, max: 2 });
harness.onCleanup(() => app.end());
await rawIngest();

/** Resolves with the time at which `count` rows of `tag` were in `pool`'s dead_letters (polled every 20 ms). */
async function rowsIn(pool: pg.Pool, tag: string, count: number): Promise<number> {
  const until = Date.now() + LEG_TIMEOUT_MS;
  for (;;) {
    const found = await pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM dead_letters WHERE message_id LIKE $1",
      [`${tag}:%`],
    );
    if ((found.rows[0]?.n ?? 0) >= count) return performance.now();
    if (Date.now() > until) throw new Error(`${tag}: ${found.rows[0]?.n} of ${count} rows stored in time`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ingestLeg = (name: string, topic: string, pool: pg.Pool): Leg => ({
  name,
  run: async (tag, count) => {
    await preloader.load(topic, await deadLetters(tag, count));
    const start = performance.now();
    await preloader.commit();
    return (await rowsIn(pool, tag, count)) - start;
  },
});

/** The tags of the ingest legs whose rows each replay leg replays, in the order they ran. */
const ingested = { app: [] as string[], raw: [] as string[] };
const replayLeg = (name: string, side: "app" | "raw", replay: (tag: string) => Promise<void>): Leg => ({
  name,
  run: async (_tag, count) => {
    const tag = ingested[side].shift() as string;
    const start = performance.now();
    await replay(tag);
    return (await arrivals.waitFor(tag, count, LEG_TIMEOUT_MS)) - start;
  },
});

/** The dlq-manager's replay of a leg's rows: POST /replays (filtered by the leg's marker), until the job is done. */
async function appReplay(tag: string): Promise<void> {
  const created = await fetch(`${origin}/replays`, {
    method: "POST",
    headers,
    body: JSON.stringify({ filter: { error: marker(tag) }, ratePerSecond: 100_000 }),
  });
  if (created.status !== 201) throw new Error(`POST /replays: ${created.status} ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };
  const until = Date.now() + LEG_TIMEOUT_MS;
  for (;;) {
    const job = (await (await fetch(`${origin}/replays/${id}`, { headers })).json()) as {
      state: string;
      total: number;
      progress: Record<string, number>;
    };
    if (job.state === "completed") {
      if (job.progress.sent !== job.total) harness.failed(`replay job ${id}: ${JSON.stringify(job.progress)}`);
      return;
    }
    if (Date.now() > until) throw new Error(`replay job ${id} not done in time: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const appIngest = ingestLeg("dlq-manager ingest", SOURCE, app);
const rawIngestLeg = ingestLeg("raw consume → INSERT", RAW_SOURCE, raw);
const record = (leg: Leg, side: "app" | "raw"): Leg => ({
  name: leg.name,
  run: async (tag, count) => {
    const ms = await leg.run(tag, count);
    ingested[side].push(tag);
    return ms;
  },
});

console.log(
  `${COUNT} dead letters a leg (warm-up ${WARMUP}), ${ROUNDS} rounds, legs alternating dlq-manager / raw: ingest ` +
    "timed from the preload's commit until all rows are in PostgreSQL, replay from POST /replays (no rate limit) " +
    "until the job is done and all are at the destination",
);
let ingestRates = new Map<string, number[]>();
let replayRates = new Map<string, number[]>();
try {
  console.log("\ningest");
  ingestRates = await alternateLegs("di", [record(appIngest, "app"), record(rawIngestLeg, "raw")], {
    rounds: ROUNDS,
    count: COUNT,
    warmup: WARMUP,
  });
  console.log("\nreplay (of the rows each ingest leg stored)");
  replayRates = await alternateLegs(
    "dr",
    [replayLeg("dlq-manager replay", "app", appReplay), replayLeg("raw SELECT → publish → UPDATE", "raw", rawReplay)],
    { rounds: ROUNDS, count: COUNT, warmup: WARMUP },
  );
} finally {
  await harness.cleanup();
}

console.log("\nmessages/s (median of rounds)");
for (const [name, perRound] of [...ingestRates, ...replayRates]) {
  console.log(`  ${name.padEnd(32)} ${Math.round(median(perRound)).toLocaleString("en-US").padStart(8)}`);
}
console.log("\nratios dlq-manager ÷ raw (median of per-round ratios)");
for (const [label, rates, a, b] of [
  ["ingest", ingestRates, "dlq-manager ingest", "raw consume → INSERT"],
  ["replay", replayRates, "dlq-manager replay", "raw SELECT → publish → UPDATE"],
] as const) {
  const appRates = rates.get(a) ?? [];
  const rawRates = rates.get(b) ?? [];
  const ratio = median(appRates.map((rate, i) => rate / (rawRates[i] ?? Number.NaN)));
  console.log(`  ${label.padEnd(10)} ${ratio.toFixed(2)}×  target ≥ 0.6×  ${ratio >= 0.6 ? "met" : "MISSED"}`);
}
harness.printFailures("operations failed");
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
await harness.finish(harness.failures > 0 ? 1 : 0);
