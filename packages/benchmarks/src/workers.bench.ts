import { availableParallelism } from "node:os";
import { BenchHarness, type HttpTarget, printRates, printRatios, type RatioRow } from "./harness.js";
import { type Contender, medianRatio } from "./measure.js";
import { benchAlertQueue, benchAlertValues, benchLogValues } from "./payloads.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const TURN_MS = Number(process.env.BENCH_TURN_MS ?? 2000);
const MAX_PER_TURN = 200_000;
const CONCURRENCY = 64;
const PAYLOADS = 1000;
const KAFKA_TOPIC = "kronos.log.entries";
const EXCHANGE = "kronos.gaia.critical";
const HARD_LIMIT_MS = 6 * 60_000;
const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";

const harness = new BenchHarness("workers benchmark", HARD_LIMIT_MS);

const logBodies = benchLogValues(PAYLOADS, "bench.workers").map((payload) =>
  JSON.stringify({ topic: KAFKA_TOPIC, payload }),
);
// WARNING alerts: routed by the benchmark queue only (bound with "#", deleted at the end), as in publish.bench.ts.
const ROUTING_KEY = "alert.WARNING.bench";
const BENCH_QUEUE = `kronos.bench.workers.${process.pid}`;
const alertBodies = benchAlertValues(PAYLOADS).map((payload) =>
  JSON.stringify({ topic: EXCHANGE, key: ROUTING_KEY, payload }),
);

const amqpConnection = await harness.amqplib();
await benchAlertQueue(harness, amqpConnection, BENCH_QUEUE);

const { apiKey, principalsFile } = harness.principal("produce:*");
const started = performance.now();
const cores = availableParallelism();
console.log(`${cores} cores (os.availableParallelism()). Starting five gateways as child processes...`);
const shared = { REDIS_URL };
const [one, two, nullMemory, nullRedis, nullTwo] = await Promise.all([
  harness.gateway("gateway, 1 worker", principalsFile, { ...shared, GATEWAY_WORKERS: "1" }),
  harness.gateway("gateway, 2 workers", principalsFile, { ...shared, GATEWAY_WORKERS: "2" }),
  harness.gateway("null-sink gateway, memory limit", principalsFile, { GATEWAY_BENCH_NULL_SINK: "1" }),
  harness.gateway("null-sink gateway, Redis limit", principalsFile, { ...shared, GATEWAY_BENCH_NULL_SINK: "1" }),
  harness.gateway("null-sink gateway, 2 workers", principalsFile, {
    ...shared,
    GATEWAY_BENCH_NULL_SINK: "1",
    GATEWAY_WORKERS: "2",
  }),
]);

const auth = { "content-type": "application/json", "x-api-key": apiKey };
const kafka = (origin: string): HttpTarget => ({
  origin,
  path: "/publish",
  headers: auth,
  bodies: logBodies,
  expect: 202,
});
const rabbit = (origin: string): HttpTarget => ({ ...kafka(origin), bodies: alertBodies });
const C = `${CONCURRENCY} conn`;
const contenders: Contender[] = [
  harness.httpContender(`kafka, 1 worker, ${C}`, kafka(one), CONCURRENCY),
  harness.httpContender(`kafka, 2 workers, ${C}`, kafka(two), CONCURRENCY),
  harness.httpContender(`rabbitmq, 1 worker, ${C}`, rabbit(one), CONCURRENCY),
  harness.httpContender(`rabbitmq, 2 workers, ${C}`, rabbit(two), CONCURRENCY),
  harness.httpContender(`null sink, 1 worker, ${C}`, kafka(nullRedis), CONCURRENCY),
  harness.httpContender(`null sink, 2 workers, ${C}`, kafka(nullTwo), CONCURRENCY),
  harness.httpContender("null sink, memory limit, 1 conn", kafka(nullMemory), 1),
  harness.httpContender("null sink, Redis limit, 1 conn", kafka(nullRedis), 1),
  harness.httpContender(`null sink, memory limit, ${C}`, kafka(nullMemory), CONCURRENCY),
  harness.httpContender(`null sink, Redis limit, ${C}`, kafka(nullRedis), CONCURRENCY),
];

console.log(
  `${contenders.length} contenders, ${ROUNDS} rounds (+1 warm-up) of ${TURN_MS / 1000} s turns each, in the same ` +
    `order every round (the warm-up also lets the second worker of each cluster get ready)`,
);
const results = await harness.runRounds(
  contenders,
  { rounds: ROUNDS, turnMs: TURN_MS, maxPerTurn: MAX_PER_TURN },
  started,
);
const rate = (name: string) => results.get(name) ?? [];
printRates(contenders, rate);

const rows: RatioRow[] = [
  {
    label: `2 workers ÷ 1 worker (${cores} cores)`,
    a: `kafka, 2 workers, ${C}`,
    b: `kafka, 1 worker, ${C}`,
    target: Number.NaN,
  },
  { label: "", a: `rabbitmq, 2 workers, ${C}`, b: `rabbitmq, 1 worker, ${C}`, target: Number.NaN },
  { label: "", a: `null sink, 2 workers, ${C}`, b: `null sink, 1 worker, ${C}`, target: Number.NaN },
  {
    label: "shared (Redis) ÷ in-memory rate limit",
    a: "null sink, Redis limit, 1 conn",
    b: "null sink, memory limit, 1 conn",
    target: Number.NaN,
  },
  { label: "", a: `null sink, Redis limit, ${C}`, b: `null sink, memory limit, ${C}`, target: Number.NaN },
];
printRatios(rows, (a, b) => medianRatio(rate(a), rate(b)));
harness.printFailures("requests did not get the expected status");
console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
await harness.finish(harness.failures > 0 ? 1 : 0);
