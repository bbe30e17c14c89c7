// `npm run battery [-- <scenario>...] [--short] [--no-faults] [--json <file>]`: the reliability battery. Runs the
// scenarios one after the other through the real gateway (they kill and restart the stack's brokers), prints one
// table and writes it as JSON. Exit code 1 when any verdict is not `ok`.
import { randomUUID } from "node:crypto";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BenchHarness, stack } from "../harness.js";
import { authMatrix, matrixKeys } from "./auth-matrix.js";
import { kafkaKill, rabbitmqKill } from "./broker-kill.js";
import { consumerCrashKafka, consumerCrashRabbitmq } from "./consumer-crash.js";
import type { BatteryContext, BatterySize } from "./context.js";
import { dlqCrash } from "./dlq-crash.js";
import { kafkaFailover } from "./failover.js";
import { malformedHttp } from "./malformed.js";
import { networkKafka, networkRabbitmq } from "./network.js";
import { overload } from "./overload.js";
import { relayCrash } from "./relay-crash.js";
import { formatTable, type ScenarioResult, verdict, writeResults } from "./report.js";
import { soak } from "./soak.js";

const SCENARIOS: Record<
  string,
  { readonly about: string; readonly run: (c: BatteryContext) => Promise<ScenarioResult> }
> = {
  "kafka-kill": { about: "kill -9 Kafka mid-publish (scenario 1)", run: kafkaKill },
  "rabbitmq-kill": { about: "kill -9 RabbitMQ mid-publish (scenario 2)", run: rabbitmqKill },
  "kafka-failover": {
    about: "a 3-node Kafka cluster of its own; kill -9 a partition leader mid-publish (scenario 3)",
    run: kafkaFailover,
  },
  "consumer-crash-rabbitmq": {
    about: "kill -9 the gateway while an SSE client holds unacked deliveries of a queue (scenario 4)",
    run: consumerCrashRabbitmq,
  },
  "consumer-crash-kafka": {
    about: "kill -9 the gateway while an SSE client holds unacked deliveries of a topic (scenario 4)",
    run: consumerCrashKafka,
  },
  "relay-crash": {
    about: "alerts Kafka → relay → RabbitMQ; kill -9 the relay ×3, Kafka and RabbitMQ once each (scenario 5)",
    run: relayCrash,
  },
  "dlq-crash": {
    about: "RabbitMQ dead letters replayed as a job; kill -9 the dlq-manager ×3 mid-job (scenario 6)",
    run: dlqCrash,
  },
  "network-rabbitmq": {
    about: "the gateway reaches RabbitMQ through a fault proxy: latency, resets, a freeze, refusals (scenario 7)",
    run: networkRabbitmq,
  },
  "network-kafka": {
    about: "the gateway reaches a Kafka of its own through a fault proxy (it advertises the proxy) (scenario 7)",
    run: networkKafka,
  },
  "malformed-http": { about: "generated malformed requests at every gateway route (scenario 8)", run: malformedHttp },
  "auth-matrix": { about: "every protected route × every kind of bad credential (scenario 9)", run: authMatrix },
  soak: {
    about: "half saturation for 30 min with a subscriber acking: RSS slope, handles, nothing lost (scenario 11)",
    run: soak,
  },
  overload: {
    about: "2 × the measured saturation: only 202/429/503, nothing lost, recovery (scenario 10)",
    run: overload,
  },
};

const here = dirname(fileURLToPath(import.meta.url));
const DEFAULT_JSON = join(here, "..", "..", "results", "battery.json");

const USAGE = `Usage: npm run battery [-- <scenario>...] [--short] [--no-faults] [--json <file>]

The reliability battery: each scenario drives the real gateway over the local stack, injects its faults (it kills
and restarts the stack's brokers: do not run it beside other tests), reads every message back by id, and counts
what was lost, duplicated or unexpected. Prints one table; writes it as JSON; exits 1 unless every verdict is ok.

Scenarios (all when none is named):
${Object.entries(SCENARIOS)
  .map(([name, { about }]) => `  ${name.padEnd(24)} ${about}`)
  .join("\n")}

Options:
  --short        the CI sizes (what npm test runs) instead of the full ones
  --no-faults    the same loads with nothing broken (a baseline)
  --json <file>  where the JSON goes (default packages/benchmarks/results/battery.json)
  -h, --help     this text`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    short: { type: "boolean", default: false },
    "no-faults": { type: "boolean", default: false },
    json: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const names = positionals.filter((name) => name !== "--");
const unknown = names.filter((name) => !(name in SCENARIOS));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(", ")}; choose from ${Object.keys(SCENARIOS).join(", ")}`);
  process.exit(2);
}
const size: BatterySize = values.short ? "short" : "full";
const jsonPath = resolve(values.json ?? DEFAULT_JSON);

const harness = new BenchHarness("battery", 80 * 60_000);
const publishTimeoutMs = 3000;
// Every right, so that malformed requests reach every route's body handling.
const { apiKey, principalsFile } = harness.principal("produce:*,consume:*,admin");
const keys = matrixKeys();
const origin = await harness.gateway("gateway", principalsFile, {
  GATEWAY_PUBLISH_TIMEOUT_MS: String(publishTimeoutMs),
  GATEWAY_JWT_SECRET: keys.secret,
  GATEWAY_JWT_PUBLIC_KEY: keys.publicPem,
});
const context: BatteryContext = {
  size,
  faults: !values["no-faults"],
  harness,
  run: `battery-${randomUUID().slice(0, 8)}`,
  brokers: stack.kafkaBrokers.split(","),
  gateway: { origin, headers: { "x-api-key": apiKey } },
  principalsFile,
  matrixKeys: keys,
  publishTimeoutMs,
};

const results: ScenarioResult[] = [];
for (const name of names.length > 0 ? names : Object.keys(SCENARIOS)) {
  const scenario = SCENARIOS[name];
  if (!scenario) continue;
  console.log(`\n▶ ${name} (${size}): ${scenario.about}`);
  const started = performance.now();
  const result = await scenario.run(context);
  results.push(result);
  console.log(
    `  ${verdict(result)} in ${((performance.now() - started) / 1000).toFixed(0)} s: ${JSON.stringify(result.details)}`,
  );
}
console.log(`\n${formatTable(results)}\n`);
writeResults(jsonPath, results);
console.log(`(written to ${jsonPath})`);
await harness.finish(results.every((result) => verdict(result) === "ok") ? 0 : 1);
