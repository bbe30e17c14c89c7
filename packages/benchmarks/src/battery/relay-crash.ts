// Scenario 5: Gaia's critical alerts flow from Kafka through the built relay into RabbitMQ while the relay is killed
// with SIGKILL three times and each broker is killed and restarted once. Every alert Kafka acknowledged must reach
// the destination queue; a copy may repeat only what was in flight when a process died (the relay's dedup window in
// Redis removes every other repeat), and the route must resume by itself after each broker's return.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type ServerProcess, startServerProcess, waitForHttp } from "@kronos/app-kit/testing/process";
import { RegistrySerde } from "@kronos/contracts";
import { killService } from "@kronos/local-stack";
import { writeRelayManifest } from "@kronos/testkit";
import { createKafkaClient } from "@kronos/transport/kafkajs";
import amqplib, { type ChannelModel } from "amqplib";
import { stack } from "../harness.js";
import { framedAlert } from "./bodies.js";
import { type BatteryContext, pollUntil, restart, sleep } from "./context.js";
import { Ledger } from "./ledger.js";
import { drainQueueBack } from "./readback.js";
import { countColumns, type ScenarioResult } from "./report.js";

const relayDist = dirname(fileURLToPath(import.meta.resolve("@kronos/relay")));
const schemasDir = fileURLToPath(new URL("../../../../schemas", import.meta.url));
const ROUTE = "batteryRelay";
const PARTITIONS = 3;
/** The relay's messages in flight per partition (`RELAY_PREFETCH`): what a kill may repeat, per partition. */
const PREFETCH = 50;

type Fault = { readonly at: number; readonly what: "relay" | "kafka" | "rabbitmq" };
/** When (share of the alerts at the destination) each fault comes. */
const FAULTS: readonly Fault[] = [
  { at: 0.15, what: "relay" },
  { at: 0.3, what: "kafka" },
  { at: 0.45, what: "relay" },
  { at: 0.6, what: "rabbitmq" },
  { at: 0.75, what: "relay" },
];

