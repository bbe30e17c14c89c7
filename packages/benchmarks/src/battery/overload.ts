// Scenario 10: twice the measured saturation for a while. Only 202, 429 or 503 may answer (never a 500 or a hang),
// every 202 is read back, the gateway's memory stays bounded, and its latency is back to normal within 10 s after.
import { LOG_TOPIC, logEntry } from "./bodies.js";
import { type BatteryContext, sleep } from "./context.js";
import { Ledger } from "./ledger.js";
import { loadProblems, measureSaturation, publishLoad } from "./load.js";
import { endOffsets, readKafkaBack } from "./readback.js";
import { countColumns, type ScenarioResult } from "./report.js";
import { sample, scrape } from "./scrape.js";

const overloadEntry = (id: string) => logEntry(id, "battery.overload");
/** Answers an overloaded gateway may give. */
const ALLOWED = new Set(["202", "429", "503"]);
/** Most growth of the gateway's resident memory over its level before the overload. */
const RSS_BOUND_BYTES = 300 * 1024 * 1024;
const RECOVERY_LIMIT_MS = 10_000;

/** The gateway's resident memory in bytes, from its /metrics. */
const rss = async (origin: string) => sample(await scrape(origin), "process_resident_memory_bytes");

/** Median latency (ms) of `n` serial publishes. */
async function medianLatency(context: BatteryContext, ledger: Ledger, prefix: string, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await publishLoad({
      ...context.gateway,
      count: 1,
      clients: 1,
      ratePerSecond: 0,
      requestTimeoutMs: context.publishTimeoutMs + 5000,
      body: overloadEntry,
      idPrefix: `${prefix}${i}-`,
      ledger,
    });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

export async function overload(context: BatteryContext): Promise<ScenarioResult> {
  const { size, run, brokers, gateway } = context;
  const prefix = `${run}-overload-`;
  const ledger = new Ledger();
  const requestTimeoutMs = context.publishTimeoutMs + 5000;
  const saturation = await measureSaturation({
    ...gateway,
    clients: 128,
    requestTimeoutMs,
    body: overloadEntry,
    idPrefix: `${run}-sat-`,
    ledger,
    durationMs: size === "full" ? 5000 : 2000,
  });
  const seconds = size === "full" ? 60 : 10;
  const rate = Math.max(20, Math.round(saturation * 2));
  const count = rate * seconds;
  const from = await endOffsets(brokers, LOG_TOPIC);
  const baseline = await medianLatency(context, ledger, `${prefix}before-`, 20);
  const rssBefore = await rss(gateway.origin);
  let rssPeak = rssBefore;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rssPeak = Math.max(rssPeak, await rss(gateway.origin).catch(() => rssPeak));
      await sleep(1000);
    }
  })();
  console.log(`  overload: saturation ${Math.round(saturation)}/s; ${count} publishes at ${rate}/s from 128 clients`);
  const load = await publishLoad({
    ...gateway,
    count,
    clients: 128,
    ratePerSecond: rate,
    requestTimeoutMs,
    body: overloadEntry,
    idPrefix: prefix,
    ledger,
  });
  sampling = false;
  await sampler;

  // Back to normal: the median of 10 serial publishes within twice the one before (+ 20 ms of noise), once a second.
  const ended = performance.now();
  let recovered: number | undefined;
  let after = Number.NaN;
  for (let round = 0; performance.now() - ended < 30_000; round++) {
    after = await medianLatency(context, ledger, `${prefix}after-${round}-`, 10);
    if (after <= baseline * 2 + 20) {
      recovered = performance.now() - ended;
      break;
    }
    await sleep(1000);
  }
  const to = await endOffsets(brokers, LOG_TOPIC);
  await readKafkaBack({ brokers, topic: LOG_TOPIC, from, to, prefix, ledger, timeoutMs: 120_000 });
  const counts = ledger.counts();
  const problems: string[] = [];
  const others = Object.entries(load.statuses).filter(([status]) => !ALLOWED.has(status));
  if (others.length > 0) problems.push(`answers other than 202/429/503: ${JSON.stringify(Object.fromEntries(others))}`);
  problems.push(...loadProblems(load, requestTimeoutMs));
  if (!Number.isFinite(rssBefore)) problems.push("the gateway's /metrics has no process_resident_memory_bytes");
  if (rssPeak - rssBefore > RSS_BOUND_BYTES) {
    problems.push(
      `memory grew by ${Math.round((rssPeak - rssBefore) / 2 ** 20)} MB (bound ${RSS_BOUND_BYTES / 2 ** 20} MB)`,
    );
  }
  if (recovered === undefined || recovered > RECOVERY_LIMIT_MS) {
    problems.push(
      `latency not back to normal within ${RECOVERY_LIMIT_MS / 1000} s (median ${after.toFixed(0)} ms vs ${baseline.toFixed(0)} ms before)`,
    );
  }
  if (counts.lost > 0) problems.push(`lost (first ids): ${ledger.missing().slice(0, 5).join(", ")}`);
  return {
    scenario: "overload",
    load: `${count.toLocaleString("en-US")} publishes at ${rate}/s = 2 × saturation (${Math.round(saturation)}/s) for ${seconds} s, 128 clients`,
    faults: "overload",
    ...countColumns(counts),
    serverErrors: load.serverErrors,
    problems,
    details: {
      statuses: JSON.stringify(load.statuses),
      baselineMedianMs: Math.round(baseline),
      recoveredAfterMs: recovered === undefined ? "no" : Math.round(recovered),
      rssBeforeMB: Math.round(rssBefore / 2 ** 20),
      rssPeakMB: Math.round(rssPeak / 2 ** 20),
      elapsedMs: Math.round(load.elapsedMs),
      // Above the offered rate's half: the gateway took more than the saturation measured (a noisy machine).
      acceptedPerSecond: Math.round((load.acceptedAt.length * 1000) / load.elapsedMs),
    },
  };
}
