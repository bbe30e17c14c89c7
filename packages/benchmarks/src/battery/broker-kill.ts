// Scenarios 1 and 2: kill -9 a broker while clients publish through the gateway; restart it. Every publish answered
// 202 must be read back (by message id); while the broker is down the gateway answers 503 with Retry-After, never
// another 5xx and never a hang; 202s come back within the limit after the broker's return.
import { killService } from "@kronos/local-stack";
import { CRITICAL_EXCHANGE, criticalAlert, LOG_TOPIC, logEntry } from "./bodies.js";
import { type BatteryContext, recoveryMs, restart, sleep } from "./context.js";
import { Ledger } from "./ledger.js";
import { loadProblems, measureSaturation, publishLoad } from "./load.js";
import { endOffsets, readBack } from "./readback.js";
import { countColumns, type ScenarioResult } from "./report.js";

interface KillPlan {
  readonly broker: "kafka" | "rabbitmq";
  readonly scenario: string;
  /** Publishes in the full and the short version. */
  readonly counts: { readonly full: number; readonly short: number };
  /** Most time from the broker's return to the first 202 again. */
  readonly recoveryLimitMs: number;
  readonly body: (id: string) => unknown;
}

const PLANS = {
  "kafka-kill": {
    broker: "kafka",
    scenario: "kafka-kill",
    counts: { full: 100_000, short: 2_000 },
    recoveryLimitMs: 30_000,
    body: logEntry,
  },
  "rabbitmq-kill": {
    broker: "rabbitmq",
    scenario: "rabbitmq-kill",
    counts: { full: 100_000, short: 2_000 },
    recoveryLimitMs: 15_000,
    body: criticalAlert,
  },
} as const satisfies Record<string, KillPlan>;

/** Kills `plan.broker` with SIGKILL 30% into the load, waits, starts it again; counts what came through. */
async function brokerKill(context: BatteryContext, plan: KillPlan): Promise<ScenarioResult> {
  const { size, harness, run, brokers } = context;
  const count = plan.counts[size];
  const clients = 16;
  const prefix = `${run}-${plan.scenario}-`;
  const ledger = new Ledger();
  const requestTimeoutMs = context.publishTimeoutMs + 5000;

  // The scenario's own durable quorum queue on the exchange (RabbitMQ), read back afterwards and deleted.
  let queue: string | undefined;
  if (plan.broker === "rabbitmq") {
    queue = `kronos.battery.${plan.scenario}.${run}`;
    const connection = await harness.amqplib();
    const channel = await connection.createChannel();
    await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
    await channel.bindQueue(queue, CRITICAL_EXCHANGE, "alert.CRITICAL.auth");
    await channel.close();
    harness.onCleanup(async () => {
      const cleanup = await harness.amqplib();
      const ch = await cleanup.createChannel();
      await ch.deleteQueue(queue as string);
    });
  }

  // Calibrated load: half the gateway's saturation here, stretched to last long enough to span the outage.
  const saturation = await measureSaturation({
    ...context.gateway,
    clients,
    requestTimeoutMs,
    body: plan.body,
    idPrefix: `${run}-sat-`,
    ledger,
    durationMs: size === "full" ? 5000 : 2000,
  });
  const minSeconds = size === "full" ? 60 : 20;
  const rate = Math.max(20, Math.round(Math.min(saturation * 0.5, count / minSeconds)));
  const downMs = size === "full" ? 5000 : 3000;

  const from = plan.broker === "kafka" ? await endOffsets(brokers, LOG_TOPIC) : new Map<number, bigint>();
  let killedAt = Number.NaN;
  let backAt = Number.NaN;
  let fault: Promise<void> = Promise.resolve();
  const at = new Map<number, () => void>();
  if (context.faults) {
    at.set(Math.floor(count * 0.3), () => {
      fault = (async () => {
        await killService(plan.broker);
        killedAt = performance.now();
        await sleep(downMs);
        await restart(plan.broker);
        backAt = performance.now();
      })();
    });
  }
  console.log(
    `  ${plan.scenario}: saturation ${Math.round(saturation)}/s; ${count} publishes at ${rate}/s from ${clients} clients` +
      (context.faults ? `, kill -9 ${plan.broker} at 30%` : ", no faults"),
  );
  const load = await publishLoad({
    ...context.gateway,
    count,
    clients,
    ratePerSecond: rate,
    requestTimeoutMs,
    body: plan.body,
    idPrefix: prefix,
    ledger,
    at,
  });
  await fault;
  const problems: string[] = [];
  let recovery: number | undefined;
  if (context.faults) {
    recovery = await recoveryMs(
      context,
      load.acceptedAt,
      backAt,
      { body: plan.body, ledger, idPrefix: prefix },
      60_000,
    );
    if (recovery === undefined) problems.push(`no 202 within 60 s of ${plan.broker}'s return`);
    else if (recovery > plan.recoveryLimitMs) {
      problems.push(
        `202s resumed ${(recovery / 1000).toFixed(1)} s after ${plan.broker}'s return (limit ${plan.recoveryLimitMs / 1000} s)`,
      );
    }
  }
  problems.push(...loadProblems(load, requestTimeoutMs));

  await readBack({
    broker: plan.broker,
    brokers,
    topic: LOG_TOPIC,
    from,
    queue,
    connect: () => harness.amqplib(),
    prefix,
    ledger,
  });
  const counts = ledger.counts();
  if (counts.lost > 0) problems.push(`lost (first ids): ${ledger.missing().slice(0, 5).join(", ")}`);
  return {
    scenario: plan.scenario,
    load: `${count.toLocaleString("en-US")} publishes at ${rate}/s (saturation ${Math.round(saturation)}/s), ${clients} clients`,
    faults: context.faults ? `kill -9 ${plan.broker} at 30%, restarted after ${downMs / 1000} s` : "none (--no-faults)",
    ...countColumns(counts),
    serverErrors: load.serverErrors,
    problems: [...problems, ...load.samples.filter((s) => /^5\d\d/.test(s)).map((s) => `sample: ${s}`)],
    details: {
      statuses: JSON.stringify(load.statuses),
      ...(recovery !== undefined ? { recoveryMs: Math.round(recovery) } : {}),
      ...(Number.isFinite(killedAt) && Number.isFinite(backAt) ? { outageMs: Math.round(backAt - killedAt) } : {}),
      elapsedMs: Math.round(load.elapsedMs),
    },
  };
}

export const kafkaKill = (context: BatteryContext) => brokerKill(context, PLANS["kafka-kill"]);
export const rabbitmqKill = (context: BatteryContext) => brokerKill(context, PLANS["rabbitmq-kill"]);
