/**
 * Consumer metrics for any app that consumes through the transport's subscriptions. Create them once per registry
 * with {@link createConsumeMetrics} and pass the result to `createKafkaSubscription` / `createAmqpSubscription` as
 * `metrics`; a subscription without it records nothing. Dashboards and alert rules are written against
 * {@link CONSUME_METRIC_NAMES}: renaming one is a breaking change.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { DeadLetterReason } from "../consume/dead-letter.js";

/** The metric names, for dashboards, alert rules and tests. */
export const CONSUME_METRIC_NAMES = {
  /** Counter `{broker, source, group}`: deliveries handed to a handler (redeliveries included). */
  deliveries: "kronos_consumer_deliveries_total",
  /** Counter `{broker, source, group, outcome}`: outcome `ack`, `retry`, `dead_letter` or `released`. */
  settlements: "kronos_consumer_settlements_total",
  /** Counter `{broker, source, group}`: retry copies written. */
  retries: "kronos_consumer_retries_total",
  /** Counter `{broker, destination, reason}`: dead letters written, by dead-letter topic or exchange and reason. */
  deadLetters: "kronos_dead_letters_total",
  /** Gauge `{broker, source, group}`: deliveries held unsettled (RabbitMQ unacked, Kafka held records). */
  inFlight: "kronos_consumer_in_flight",
} as const;

/**
 * How a delivery left the subscription: acked, retried (a retry copy written), dead-lettered, or `released`: given
 * back to the broker unsettled (`release()`, lease expiry, a lost channel, close).
 */
export type SettlementOutcome = "ack" | "retry" | "dead_letter" | "released";

/** The labels that name one subscription: broker, topic or queue, consumer group or subscription name. */
export interface ConsumeLabels {
  readonly broker: "kafka" | "rabbitmq";
  /** The topic (Kafka) or queue (RabbitMQ) consumed. */
  readonly source: string;
  /** The consumer group (Kafka), else the subscription's consumer name. */
  readonly group: string;
}

/** What {@link createConsumeMetrics} returns: pass it to the subscriptions as their `metrics` option. */
export interface ConsumeMetrics {
  /** The recorder of one subscription (called by the subscriptions themselves). */
  forSubscription(labels: ConsumeLabels): ConsumeRecorder;
}

/** Records the events of one subscription. */
export interface ConsumeRecorder {
  delivered(): void;
  settled(outcome: SettlementOutcome): void;
  retried(): void;
  deadLettered(destination: string, reason: DeadLetterReason): void;
  /** The deliveries held unsettled changed by `delta`. */
  held(delta: number): void;
  /** The subscription is gone: whatever it still counted as held no longer is. */
  close(): void;
}

/** A recorder that records nothing: what a subscription without `metrics` uses. */
export const NO_CONSUME_METRICS: ConsumeRecorder = {
  delivered() {},
  settled() {},
  retried() {},
  deadLettered() {},
  held() {},
  close() {},
};

/**
 * Registers the consumer metrics ({@link CONSUME_METRIC_NAMES}) on `registry`, or takes them over when this
 * registry has them already (a second call returns metrics that add to the same series). Throws prom-client's
 * error when the registry holds a different metric under one of these names.
 */
export function createConsumeMetrics(registry: Registry): ConsumeMetrics {
  const n = CONSUME_METRIC_NAMES;
  const subscription = ["broker", "source", "group"] as const;
  // Takes over a metric this registry has already (a second call), else registers it.
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] });
  const deliveries = counter(
    n.deliveries,
    "Deliveries handed to a consumer's handler, redeliveries included, by broker, source and group.",
    subscription,
  );
  const settlements = counter(
    n.settlements,
    "Deliveries settled, by outcome: ack, retry, dead_letter, released (given back unsettled).",
    [...subscription, "outcome"],
  );
  const retries = counter(
    n.retries,
    "Retry copies written (to a delay queue or retry topic), by broker, source and group.",
    subscription,
  );
  const deadLetters = counter(
    n.deadLetters,
    "Dead letters written by consumers, by broker, dead-letter topic or exchange, and reason.",
    ["broker", "destination", "reason"],
  );
  const inFlight =
    (registry.getSingleMetric(n.inFlight) as Gauge<(typeof subscription)[number]> | undefined) ??
    new Gauge({
      name: n.inFlight,
      help: "Deliveries held unsettled by subscriptions (RabbitMQ unacked, Kafka held records).",
      labelNames: subscription,
      registers: [registry],
    });

  return {
    forSubscription(labels) {
      const own = { broker: labels.broker, source: labels.source, group: labels.group };
      let held = 0;
      return {
        delivered: () => deliveries.inc(own),
        settled: (outcome) => settlements.inc({ ...own, outcome }),
        retried: () => retries.inc(own),
        deadLettered: (destination, reason) => deadLetters.inc({ broker: labels.broker, destination, reason }),
        held(delta) {
          if (delta === 0) return;
          held += delta;
          inFlight.inc(own, delta);
        },
        close() {
          if (held !== 0) inFlight.dec(own, held);
          held = 0;
        },
      };
    },
  };
}
