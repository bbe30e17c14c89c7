// Scenario 3: a Kafka cluster of three KRaft nodes (the stack's 3-node mode, under a state directory and ports of the
// scenario's own), the gateway publishing to it at half its saturation; kill -9 the leader of a partition of the
// topic mid-load. Topics have 3 replicas and min.insync.replicas 2 (the gateway creates the manifest's topics with
// the manifest's replicas, capped at the brokers there are), so no acknowledged message may be lost and publishing must
// go on after the election, without the node coming back.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { endpoints, killKafkaNode, loadSettings, startService, stopService } from "@kronos/local-stack";
import { createKafkaClient } from "@kronos/transport/kafkajs";
import { LOG_TOPIC, logEntry } from "./bodies.js";
import type { BatteryContext } from "./context.js";
import { Ledger } from "./ledger.js";
import { loadProblems, measureSaturation, publishLoad } from "./load.js";
import { endOffsets, readKafkaBack } from "./readback.js";
import { countColumns, type ScenarioResult } from "./report.js";

/** The cluster's first node's ports (node i: + 10 × i). `BATTERY_CLUSTER_KAFKA_PORT` when they are taken. */
const CLUSTER_PORT = Number(process.env.BATTERY_CLUSTER_KAFKA_PORT ?? 29092);
/** Most time from the kill to the first 202 after it. */
const RESUME_LIMIT_MS = 30_000;

const failoverEntry = (id: string) => logEntry(id, "battery.failover");

/**
 * The node killed: node 1, the first bootstrap broker of every client (the case that once kept the gateway on a dead
 * node), and the partition it leads.
 */
const VICTIM = 1;

/** The partitions of `topic`: leader, replicas and in-sync replicas of each, asked of `brokers`. */
async function partitions(brokers: string[], topic: string) {
  const admin = createKafkaClient({ clientId: "kronos-battery-failover", brokers, retry: { retries: 5 } }).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return (topics[0]?.partitions ?? []).map((p) => ({
      partition: p.partitionId,
      leader: p.leader,
      replicas: p.replicas.length,
      isr: p.isr.length,
    }));
  } finally {
    await admin.disconnect();
  }
}

