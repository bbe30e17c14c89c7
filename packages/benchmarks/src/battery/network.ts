// Scenario 7: the gateway reaches a broker through a fault proxy that adds latency, resets every connection, freezes
// the traffic past the publish timeout, and refuses new connections for a while. Nothing acknowledged may be lost, no
// request may go unanswered past its bound, and no 5xx but 503 may answer. RabbitMQ: the stack's, through the proxy.
// Kafka: a Kafka of the scenario's own that advertises the proxy's port, so every connection kafkajs opens (the
// bootstrap and each broker connection) goes through it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadSettings, startService, stopService } from "@kronos/local-stack";
import { type FaultProxy, startFaultProxy } from "@kronos/testkit";
import { freePort, stack } from "../harness.js";
import { CRITICAL_EXCHANGE, criticalAlert, LOG_TOPIC, logEntry } from "./bodies.js";
import { type BatteryContext, sleep } from "./context.js";
import { Ledger } from "./ledger.js";
import { loadProblems, measureSaturation, publishLoad } from "./load.js";
import { endOffsets, readBack } from "./readback.js";
import { countColumns, type ScenarioResult } from "./report.js";

/** A Kafka of its own behind `proxy`: it advertises the proxy's port. Stopped and deleted at clean-up. */
async function proxiedKafka(context: BatteryContext, proxyPort: number, kafkaPort: number): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "kronos-battery-kafka-"));
  const settings = loadSettings({
    ...process.env,
    KRONOS_STATE_DIR: stateDir,
    KRONOS_KAFKA_PORT: String(kafkaPort),
    KRONOS_KAFKA_CONTROLLER_PORT: String(await freePort()),
    KRONOS_KAFKA_ADVERTISED_PORT: String(proxyPort),
  });
  context.harness.onCleanup(async () => {
    await stopService("kafka", settings);
    rmSync(stateDir, { recursive: true, force: true });
  });
  console.log(`  starting a Kafka of the scenario's own on ${kafkaPort}, advertised at the proxy's ${proxyPort}`);
  await startService("kafka", settings);
}

async function network(context: BatteryContext, broker: "kafka" | "rabbitmq"): Promise<ScenarioResult> {
  const { size, harness, run } = context;
  const prefix = `${run}-network-${broker}-`;
  const ledger = new Ledger();
  const body = broker === "kafka" ? (id: string) => logEntry(id, "battery.network") : criticalAlert;
  let proxy: FaultProxy;
  let env: Record<string, string>;
  let brokers: string[] = [];
  let queue: string | undefined;
  if (broker === "kafka") {
    const kafkaPort = await freePort();
    proxy = await startFaultProxy({ target: `127.0.0.1:${kafkaPort}` });
    harness.onCleanup(() => proxy.close());
    await proxiedKafka(context, proxy.port, kafkaPort);
    brokers = [proxy.address];
    env = { KAFKA_BROKERS: proxy.address };
  } else {
    proxy = await startFaultProxy({ target: stack.rabbitmqUrl });
    harness.onCleanup(() => proxy.close());
    env = { RABBITMQ_URL: proxy.via(stack.rabbitmqUrl) };
    queue = `kronos.battery.network.${run}`;
    const connection = await harness.amqplib();
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
    await channel.bindQueue(queue, CRITICAL_EXCHANGE, "alert.CRITICAL.auth");
    await channel.close();
    const created = queue;
    harness.onCleanup(async () => {
      const ch = await (await harness.amqplib()).createChannel();
      await ch.deleteQueue(created);
    });
  }
  const origin = await harness.gateway(`gateway (${broker} through the fault proxy)`, context.principalsFile, {
    ...env,
    GATEWAY_PUBLISH_TIMEOUT_MS: String(context.publishTimeoutMs),
  });
  const gateway = { origin, headers: context.gateway.headers };

  const requestTimeoutMs = context.publishTimeoutMs + 5000;
  const saturation = await measureSaturation({
    ...gateway,
    clients: 16,
    requestTimeoutMs,
    body,
    idPrefix: `${run}-sat-`,
    ledger,
    durationMs: 2000,
  });
  const seconds = size === "full" ? 60 : 20;
  const rate = Math.max(20, Math.round(saturation * 0.5));
  const count = rate * seconds;
  const step = (seconds * 1000) / 10;
  const timeline: string[] = [];
  const mark = (what: string) => timeline.push(`${((performance.now() - started) / 1000).toFixed(1)} s ${what}`);
  const from = broker === "kafka" ? await endOffsets(brokers, LOG_TOPIC) : new Map<number, bigint>();
  const started = performance.now();
  // The faults, one after the other, while the load runs: latency, resets, a freeze past the publish timeout, refusals.
  const faults = (async () => {
    await sleep(step);
    proxy.setLatency(200);
    mark("latency 200 ms");
    await sleep(step);
    proxy.setLatency(0);
    proxy.resetAll();
    mark("connections reset");
    await sleep(step * 2);
    // Longer than the publish timeout: the publishes in flight must be answered 503, not left hanging.
    const frozenMs = Math.max(step * 1.5, context.publishTimeoutMs + 2000);
    proxy.freeze("both");
    mark(`frozen (${(frozenMs / 1000).toFixed(0)} s)`);
    await sleep(frozenMs);
    proxy.thaw();
    mark("thawed");
    await sleep(step);
    proxy.refuse(true);
    proxy.resetAll();
    mark("connections reset and refused");
    await sleep(step);
    proxy.refuse(false);
    mark("accepted again");
  })();
  console.log(`  network: saturation ${Math.round(saturation)}/s; ${count} publishes at ${rate}/s through the proxy`);
  const load = await publishLoad({
    ...gateway,
    count,
    clients: 16,
    ratePerSecond: rate,
    requestTimeoutMs,
    body,
    idPrefix: prefix,
    ledger,
  });
  await faults;
  await readBack({
    broker: broker,
    brokers,
    topic: LOG_TOPIC,
    from,
    queue,
    connect: () => harness.amqplib(),
    prefix,
    ledger,
  });
  const counts = ledger.counts();
  const problems: string[] = [];
  problems.push(...loadProblems(load, requestTimeoutMs));
  if (counts.lost > 0) problems.push(`lost (first ids): ${ledger.missing().slice(0, 5).join(", ")}`);
  if (counts.acknowledged === 0) problems.push("no publish was accepted");
  return {
    scenario: `network-${broker}`,
    load: `${count.toLocaleString("en-US")} publishes at ${rate}/s (saturation ${Math.round(saturation)}/s), 16 clients`,
    faults: "proxy: latency 200 ms, resets, a freeze past the publish timeout, refused connections",
    ...countColumns(counts),
    serverErrors: load.serverErrors,
    problems: [
      ...problems,
      ...load.samples.filter((s) => /^5\d\d/.test(s) && !s.startsWith("503")).map((s) => `sample: ${s}`),
    ],
    details: {
      statuses: JSON.stringify(load.statuses),
      timeline: timeline.join("; "),
      elapsedMs: Math.round(load.elapsedMs),
    },
  };
}

export const networkRabbitmq = (context: BatteryContext) => network(context, "rabbitmq");
export const networkKafka = (context: BatteryContext) => network(context, "kafka");
