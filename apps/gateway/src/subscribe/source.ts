import { HttpError } from "@kronos/app-kit";
import type { EventBinding } from "@kronos/catalog";
import type { EventDescriptor } from "@kronos/contracts";
import type { RabbitManagementClient } from "@kronos/transport";

/** Where a subscription reads from: a RabbitMQ queue or a Kafka topic. */
export interface Source {
  readonly broker: "kafka" | "rabbitmq";
  /** The queue or topic name. */
  readonly name: string;
}

/** The contract manifest's Kafka topics and RabbitMQ queues (what `GET /subscribe/:topic` knows without asking). */
export interface ManifestSources {
  readonly kafkaTopics: ReadonlySet<string>;
  readonly rabbitQueues: ReadonlySet<string>;
}

/** The Kafka topics and RabbitMQ queues the manifest bindings of `events` name. */
export function manifestSources(events: Iterable<EventDescriptor<unknown>>): ManifestSources {
  const kafkaTopics = new Set<string>();
  const rabbitQueues = new Set<string>();
  for (const event of events) {
    for (const binding of (event.binding ?? []) as EventBinding[]) {
      if (binding.broker === "kafka") kafkaTopics.add(binding.topic);
      else for (const queue of binding.queues) rabbitQueues.add(queue.name);
    }
  }
  return { kafkaTopics, rabbitQueues };
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
  manifest: ManifestSources,
  management: Pick<RabbitManagementClient, "getQueue">,
): Promise<Source> {
  if (broker !== undefined) return { broker, name };
  const onKafka = manifest.kafkaTopics.has(name);
  const onRabbit = manifest.rabbitQueues.has(name);
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
