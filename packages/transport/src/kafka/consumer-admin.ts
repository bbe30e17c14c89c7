// The Kafka subscription's administrative calls: bounded admin operations, retry and dead-letter topics created
// once per process, and the ephemeral group's deletion.
import type { Admin } from "kafkajs";
import { createTopic, type TopicOptions } from "../admin/kafka-topics.js";
import { describeError, TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import { type KafkaConnection, withKafkaAdmin } from "./connection.js";
import { kafkaErrorTypes, kafkaFailure } from "./errors.js";
import type { KafkaSaslOptions } from "./security.js";

const ADMIN_TIMEOUT_MS = 10_000;

/**
 * Runs `operation` with the connection's admin client ({@link withKafkaAdmin}), bounded by 10 s; a subscription
 * reports running out of time as `KAFKA_UNAVAILABLE`, like any other failure to reach Kafka.
 */
export async function withConsumerAdmin<T>(
  connection: KafkaConnection,
  what: string,
  operation: (admin: Admin) => Promise<T>,
): Promise<T> {
  try {
    return await withKafkaAdmin(connection, what, ADMIN_TIMEOUT_MS, operation);
  } catch (error) {
    if (error instanceof TransportError && error.code === "TIMEOUT") {
      throw new TransportError("KAFKA_UNAVAILABLE", `${what} failed: ${describeError(error)}`, { cause: error });
    }
    throw error;
  }
}

/** Retry topics already created (or found) per connection, so each is created once per process. */
const ensuredTopics = new WeakMap<KafkaConnection, Map<string, Promise<void>>>();

/** Attempts at creating a retry or dead-letter topic when Kafka answers with a retriable error. */
const CREATE_ATTEMPTS = 4;

/**
 * Creates `name`, trying again (after 250 ms, 500 ms, 750 ms) when Kafka answers with a retriable error: under load
 * a topic just created can be missing from the metadata for a moment ("This server does not host this
 * topic-partition"), and the next attempt finds it ("exists").
 */
async function createWithRetries(connection: KafkaConnection, name: string, options: TopicOptions): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await createTopic(connection, name, options);
      return;
    } catch (error) {
      if (attempt >= CREATE_ATTEMPTS || !(error instanceof TransportError) || !error.retriable) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  }
}

/** Creates `name` unless it exists ("exists", or exists with other settings: a retry topic works either way). */
export function ensureTopic(
  connection: KafkaConnection,
  name: string,
  options: TopicOptions,
  logger: TransportLogger,
): Promise<void> {
  let topics = ensuredTopics.get(connection);
  if (!topics) {
    topics = new Map();
    ensuredTopics.set(connection, topics);
  }
  const known = topics;
  let pending = known.get(name);
  if (!pending) {
    pending = createWithRetries(connection, name, options).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof TransportError && error.code === "TOPIC_CONFLICT") {
          logger.info({ topic: name, err: error }, "Kafka topic exists with other settings; using it as it is");
          return;
        }
        known.delete(name);
        throw error;
      },
    );
    known.set(name, pending);
  }
  return pending;
}

/** Forgets that `name` was created (it was deleted since), so the next {@link ensureTopic} creates it again. */
export function forgetTopic(connection: KafkaConnection, name: string): void {
  ensuredTopics.get(connection)?.delete(name);
}

/** Whether a kafkajs DeleteGroups error only says the group does not exist (any more). */
export function groupNotFound(error: unknown): boolean {
  const groups = (error as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || groups.length === 0) return kafkaErrorTypes(error).has("GROUP_ID_NOT_FOUND");
  return groups.every((group) =>
    kafkaErrorTypes((group as { error?: unknown } | null)?.error).has("GROUP_ID_NOT_FOUND"),
  );
}

/**
 * The error `ready` rejects with when starting failed: `TIMEOUT` → `KAFKA_UNAVAILABLE`, an unknown topic →
 * `DESTINATION_NOT_FOUND`, a security refusal → `KAFKA_ACCESS_DENIED` naming the setting to fix (`sasl`'s user).
 */
export function startFailure(
  what: string,
  error: unknown,
  readyTimeoutMs: number,
  sasl?: KafkaSaslOptions,
): TransportError {
  if (error instanceof TransportError) {
    if (error.code !== "TIMEOUT") return error;
    return new TransportError("KAFKA_UNAVAILABLE", `${what}: not consuming after ${readyTimeoutMs} ms`, {
      cause: error,
    });
  }
  return kafkaFailure(error, "consume", what, sasl);
}
