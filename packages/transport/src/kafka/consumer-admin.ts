// The Kafka subscription's administrative calls: bounded admin operations, retry and dead-letter topics created
// once per process, and the ephemeral group's deletion.
import type { Admin } from "kafkajs";
import { createTopic, type TopicOptions } from "../admin/kafka-topics.js";
import { describeError, TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import { withTimeout } from "../timeout.js";
import { type KafkaConnection, kafkaAdminAccess } from "./connection.js";
import { kafkaErrorTypes } from "./publisher.js";

const ADMIN_TIMEOUT_MS = 10_000;

/**
 * Runs `operation` with the connection's admin client, bounded by 10 s; failures other than a
 * {@link TransportError} of its own become `KAFKA_UNAVAILABLE`, and an admin client that failed or hung is not
 * trusted again (tulios/kafkajs#919, #979).
 */
export async function withKafkaAdmin<T>(
  connection: KafkaConnection,
  what: string,
  operation: (admin: Admin) => Promise<T>,
): Promise<T> {
  const access = kafkaAdminAccess(connection);
  try {
    return await withTimeout(
      access.admin().then((admin) => operation(admin)),
      ADMIN_TIMEOUT_MS,
      what,
    );
  } catch (error) {
    if (error instanceof TransportError && error.code !== "TIMEOUT" && error.code !== "KAFKA_UNAVAILABLE") throw error;
    await access.reset();
    if (error instanceof TransportError && error.code === "KAFKA_UNAVAILABLE") throw error;
    throw new TransportError("KAFKA_UNAVAILABLE", `${what} failed: ${describeError(error)}`, { cause: error });
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

/** The error `ready` rejects with when starting failed: `TIMEOUT` → `KAFKA_UNAVAILABLE`, an unknown topic → `DESTINATION_NOT_FOUND`. */
export function startFailure(what: string, error: unknown, readyTimeoutMs: number): TransportError {
  if (error instanceof TransportError) {
    if (error.code !== "TIMEOUT") return error;
    return new TransportError("KAFKA_UNAVAILABLE", `${what}: not consuming after ${readyTimeoutMs} ms`, {
      cause: error,
    });
  }
  const code = kafkaErrorTypes(error).has("UNKNOWN_TOPIC_OR_PARTITION") ? "DESTINATION_NOT_FOUND" : "KAFKA_UNAVAILABLE";
  return new TransportError(code, `${what} failed: ${describeError(error)}`, { cause: error });
}
