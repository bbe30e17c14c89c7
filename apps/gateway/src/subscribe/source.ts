import { HttpError } from "@kronos/app-kit";
import type { RabbitManagementClient } from "@kronos/transport";
import type { ManifestDestinations } from "../contracts/index.js";

/** Where a subscription reads from: a RabbitMQ queue or a Kafka topic. */
export interface Source {
  readonly broker: "kafka" | "rabbitmq";
  /** The queue or topic name. */
  readonly name: string;
}

/**
 * Which broker `name` is on: the `broker` query parameter when given; else the manifest (its Kafka topics, then its
 * RabbitMQ queues); else a RabbitMQ queue of that name if the management API knows one (queues created with
 * `POST /queues/create`, dead-letter queues); else a Kafka topic (whose subscription answers 404 when there is
 * none). A name that is both a manifest topic and a queue needs `broker`.
 */
export async function resolveSource(
  name: string,
  broker: "kafka" | "rabbitmq" | undefined,
  manifest: ManifestDestinations,
  management: Pick<RabbitManagementClient, "getQueue">,
): Promise<Source> {
  if (broker !== undefined) return { broker, name };
  const onKafka = manifest.kafka.has(name);
  const onRabbit = manifest.rabbitmq.has(name);
  if (onKafka && onRabbit) {
    throw new HttpError(
      400,
      "AMBIGUOUS_SOURCE",
      `"${name}" is both a Kafka topic and a RabbitMQ queue of the manifest: add ?broker=kafka or ?broker=rabbitmq`,
    );
  }
  if (onKafka) return { broker: "kafka", name };
  if (onRabbit) return { broker: "rabbitmq", name };
  try {
    if (await management.getQueue(name)) return { broker: "rabbitmq", name };
  } catch {
    // The management API is down: try Kafka; its answer names both brokers when the topic is missing too.
  }
  return { broker: "kafka", name };
}
