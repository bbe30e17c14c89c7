// The events the publish-side benchmarks send, and the queue that receives their alerts.
import { randomUUID } from "node:crypto";
import type { ChannelModel } from "amqplib";
import type { BenchHarness } from "./harness.js";

/** Gaia's alerts exchange (the benchmarks' WARNING alerts are routed to their own queue only). */
export const ALERT_EXCHANGE = "kronos.gaia.critical";

/** The event envelope every Kronos event starts with: a new event id, `producer`, no correlation or trace. */
export function benchMeta(producer: string, now = Date.now()) {
  return { eventId: randomUUID(), occurredAt: new Date(now), producer, correlationId: null, traceparent: null };
}

/** `count` LogEntry values (Avro JS values; `JSON.stringify` turns their Dates into what the gateway reads back). */
export function benchLogValues(count: number, logger: string, now = Date.now()) {
  return Array.from({ length: count }, (_, i) => ({
    meta: benchMeta("bench", now),
    timestamp: new Date(now),
    level: "INFO" as const,
    service: "bench",
    instance: `bench-${i % 4}`,
    logger,
    message: `request ${i} served in ${i % 97} ms`,
    attributes: { route: "/orders", status: "200" },
    traceId: null,
    spanId: null,
  }));
}

/** `count` WARNING CriticalAlert values. */
export function benchAlertValues(count: number, now = Date.now()) {
  return Array.from({ length: count }, (_, i) => ({
    meta: benchMeta("gaia", now),
    alertId: randomUUID(),
    severity: "WARNING" as const,
    sourceService: "bench",
    fingerprint: `fp-${i}`,
    title: "Login failures above 50/min",
    description: "Gaia saw 73 failed logins in the last minute.",
    labels: { region: "eu" },
    raisedAt: new Date(now),
    runbookUrl: null,
  }));
}

/**
 * Declares `queue`, bound to the alerts exchange with "#" (RabbitMQ's mandatory flag needs one queue to route the
 * benchmark's WARNING alerts to), purged and deleted at the harness's clean-up.
 */
export async function benchAlertQueue(harness: BenchHarness, connection: ChannelModel, queue: string): Promise<void> {
  const channel = await connection.createChannel();
  await channel.assertExchange(ALERT_EXCHANGE, "topic", { durable: true });
  await channel.assertQueue(queue, { durable: true, autoDelete: false });
  await channel.bindQueue(queue, ALERT_EXCHANGE, "#");
  await channel.close();
  harness.onCleanup(async () => {
    const cleaner = await connection.createChannel();
    await cleaner.purgeQueue(queue);
    await cleaner.deleteQueue(queue);
  });
}
