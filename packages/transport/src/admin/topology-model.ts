/**
 * The topology transport creates (`ensureTopology`), as plain data of its own: the contract manifest's topics,
 * exchanges and queues. Structurally what `loadCatalog` of @kronos/catalog gives (a `Catalog` is a
 * {@link Topology}), without making a broker adapter depend on the schema loader.
 */

/** A Kafka topic to create. */
export interface TopologyTopic {
  readonly broker: "kafka";
  readonly topic: string;
  readonly partitions: number;
  /** Replication factor wanted (capped at the cluster's broker count). */
  readonly replicas: number;
  /** `cleanup.policy`; empty for the broker's default. */
  readonly cleanupPolicy: readonly ("delete" | "compact")[];
  /** `retention.ms`; null for the broker's default. -1 keeps forever. */
  readonly retentionMs: number | null;
}

/** Where a queue's rejected or expired messages go (`x-dead-letter-exchange` and friends). */
export interface TopologyDeadLetter {
  /** Dead-letter exchange (`x-dead-letter-exchange`), declared as a durable topic exchange. */
  readonly exchange: string;
  /** `x-dead-letter-routing-key`; null keeps the original key (the DLQ is then bound with `#`). */
  readonly routingKey: string | null;
  /** Queue bound to the dead-letter exchange; null when there is none to declare. */
  readonly queue: string | null;
}

/** A RabbitMQ queue to declare on its exchange. */
export interface TopologyQueue {
  readonly name: string;
  readonly type: "classic" | "quorum";
  readonly durable: boolean;
  /** Keys the queue is bound to the exchange with; empty binds it with "" (fanout exchanges). */
  readonly bindingKeys: readonly string[];
  /** `x-max-priority` (classic queues only); null for none. */
  readonly maxPriority: number | null;
  /** `x-delivery-limit` (quorum queues only); null for the broker's default. */
  readonly deliveryLimit: number | null;
  readonly deadLetter: TopologyDeadLetter | null;
}

/** A RabbitMQ exchange to declare, with its queues. */
export interface TopologyExchange {
  readonly broker: "rabbitmq";
  readonly name: string;
  readonly type: "direct" | "topic" | "fanout" | "headers";
  readonly durable: boolean;
  readonly autoDelete: boolean;
  readonly queues: readonly TopologyQueue[];
}

/** A topic or an exchange. */
export type TopologyDestination = TopologyTopic | TopologyExchange;

/** Everything {@link ensureTopology} creates. */
export interface Topology {
  readonly destinations: readonly TopologyDestination[];
}
