import type { ReadinessReport } from "@kronos/app-kit";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** How a publish ended, the `outcome` label of `gateway_publishes_total`. */
export type PublishOutcome =
  | "accepted"
  | "invalid"
  | "unroutable"
  | "rejected"
  | "unavailable"
  | "timeout"
  | "replayed"
  | "error";

/** The publish metrics of one gateway (in the app's registry). */
export interface PublishMetrics {
  /** Counts one message. */
  published(topic: string, broker: string, outcome: PublishOutcome, seconds?: number): void;
  /** Counts a payload refused by its schema. */
  validationFailed(event: string): void;
  /** Counts an answer replayed for a known `Idempotency-Key`. */
  replayed(route: string): void;
}

/**
 * Registers in `registry`: `gateway_publishes_total{topic,broker,outcome}`,
 * `gateway_publish_duration_seconds{broker,outcome}` (request start → broker acknowledgement or failure),
 * `gateway_validation_failures_total{event}` and `gateway_idempotent_replays_total{route}`. Labels are bounded:
 * topics and events come from the contract manifest, never from the raw request.
 */
export function createPublishMetrics(registry: Registry): PublishMetrics {
  const publishes = new Counter({
    name: "gateway_publishes_total",
    help: "Messages the gateway was asked to publish, by destination, broker and outcome.",
    labelNames: ["topic", "broker", "outcome"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "gateway_publish_duration_seconds",
    help: "Time from the publish request to the broker's acknowledgement (or the failure), in seconds.",
    labelNames: ["broker", "outcome"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const validation = new Counter({
    name: "gateway_validation_failures_total",
    help: "Publish payloads refused by their event schema, by event.",
    labelNames: ["event"] as const,
    registers: [registry],
  });
  const replays = new Counter({
    name: "gateway_idempotent_replays_total",
    help: "Answers replayed for a repeated Idempotency-Key (nothing published again).",
    labelNames: ["route"] as const,
    registers: [registry],
  });
  return {
    published(topic, broker, outcome, seconds) {
      publishes.inc({ topic, broker, outcome });
      if (seconds !== undefined) latency.observe({ broker, outcome }, seconds);
    },
    validationFailed(event) {
      validation.inc({ event });
    },
    replayed(route) {
      replays.inc({ route });
    },
  };
}

/** The dependencies whose connection state `gateway_broker_connected` reports (the readiness checks' names). */
export const CONNECTION_CHECKS = ["kafka", "rabbitmq", "registry"] as const;

/**
 * Registers in `registry` the gauge `gateway_broker_connected{broker}`: 1 when the readiness check of `kafka`,
 * `rabbitmq` or `registry` passes, 0 when it fails. The checks run when the metrics are scraped (concurrent
 * scrapes share one run; each check is bounded by the readiness timeout, 2 s by default, so a scrape never hangs),
 * so the figure is as fresh as `/readyz`, which runs the same `check()`.
 */
export function createConnectionMetrics(registry: Registry, check: () => Promise<ReadinessReport>): void {
  let running: Promise<ReadinessReport> | undefined;
  new Gauge({
    name: "gateway_broker_connected",
    help: "1 when the gateway's connection to the broker (kafka, rabbitmq) or the schema registry works, else 0.",
    labelNames: ["broker"] as const,
    registers: [registry],
    async collect() {
      running ??= check().finally(() => {
        running = undefined;
      });
      const report = await running;
      for (const broker of CONNECTION_CHECKS) this.set({ broker }, report.checks[broker]?.ok ? 1 : 0);
    },
  });
}
