// The relay benchmark's places and its relay: a copy of the contract manifest whose only relay routes are two
// benchmark routes of the shipped routes' shapes, on topics, exchanges and queues of the run's own.
import { cpSync, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { type BenchHarness, freePort, stack, waitFor } from "./harness.js";

const relayDist = dirname(fileURLToPath(import.meta.resolve("@kronos/relay")));
const schemasDir = fileURLToPath(new URL("../../../schemas", import.meta.url));

/** The run's names: every topic, exchange and queue the relay benchmark uses, unique to the process. */
export function relayPlaces(run: string) {
  const p = `kronos.bench.relay.${run}`;
  return {
    /** Kafka → RabbitMQ: the relay's source topic, the raw pipe's, and the exchange both write to. */
    alerts: `${p}.alerts`,
    alertsRaw: `${p}.alerts-raw`,
    critical: `${p}.critical`,
    /** The queue the benchmark counts Kafka → RabbitMQ arrivals in (bound to `critical` with `#`). */
    criticalSink: `${p}.critical.sink`,
    /** RabbitMQ → Kafka: the relay's fanout exchange and queue, the raw pipe's, and the topic both write to. */
    security: `${p}.security`,
    securityQueue: `${p}.security.relay`,
    securityRaw: `${p}.security-raw`,
    securityRawQueue: `${p}.security.raw`,
    audit: `${p}.audit`,
    /** The routes' ids, and the relay's consumer group. */
    toRabbit: "benchAlertsToRabbit",
    toKafka: "benchSecurityToKafka",
    group: `${p}.relay`,
  };
}

export type RelayPlaces = ReturnType<typeof relayPlaces>;

/**
 * A copy of schemas/ whose manifest's relay routes are only the benchmark's: `toRabbit`, of the shape of
 * `relayCriticalAlerts` (CriticalAlert, Kafka → a topic exchange, deduped by fingerprint, AMQP priority from the
 * severity), and `toKafka`, of the shape of `relayAuthSecurity` (TokenRevoked and SuspiciousActivityDetected, a
 * fanout exchange through the relay's quorum queue → a Kafka topic, deduped by message id).
 */
function benchManifest(places: RelayPlaces, dir: string): void {
  cpSync(schemasDir, dir, { recursive: true });
  const file = join(dir, "asyncapi.yaml");
  const manifest = parse(readFileSync(file, "utf8")) as {
    channels: Record<string, unknown>;
    operations: Record<string, Record<string, unknown>>;
  };
  for (const operation of Object.values(manifest.operations)) delete operation["x-kronos-relay"];
  const alert = { CriticalAlert: { $ref: "#/components/messages/CriticalAlert" } };
  const security = {
    TokenRevoked: { $ref: "#/components/messages/TokenRevoked" },
    SuspiciousActivityDetected: { $ref: "#/components/messages/SuspiciousActivityDetected" },
  };
  const kafka = (topic: string, partitions: number) => ({
    kafka: {
      topic,
      partitions,
      replicas: 1,
      topicConfiguration: { "cleanup.policy": ["delete"], "retention.ms": 3_600_000 },
      bindingVersion: "0.5.0",
    },
  });
  const exchange = (name: string, type: "topic" | "fanout") => ({
    amqp: { is: "routingKey", exchange: { name, type, durable: true, autoDelete: false, vhost: "/" } },
  });
  manifest.channels.benchAlerts = { address: places.alerts, messages: alert, bindings: kafka(places.alerts, 3) };
  manifest.channels.benchCritical = {
    address: places.critical,
    messages: alert,
    bindings: exchange(places.critical, "topic"),
  };
  manifest.channels.benchSecurity = {
    address: places.security,
    messages: security,
    bindings: exchange(places.security, "fanout"),
  };
  manifest.channels.benchAudit = { address: places.audit, messages: security, bindings: kafka(places.audit, 6) };
  manifest.operations[places.toRabbit] = {
    action: "send",
    channel: { $ref: "#/channels/benchCritical" },
    "x-kronos-relay": {
      from: { channel: { $ref: "#/channels/benchAlerts" }, consumerGroup: places.group },
      messages: [{ $ref: "#/components/messages/CriticalAlert" }],
      dedupField: "fingerprint",
      // Shorter than the shipped 10 minutes: the run's ids need not stay in the shared Redis long.
      dedupWindowMs: 300_000,
      priority: { field: "severity", values: { CRITICAL: 9, MAJOR: 6, WARNING: 3, INFO: 0, UNKNOWN: 0 } },
    },
  };
  manifest.operations[places.toKafka] = {
    action: "send",
    channel: { $ref: "#/channels/benchAudit" },
    "x-kronos-relay": {
      from: { channel: { $ref: "#/channels/benchSecurity" }, queue: places.securityQueue },
      messages: [
        { $ref: "#/components/messages/TokenRevoked" },
        { $ref: "#/components/messages/SuspiciousActivityDetected" },
      ],
      dedupWindowMs: 300_000,
    },
  };
  // YAML is a superset of JSON.
  writeFileSync(file, JSON.stringify(manifest, null, 2));
}

/** The started relay: its origin and pause/resume of one of its routes. */
export interface BenchRelay {
  readonly origin: string;
  /** CPU time the relay process used so far (user + system, from /proc), in ms. */
  cpuMs(): number;
  pause(route: string): Promise<void>;
  resume(route: string): Promise<void>;
}

/**
 * Starts the built relay (`apps/relay/dist/server.js`) on the benchmark manifest with both routes, `LOG_LEVEL=warn`
 * and `env`; resolves once both routes run (their consumer group joined, their queue consumed).
 */
export async function startRelay(
  harness: BenchHarness,
  places: RelayPlaces,
  adminKey: string,
  principalsFile: string,
  env: Record<string, string> = {},
): Promise<BenchRelay> {
  const work = mkdtempSync(join(tmpdir(), "kronos-bench-relay-"));
  harness.onCleanup(async () => rmSync(work, { recursive: true, force: true }));
  const dir = join(work, "schemas");
  benchManifest(places, dir);
  const port = await freePort();
  const profileDir = process.env.BENCH_RELAY_CPU_PROF;
  const profiling = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const child = harness.startChild("relay", [...profiling, join(relayDist, "server.js")], {
    ...process.env,
    NODE_ENV: "development",
    LOG_LEVEL: "warn",
    RELAY_HOST: "127.0.0.1",
    RELAY_PORT: String(port),
    RELAY_SCHEMAS_DIR: dir,
    RELAY_ROUTES: `${places.toRabbit},${places.toKafka}`,
    RELAY_INSTANCE_ID: `bench-${process.pid}`,
    RELAY_PRINCIPALS_FILE: principalsFile,
    KAFKA_BROKERS: stack.kafkaBrokers,
    RABBITMQ_URL: stack.rabbitmqUrl,
    RABBITMQ_MANAGEMENT_URL: stack.rabbitmqManagementUrl,
    SCHEMA_REGISTRY_URL: stack.registryUrl,
    ...env,
  });
  // BENCH_RELAY_LOG=<file>: the relay's output goes there too (with BENCH_RELAY_ENV=LOG_LEVEL=info, its whole log).
  const logFile = process.env.BENCH_RELAY_LOG;
  if (logFile) {
    const log = createWriteStream(logFile);
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
  }
  const origin = `http://127.0.0.1:${port}`;
  await waitFor(`${origin}/readyz`, "relay", 90_000);
  const headers = { "x-api-key": adminKey };
  const deadline = Date.now() + 90_000;
  for (;;) {
    const routes = (await (await fetch(`${origin}/routes`, { headers })).json()) as Array<{ state: string }>;
    if (routes.length === 2 && routes.every((route) => route.state === "running")) break;
    if (Date.now() > deadline) throw new Error(`the relay's routes did not start: ${JSON.stringify(routes)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const act = async (route: string, action: "pause" | "resume") => {
    const response = await fetch(`${origin}/routes/${route}/${action}`, { method: "POST", headers });
    if (response.status !== 200) throw new Error(`${action} ${route}: ${response.status} ${await response.text()}`);
  };
  const cpuMs = () => {
    // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (100 a second on Linux).
    const fields = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10;
  };
  return { origin, cpuMs, pause: (route) => act(route, "pause"), resume: (route) => act(route, "resume") };
}