export async function relayCrash(context: BatteryContext): Promise<ScenarioResult> {
  const { size, harness, run } = context;
  const total = size === "full" ? 50_000 : 3_000;
  const ratePerSecond = size === "full" ? 1000 : 100;
  const prefix = `${run}-relay-`;
  const ledger = new Ledger();
  const problems: string[] = [];
  const topic = `kronos.battery.relay.${run}`;
  const exchange = `kronos.battery.relay.${run}`;
  const queue = `kronos.battery.relay.${run}.sink`;
  const scratch = mkdtempSync(join(tmpdir(), "kronos-battery-relay-"));
  const dir = writeRelayManifest({
    schemasDir,
    into: scratch,
    routeId: ROUTE,
    topic,
    partitions: PARTITIONS,
    exchange,
    consumerGroup: `kronos.battery.relay.${run}`,
  });

  const connection = await harness.amqplib();
  const setup = await connection.createChannel();
  await setup.assertExchange(exchange, "topic", { durable: true });
  await setup.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
  await setup.bindQueue(queue, exchange, "#");
  await setup.close();
  harness.onCleanup(async () => {
    rmSync(scratch, { recursive: true, force: true });
    const cleanup = await (await harness.amqplib()).createChannel();
    await cleanup.deleteQueue(queue);
    await cleanup.deleteExchange(exchange);
    const admin = createKafkaClient({ clientId: "kronos-battery-cleanup", brokers: context.brokers }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).finally(() => admin.disconnect());
  });

  let generation = 0;
  let relay: ServerProcess | undefined;
  const startRelay = async (): Promise<ServerProcess> => {
    const port = await freePort();
    const server = startServerProcess(join(relayDist, "server.js"), {
      KAFKA_BROKERS: stack.kafkaBrokers,
      SCHEMA_REGISTRY_URL: stack.registryUrl,
      RABBITMQ_URL: stack.rabbitmqUrl,
      RABBITMQ_MANAGEMENT_URL: stack.rabbitmqManagementUrl,
      LOG_LEVEL: "warn",
      RELAY_PORT: String(port),
      RELAY_SCHEMAS_DIR: dir,
      RELAY_ROUTES: ROUTE,
      RELAY_PRINCIPALS_FILE: context.principalsFile,
      RELAY_INSTANCE_ID: `battery-${++generation}`,
      RELAY_PREFETCH: String(PREFETCH),
      RELAY_PUBLISH_TIMEOUT_MS: "3000",
      RELAY_BACKOFF_MS: "250",
      RELAY_MAX_BACKOFF_MS: "2000",
    });
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000).catch((error: unknown) => {
      server.kill("SIGKILL");
      throw new Error(`the relay did not start: ${String(error)}\n${server.stderr().slice(-2000)}`);
    });
    return server;
  };
  harness.onCleanup(async () => {
    relay?.kill("SIGKILL");
    await relay?.exited;
  });
  relay = await startRelay();

  // The alerts, framed by the catalog's codec (the relay checks each frame's schema id against the route).
  const serde = new RegistrySerde({ url: stack.registryUrl, autoRegister: true });
  const alert = (id: string) => framedAlert(serde, id, "relayed by the reliability battery");

  // The source: a producer that keeps trying a batch until Kafka acknowledges it (acks=all), also across Kafka's
  // restart. Only acknowledged alerts are owed at the destination.
  const producer = createKafkaClient({
    clientId: "kronos-battery-relay",
    brokers: context.brokers,
    retry: { retries: 5, maxRetryTime: 2000 },
  }).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const started = performance.now();
  const producing = (async () => {
    const batch = Math.max(10, ratePerSecond / 10);
    for (let from = 0; from < total; from += batch) {
      const ids = Array.from({ length: Math.min(batch, total - from) }, (_, i) => `${prefix}${from + i}`);
      const messages = await Promise.all(
        ids.map(async (id) => ({ key: id, value: await alert(id), headers: { "message-id": id } })),
      );
      for (const id of ids) ledger.sent(id);
      const deadline = performance.now() + 120_000;
      for (;;) {
        try {
          await producer.send({ topic, acks: -1, messages });
          for (const id of ids) ledger.acknowledged(id);
          break;
        } catch (error) {
          if (performance.now() > deadline) {
            problems.push(`Kafka did not take a batch for 120 s: ${String(error).slice(0, 200)}`);
            return;
          }
          await sleep(500);
        }
      }
      const due = started + ((from + batch) / ratePerSecond) * 1000;
      if (due > performance.now()) await sleep(due - performance.now());
    }
  })();

  // Progress: the destination queue's depth (nobody consumes it until the end), read through broker restarts.
  let probe: ChannelModel | undefined;
  const depth = async (): Promise<number | undefined> => {
    try {
      if (!probe) {
        probe = await amqplib.connect(stack.rabbitmqUrl);
        probe.on("error", () => undefined);
        probe.on("close", () => {
          probe = undefined;
        });
      }
      const channel = await probe.createChannel();
      try {
        return (await channel.checkQueue(queue)).messageCount;
      } finally {
        await channel.close().catch(() => undefined);
      }
    } catch {
      return undefined;
    }
  };
  harness.onCleanup(async () => probe?.close());
  const waitForDepth = async (count: number, limitMs: number, what: string): Promise<boolean> => {
    const deadline = performance.now() + limitMs;
    while (performance.now() < deadline) {
      if (((await depth()) ?? -1) >= count) return true;
      await sleep(250);
    }
    problems.push(`${what}: fewer than ${count} alerts at the destination after ${limitMs / 1000} s`);
    return false;
  };

  const done: string[] = [];
  const resumedMs: number[] = [];
  if (context.faults) {
    for (const fault of FAULTS) {
      if (!(await waitForDepth(Math.floor(total * fault.at), 180_000, `before the ${fault.what} fault`))) break;
      if (fault.what === "relay") {
        relay.kill("SIGKILL");
        await relay.exited;
        relay = await startRelay();
        done.push("relay");
        continue;
      }
      await killService(fault.what);
      await sleep(3000);
      await restart(fault.what);
      const back = performance.now();
      const before = (await pollUntil(depth, 60_000)) ?? 0;
      // The route resumes by itself: the destination grows again without anyone touching the relay (or it already
      // holds everything Kafka acknowledged so far: it resumed before it could be read).
      const target = Math.min(before + 1, ledger.counts().acknowledged);
      if (await waitForDepth(target, 120_000, `after ${fault.what}'s return`)) {
        resumedMs.push(performance.now() - back);
      }
      done.push(fault.what);
    }
  }
  await producing;
  await producer.disconnect().catch(() => undefined);
  const acknowledged = ledger.counts().acknowledged;
  await waitForDepth(acknowledged, 300_000, "at the end");
  relay.kill("SIGTERM");
  await relay.exited;
  relay = undefined;
  await drainQueueBack({ connection: await harness.amqplib(), queue, prefix, ledger, timeoutMs: 180_000 });

  const counts = ledger.counts();
  const kills = done.filter((what) => what === "relay" || what === "rabbitmq").length;
  const bound = (kills + (done.includes("kafka") ? 1 : 0)) * PARTITIONS * PREFETCH;
  if (counts.lost > 0) problems.push(`lost (first ids): ${ledger.missing().slice(0, 5).join(", ")}`);
  if (counts.duplicated > bound) {
    problems.push(`${counts.duplicated} alerts arrived twice; at most ${bound} were in flight at the faults`);
  }
  return {
    scenario: "relay-crash",
    load: `${total.toLocaleString("en-US")} alerts at ${ratePerSecond}/s into Kafka, relayed to a RabbitMQ quorum queue`,
    faults: context.faults ? `kill -9: ${done.join(", ")} (brokers restarted after 3 s)` : "none (--no-faults)",
    ...countColumns(counts),
    serverErrors: 0,
    problems,
    details: {
      duplicateBound: bound,
      ...(resumedMs.length > 0 ? { resumedMs: resumedMs.map((ms) => Math.round(ms)).join("/") } : {}),
      elapsedMs: Math.round(performance.now() - started),
    },
  };
}
