import { derivedFrom } from "@kronos/transport";
import type { ManifestDestinations } from "../contracts/index.js";

/** The two brokers a queue id can name. */
export type Broker = "rabbitmq" | "kafka";

/** A destination the queue routes administer: a RabbitMQ queue or a Kafka topic. */
export interface QueueRef {
  broker: Broker;
  name: string;
}

/**
 * Parses a queue id, `<broker>:<name>` (`rabbitmq:orders`, `kafka:kronos.log.entries`): the broker is the text
 * before the first `:`, the name everything after it (RabbitMQ names may hold `:`). Undefined when the broker is
 * unknown or the name empty.
 */
export function parseQueueId(id: string): QueueRef | undefined {
  const colon = id.indexOf(":");
  if (colon < 0) return undefined;
  const broker = id.slice(0, colon);
  const name = id.slice(colon + 1);
  if ((broker !== "rabbitmq" && broker !== "kafka") || name === "") return undefined;
  return { broker, name };
}

/** The queue id of `name` on `broker`: `<broker>:<name>` (see {@link parseQueueId}). */
export function formatQueueId(broker: Broker, name: string): string {
  return `${broker}:${name}`;
}

/** What the queue routes never delete: the manifest's topics and queues, and the gateway's reply topic. */
export interface Protected {
  readonly manifest: ManifestDestinations;
  /** The Kafka topic replies to `POST /request` come back on (`GATEWAY_REPLY_TOPIC`). */
  readonly replyTopic: string;
}

/**
 * Why `ref` may not be deleted (a phrase for the 409 message), or `undefined` when it may: a topic or queue of the
 * manifest, the retry and dead-letter objects named after one (`<name>.dlq`, `<name>.retry.<ms>`, suffix after
 * suffix: the retry topics subscriptions create, the retry queues of `declareQueue`), or the reply topic.
 */
export function protectedBy(ref: QueueRef, guard: Protected): string | undefined {
  if (ref.broker === "kafka" && ref.name === guard.replyTopic)
    return "is the gateway's reply topic (GATEWAY_REPLY_TOPIC)";
  const manifest = ref.broker === "kafka" ? guard.manifest.kafka : guard.manifest.rabbitmq;
  if (manifest.has(ref.name)) return "is declared by the contract manifest";
  for (let base = derivedFrom(ref.name); base !== undefined; base = derivedFrom(base)) {
    if (manifest.has(base))
      return `is a retry or dead-letter ${ref.broker === "kafka" ? "topic" : "queue"} of the manifest's "${base}"`;
  }
  return undefined;
}
