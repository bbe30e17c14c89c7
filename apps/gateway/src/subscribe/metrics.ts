import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** What became of a message a subscription received, the `outcome` label of `gateway_deliveries_total`. */
export type DeliveryOutcome = "sent" | "filtered" | "decode_failed" | "decode_retry";

/** How a held delivery was settled, the `action` label of `gateway_settlements_total`. */
export type SettleAction = "ack" | "retry" | "dead_letter" | "reject" | "lease_expired";

/** The subscribe metrics of one gateway (in the app's registry). */
export interface SubscribeMetrics {
  delivered(broker: string, outcome: DeliveryOutcome): void;
  settled(broker: string, action: SettleAction): void;
  /** One request settled `items` deliveries: a bulk settle (`POST /settle`) or a cumulative ack. */
  batch(kind: "settle" | "ack_through", items: number): void;
  subscriptionOpened(broker: string): void;
  subscriptionClosed(broker: string): void;
}

/**
 * Registers `gateway_subscriptions{broker}` (open SSE streams), `gateway_deliveries_total{broker,outcome}`,
 * `gateway_settlements_total{broker,action}`, `gateway_settle_batch_items{kind}` (deliveries per bulk request) and `gateway_deliveries_held` (unsettled deliveries clients hold,
 * read from `held()` at scrape time). Labels are bounded: no queue or topic names (clients choose those).
 */
export function createSubscribeMetrics(registry: Registry, held: () => number): SubscribeMetrics {
  const subscriptions = new Gauge({
    name: "gateway_subscriptions",
    help: "Open subscription streams, by broker.",
    labelNames: ["broker"] as const,
    registers: [registry],
  });
  const deliveries = new Counter({
    name: "gateway_deliveries_total",
    help: "Messages subscriptions received, by broker and what became of them.",
    labelNames: ["broker", "outcome"] as const,
    registers: [registry],
  });
  const settlements = new Counter({
    name: "gateway_settlements_total",
    help: "Deliveries settled, by broker and how (ack, retry, dead_letter, reject, lease_expired).",
    labelNames: ["broker", "action"] as const,
    registers: [registry],
  });
  const batches = new Histogram({
    name: "gateway_settle_batch_items",
    help: "Deliveries one request settled: POST /settle items (kind settle), POST /ack-through acks (ack_through).",
    labelNames: ["kind"] as const,
    buckets: [1, 10, 50, 100, 500, 1000, 2000, 5000, 10_000],
    registers: [registry],
  });
  new Gauge({
    name: "gateway_deliveries_held",
    help: "Deliveries sent to clients and not settled yet.",
    registers: [registry],
    collect() {
      this.set(held());
    },
  });
  return {
    delivered: (broker, outcome) => deliveries.inc({ broker, outcome }),
    settled: (broker, action) => settlements.inc({ broker, action }),
    batch: (kind, items) => batches.observe({ kind }, items),
    subscriptionOpened: (broker) => subscriptions.inc({ broker }),
    subscriptionClosed: (broker) => subscriptions.dec({ broker }),
  };
}
