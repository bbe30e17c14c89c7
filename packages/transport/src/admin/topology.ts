import { TransportError, type TransportErrorCode } from "../errors.js";
import type { KafkaConnection } from "../kafka/connection.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import type { AmqpConnectionManager } from "../rabbitmq/connection-manager.js";
import { createTopic, kafkaBrokerCount, type TopicCleanupPolicy } from "./kafka-topics.js";
import { planManifestQueue } from "./queue-plan.js";
import { applyQueuePlan, type DeclaredObject, ensureExchange } from "./rabbitmq-queues.js";
import type { Topology } from "./topology-model.js";

/** One broker object of the topology. */
export interface TopologyItem {
  broker: "kafka" | "rabbitmq";
  kind: "topic" | "exchange" | "queue";
  name: string;
}

/** An object that exists with other settings than the manifest's (left as it is). */
export interface TopologyConflict extends TopologyItem {
  /** `TOPIC_CONFLICT`, `QUEUE_CONFLICT` or `INVALID_OPTIONS`. */
  code: TransportErrorCode;
  /** Names the object and what differs. */
  message: string;
}

/** What {@link ensureTopology} did, each object once (a shared DLX or DLQ is listed once). */
export interface TopologyReport {
  created: TopologyItem[];
  existing: TopologyItem[];
  conflicts: TopologyConflict[];
  /** Replication factor used for the Kafka topics: the manifest's, capped at the cluster's broker count. */
  kafkaBrokers: number | null;
}

/** Options of {@link ensureTopology}. */
export interface EnsureTopologyOptions {
  /** What to create: the contract manifest's topology (a `Catalog` of @kronos/catalog is one). */
  catalog: Topology;
  /** Creates the Kafka topics when given. */
  kafka?: KafkaConnection;
  /** Declares the RabbitMQ exchanges, queues and bindings when given. */
  amqp?: AmqpConnectionManager;
  /** Where each created object and conflict is logged. Default: nowhere. */
  logger?: TransportLogger;
}

const CONFLICT_CODES: readonly TransportErrorCode[] = ["TOPIC_CONFLICT", "QUEUE_CONFLICT", "INVALID_OPTIONS"];

/**
 * Creates what the contract manifest declares: every Kafka topic (partitions, `retention.ms`, `cleanup.policy`;
 * the replication factor capped at the cluster's broker count, so a single-node development cluster works), and
 * every RabbitMQ exchange with its declared queues (type, max priority, delivery limit, dead-letter exchange and
 * queue) and bindings. Idempotent: a second run reports everything as existing. An object that exists with other
 * settings is left untouched and reported as a conflict (the run goes on); the queues of a conflicting exchange
 * are skipped. The manager's connection decides the vhost (the manifest's `vhost` is not switched to).
 *
 * Throws a {@link TransportError} only when a broker cannot be used (`KAFKA_UNAVAILABLE`, `RABBITMQ_UNAVAILABLE`,
 * `TIMEOUT`, `CLOSED`); re-running after it is back finishes the job.
 */
export async function ensureTopology(options: EnsureTopologyOptions): Promise<TopologyReport> {
  const logger = options.logger ?? silentLogger;
  const report: TopologyReport = { created: [], existing: [], conflicts: [], kafkaBrokers: null };
  const seen = new Set<string>();
  const record = (item: TopologyItem, outcome: "created" | "exists") => {
    const key = `${item.broker}:${item.kind}:${item.name}`;
    if (seen.has(key)) return;
    seen.add(key);
    (outcome === "created" ? report.created : report.existing).push(item);
    if (outcome === "created") logger.info({ ...item }, `created ${item.kind} ${item.name}`);
  };
  const conflict = (item: TopologyItem, error: unknown): boolean => {
    if (!(error instanceof TransportError) || !CONFLICT_CODES.includes(error.code)) return false;
    report.conflicts.push({ ...item, code: error.code, message: error.message });
    logger.warn({ ...item, code: error.code }, error.message);
    return true;
  };

  if (options.kafka) {
    const kafka = options.kafka;
    const brokers = await kafkaBrokerCount(kafka);
    report.kafkaBrokers = brokers;
    for (const destination of options.catalog.destinations) {
      if (destination.broker !== "kafka") continue;
      const item: TopologyItem = { broker: "kafka", kind: "topic", name: destination.topic };
      try {
        const outcome = await createTopic(kafka, destination.topic, {
          partitions: destination.partitions,
          replicationFactor: Math.max(1, Math.min(destination.replicas, brokers)),
          ...(destination.retentionMs === null ? {} : { retentionMs: destination.retentionMs }),
          ...(destination.cleanupPolicy.length === 0
            ? {}
            : { cleanupPolicy: [...destination.cleanupPolicy].sort().join(",") as TopicCleanupPolicy }),
        });
        record(item, outcome);
      } catch (error) {
        if (!conflict(item, error)) throw error;
      }
    }
  }

  if (options.amqp) {
    const amqp = options.amqp;
    const recordDeclared = (declared: DeclaredObject) =>
      record({ broker: "rabbitmq", kind: declared.kind, name: declared.name }, declared.outcome);
    for (const destination of options.catalog.destinations) {
      if (destination.broker !== "rabbitmq") continue;
      const exchange: TopologyItem = { broker: "rabbitmq", kind: "exchange", name: destination.name };
      try {
        recordDeclared(
          await ensureExchange(amqp, destination.name, destination.type, {
            durable: destination.durable,
            autoDelete: destination.autoDelete,
          }),
        );
      } catch (error) {
        if (!conflict(exchange, error)) throw error;
        continue;
      }
      for (const spec of destination.queues) {
        try {
          for (const declared of await applyQueuePlan(amqp, planManifestQueue(destination.name, spec))) {
            recordDeclared(declared);
          }
        } catch (error) {
          if (!conflict({ broker: "rabbitmq", kind: "queue", name: spec.name }, error)) throw error;
        }
      }
    }
  }
  return report;
}
