import { type Catalog, loadCatalog } from "@kronos/catalog";
import { deadLetterQueueName, deadLetterTopicName } from "@kronos/transport";
import type { SourceConfig } from "../config.js";

/** A Kafka dead-letter topic custody reads. */
export interface KafkaSource {
  readonly topic: string;
  /** Partitions to create it with when missing (the source topic's); undefined: never create it (configured). */
  readonly createWithPartitions: number | undefined;
}

/** Every dead-letter source: Kafka topics and RabbitMQ queues. */
export interface DeadLetterSources {
  readonly kafka: readonly KafkaSource[];
  readonly rabbitmq: readonly string[];
}

/**
 * The dead-letter destinations the catalog implies: `<topic>.dlq` of every Kafka topic (transport's naming), and
 * for every RabbitMQ queue of the manifest its declared dead-letter queue, else `<queue>.dlq` (the layout
 * `declareQueue` makes). To be replaced by the manifest's own dead-letter channels (`x-kronos-role`).
 */
export function catalogSources(catalog: Catalog): DeadLetterSources {
  const kafka: KafkaSource[] = [];
  const rabbitmq = new Set<string>();
  for (const destination of catalog.destinations) {
    if (destination.broker === "kafka") {
      kafka.push({ topic: deadLetterTopicName(destination.topic), createWithPartitions: destination.partitions });
    } else {
      for (const queue of destination.queues) {
        rabbitmq.add(queue.deadLetter?.queue ?? deadLetterQueueName(queue.name));
      }
    }
  }
  return { kafka, rabbitmq: [...rabbitmq] };
}

/** The catalog's sources (when `config.fromCatalog`) plus the configured ones, each once. */
export async function resolveSources(config: SourceConfig): Promise<DeadLetterSources> {
  const fromCatalog = config.fromCatalog
    ? catalogSources(await loadCatalog(config.schemasDir))
    : { kafka: [], rabbitmq: [] };
  const kafka = new Map(fromCatalog.kafka.map((source) => [source.topic, source]));
  for (const topic of config.kafkaTopics) {
    if (!kafka.has(topic)) kafka.set(topic, { topic, createWithPartitions: undefined });
  }
  return { kafka: [...kafka.values()], rabbitmq: [...new Set([...fromCatalog.rabbitmq, ...config.rabbitmqQueues])] };
}
