// Scenario 11: the gateway publishes at half its saturation while one SSE subscriber takes and acks everything, for
// 30 minutes (60 s in the short version). Every 202 must be delivered; the gateway's resident memory must not keep
// growing (slope ≤ 1 MB/min after the warm-up, in the full version), nor its handles and resources (libuv: sockets, timers), nor the
// deliveries it holds.
import { SseClient } from "@kronos/testkit";
import { Pool } from "undici";
import { CRITICAL_EXCHANGE, criticalAlert } from "./bodies.js";
import { type BatteryContext, sleep } from "./context.js";
import { Ledger } from "./ledger.js";
import { loadProblems, measureSaturation, publishLoad } from "./load.js";
import { countColumns, type ScenarioResult } from "./report.js";
import { sample, scrape, slope } from "./scrape.js";

const RSS_SLOPE_LIMIT_MB_PER_MIN = 1;
/** Most growth of handles and of resources from the end of the warm-up to the end (a few sockets come and go). */
const HANDLE_GROWTH_LIMIT = 20;
const WATCHED = ["nodejs_active_handles_total", "nodejs_active_resources_total", "gateway_deliveries_held"] as const;

export async function soak(context: BatteryContext): Promise<ScenarioResult> {
  const { size, harness, run, gateway } = context;
  const durationMs = size === "full" ? 30 * 60_000 : 60_000;
  const warmUpMs = durationMs / 5;
  const prefix = `${run}-soak-`;
  const ledger = new Ledger();
  const problems: string[] = [];
  // Alerts from a source service of the run's own: only the soak's queue is bound for them.
  const routingSource = `soak-${run}`;
  const body = (id: string) => {
    const alert = criticalAlert(id);
    return { ...alert, payload: { ...alert.payload, sourceService: routingSource } };
  };
  const queue = `kronos.battery.soak.${run}`;
  const channel = await (await harness.amqplib()).createChannel();
  await channel.assertQueue(queue, { durable: true, arguments: { "x-queue-type": "quorum" } });
  await channel.bindQueue(queue, CRITICAL_EXCHANGE, `alert.CRITICAL.${routingSource}`);
  harness.onCleanup(async () => {
    const cleanup = await (await harness.amqplib()).createChannel();
    await cleanup.deleteQueue(queue);
  });

  const clients = 16;
  const requestTimeoutMs = context.publishTimeoutMs + 5000;
  const saturation = await measureSaturation({
    ...gateway,
    clients,
    requestTimeoutMs,
    body,
    idPrefix: `${run}-soak-sat-`,
    ledger: new Ledger(),
    durationMs: size === "full" ? 5000 : 2000,
  });
  await channel.purgeQueue(queue);
  const rate = Math.max(10, Math.round(saturation * 0.5));
  const count = Math.round((rate * durationMs) / 1000);
  console.log(
    `  soak: saturation ${Math.round(saturation)}/s; ${count} publishes at ${rate}/s for ${durationMs / 1000} s`,
  );

  // The subscriber: takes every delivery and acks it (acks in flight at once, over a fixed set of connections, so
  // that the gateway's sockets do not grow with the acks' concurrency).
  const ackPool = new Pool(gateway.origin, { connections: 8 });
  harness.onCleanup(() => ackPool.close());
  const subscriber = await SseClient.open(
    `${gateway.origin}/subscribe/${encodeURIComponent(queue)}?prefetch=200&leaseMs=60000`,
    gateway.headers,
  );
  if (subscriber.status !== 200) throw new Error(`subscribe answered ${subscriber.status}: ${subscriber.errorBody}`);
  let subscribing = true;
  let ackFailures = 0;
  const acks = new Set<Promise<void>>();
  const consuming = (async () => {
    while (subscribing) {
      const message = await subscriber.nextMessage(2000).catch(() => undefined);
      if (!message) continue;
      if (message.data.messageId) ledger.readBack(message.data.messageId);
      const ack: Promise<void> = ackPool
        .request({
          method: "POST",
          path: `/ack/${encodeURIComponent(message.id)}`,
          headers: gateway.headers,
          headersTimeout: 10_000,
        })
        .then(
          async (response) => {
            await response.body.dump();
            if (response.statusCode !== 204) ackFailures++;
          },
          () => {
            ackFailures++;
          },
        );
      acks.add(ack);
      void ack.finally(() => acks.delete(ack));
      while (acks.size >= 100) await Promise.race(acks);
    }
  })();

  // The gauges, every 5 s (minutes since the start).
  const started = performance.now();
  const series = new Map<string, Array<[number, number]>>([
    ["rss", []],
    ...WATCHED.map((n) => [n, []] as [string, []]),
  ]);
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const text = await scrape(gateway.origin).catch(() => "");
      const minutes = (performance.now() - started) / 60_000;
      series.get("rss")?.push([minutes, sample(text, "process_resident_memory_bytes") / 1024 / 1024]);
      for (const name of WATCHED) series.get(name)?.push([minutes, sample(text, name)]);
      await sleep(5000);
    }
  })();

  const load = await publishLoad({
    ...gateway,
    count,
    clients,
    ratePerSecond: rate,
    requestTimeoutMs,
    body,
    idPrefix: prefix,
    ledger,
  });
  // Everything acknowledged delivered, or 60 s more.
  const deadline = performance.now() + 60_000;
  while (ledger.missing().length > 0 && performance.now() < deadline) await sleep(500);
  sampling = false;
  subscribing = false;
  await Promise.all([sampler, consuming, ...acks]);
  subscriber.close();

  const afterWarmUp = (name: string) =>
    (series.get(name) ?? []).filter(([minutes, value]) => minutes * 60_000 >= warmUpMs && Number.isFinite(value));
  const rssSlope = slope(afterWarmUp("rss"));
  // A minute is too short for a slope to mean a leak (the heap still settles): the short version reports it only.
  if (size === "full" && rssSlope > RSS_SLOPE_LIMIT_MB_PER_MIN) {
    problems.push(`RSS grew ${rssSlope.toFixed(2)} MB/min after the warm-up (limit ${RSS_SLOPE_LIMIT_MB_PER_MIN})`);
  }
  const growth: Record<string, number> = {};
  for (const name of WATCHED) {
    const points = afterWarmUp(name);
    const first = points[0]?.[1];
    const last = points.at(-1)?.[1];
    if (first === undefined || last === undefined) {
      problems.push(`no ${name} in the gateway's /metrics`);
      continue;
    }
    growth[name] = last - first;
    if (name !== "gateway_deliveries_held" && last - first > HANDLE_GROWTH_LIMIT) {
      problems.push(`${name} grew from ${first} to ${last}`);
    }
  }
  const held = afterWarmUp("gateway_deliveries_held").at(-1)?.[1] ?? 0;
  if (held > 200) problems.push(`the gateway still holds ${held} deliveries at the end`);
  if (ackFailures > 0) problems.push(`${ackFailures} acks not answered 204`);
  problems.push(...loadProblems(load, requestTimeoutMs));
  const counts = ledger.counts();
  if (counts.lost > 0)
    problems.push(`published, never delivered (first ids): ${ledger.missing().slice(0, 5).join(", ")}`);
  return {
    scenario: "soak",
    load: `${count.toLocaleString("en-US")} publishes at ${rate}/s (half of ${Math.round(saturation)}/s) for ${durationMs / 60_000} min, one SSE subscriber acking`,
    faults: "none (time)",
    ...countColumns(counts),
    serverErrors: load.serverErrors,
    problems,
    details: {
      rssSlopeMbPerMin: Number(rssSlope.toFixed(3)),
      rssEndMb: Math.round(series.get("rss")?.at(-1)?.[1] ?? Number.NaN),
      ...Object.fromEntries(Object.entries(growth).map(([name, value]) => [`${name}Growth`, value])),
      statuses: JSON.stringify(load.statuses),
    },
  };
}