export async function kafkaFailover(context: BatteryContext): Promise<ScenarioResult> {
  const { size, harness, run } = context;
  // Three JVMs on the machine: the cluster takes far fewer publishes a second than one node (kafka-kill's 100,000).
  const count = size === "full" ? 20_000 : 2_000;
  const clients = 16;
  const prefix = `${run}-failover-`;
  const ledger = new Ledger();
  const problems: string[] = [];
  const requestTimeoutMs = context.publishTimeoutMs + 5000;

  const stateDir = mkdtempSync(join(tmpdir(), "kronos-battery-cluster-"));
  const settings = loadSettings({
    ...process.env,
    KRONOS_STATE_DIR: stateDir,
    KRONOS_KAFKA_NODES: "3",
    KRONOS_KAFKA_PORT: String(CLUSTER_PORT),
    KRONOS_KAFKA_ADVERTISED_PORT: String(CLUSTER_PORT),
    KRONOS_KAFKA_CONTROLLER_PORT: String(CLUSTER_PORT + 1),
  });
  harness.onCleanup(async () => {
    await stopService("kafka", settings);
    rmSync(stateDir, { recursive: true, force: true });
  });
  const brokerList = endpoints(settings).kafkaBrokers;
  const brokers = brokerList.split(",");
  console.log(`  starting a 3-node Kafka cluster of the scenario's own on ${brokerList}`);
  await startService("kafka", settings);
  const origin = await harness.gateway("gateway-cluster", context.principalsFile, {
    KAFKA_BROKERS: brokerList,
    GATEWAY_PUBLISH_TIMEOUT_MS: String(context.publishTimeoutMs),
  });
  const gateway = { origin, headers: context.gateway.headers };

  const before = await partitions(brokers, LOG_TOPIC);
  const led = before.find((p) => p.leader === VICTIM);
  if (!led) throw new Error(`node ${VICTIM} leads no partition of ${LOG_TOPIC}`);
  const underReplicated = before.filter((p) => p.replicas !== 3).length;
  if (underReplicated > 0) problems.push(`${underReplicated} partitions of ${LOG_TOPIC} have fewer than 3 replicas`);

  const saturation = await measureSaturation({
    ...gateway,
    clients,
    requestTimeoutMs,
    body: failoverEntry,
    idPrefix: `${run}-failover-sat-`,
    ledger,
    durationMs: size === "full" ? 5000 : 2000,
  });
  const minSeconds = size === "full" ? 60 : 20;
  const rate = Math.max(20, Math.round(Math.min(saturation * 0.5, count / minSeconds)));
  const from = await endOffsets(brokers, LOG_TOPIC);

  let killedAt = Number.NaN;
  let killed: number | undefined;
  let fault: Promise<void> = Promise.resolve();
  const at = new Map<number, () => void>();
  if (context.faults) {
    at.set(Math.floor(count * 0.3), () => {
      fault = (async () => {
        killed = VICTIM;
        await killKafkaNode(settings, VICTIM);
        killedAt = performance.now();
      })();
    });
  }
  console.log(
    `  kafka-failover: saturation ${Math.round(saturation)}/s; ${count} publishes at ${rate}/s from ${clients} clients` +
      (context.faults ? `, kill -9 node ${VICTIM} (leader of partition ${led.partition}) at 30%` : ", no faults"),
  );
  const load = await publishLoad({
    ...gateway,
    count,
    clients,
    ratePerSecond: rate,
    requestTimeoutMs,
    body: failoverEntry,
    idPrefix: prefix,
    ledger,
    at,
  });
  await fault;

  let resumedMs: number | undefined;
  let after: Awaited<ReturnType<typeof partitions>>[number] | undefined;
  if (context.faults) {
    const first = load.acceptedAt.find((time) => time >= killedAt);
    if (first === undefined) problems.push("no 202 after the leader was killed, to the end of the load");
    else {
      resumedMs = first - killedAt;
      if (resumedMs > RESUME_LIMIT_MS) {
        problems.push(
          `202s resumed ${(resumedMs / 1000).toFixed(1)} s after the kill (limit ${RESUME_LIMIT_MS / 1000} s)`,
        );
      }
    }
    after = (
      await partitions(
        brokers.filter((_, index) => index + 1 !== killed),
        LOG_TOPIC,
      )
    ).find((p) => p.partition === led.partition);
    if (!after) problems.push(`partition ${led.partition} is gone after the kill`);
    else if (after.leader === killed)
      problems.push(`partition ${led.partition} still led by the killed node ${killed}`);
  }
  problems.push(...loadProblems(load, requestTimeoutMs));

  // Read back from the two nodes left (the killed one stays down: what it had, the others have too).
  const alive = brokers.filter((_, index) => index + 1 !== killed);
  const to = await endOffsets(alive, LOG_TOPIC);
  await readKafkaBack({ brokers: alive, topic: LOG_TOPIC, from, to, prefix, ledger, timeoutMs: 120_000 });
  const counts = ledger.counts();
  if (counts.lost > 0) problems.push(`lost (first ids): ${ledger.missing().slice(0, 5).join(", ")}`);
  return {
    scenario: "kafka-failover",
    load: `${count.toLocaleString("en-US")} publishes at ${rate}/s (saturation ${Math.round(saturation)}/s), ${clients} clients, 3 replicas, min ISR 2`,
    faults: context.faults
      ? `kill -9 node ${killed} (the first bootstrap broker, leader of partition ${led.partition}) at 30%, not restarted`
      : "none (--no-faults)",
    ...countColumns(counts),
    serverErrors: load.serverErrors,
    problems: [...problems, ...load.samples.filter((s) => /^5\d\d/.test(s)).map((s) => `sample: ${s}`)],
    details: {
      statuses: JSON.stringify(load.statuses),
      ...(resumedMs !== undefined ? { resumedMs: Math.round(resumedMs) } : {}),
      ...(after ? { newLeader: after.leader, isrAfter: after.isr } : {}),
      elapsedMs: Math.round(load.elapsedMs),
    },
  };
}
