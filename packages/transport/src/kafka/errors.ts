import { describeError, TransportError, type TransportErrorCode } from "../errors.js";
import { type KafkaSaslOptions, kafkaSecurityAdvice, kafkaSecurityFailure } from "./security.js";

/**
 * What a Kafka error says, for the kafkajs protocol error types that mean something else than "Kafka cannot be
 * used right now" (every other type, and every error without one, is `unavailable`):
 *
 * - `not-found`: the topic (or group) the request names does not exist;
 * - `rejected`: the record itself is refused, so sending it again cannot succeed;
 * - `invalid`: the request's names or settings are refused (administration, or a topic name on a send);
 * - `unauthorized`: an ACL refuses the client this topic, group or cluster operation;
 * - `unauthenticated`: SASL authentication failed, or the broker's certificate is not trusted (TLS).
 */
export type KafkaErrorMeaning =
  | "not-found"
  | "rejected"
  | "invalid"
  | "unauthorized"
  | "unauthenticated"
  | "unavailable";

/** The one table of kafkajs error types (`KafkaJSProtocolError.type`) that are not `unavailable`. */
export const KAFKA_ERROR_MEANINGS: Readonly<
  Record<string, Exclude<KafkaErrorMeaning, "unavailable" | "unauthenticated">>
> = {
  UNKNOWN_TOPIC_OR_PARTITION: "not-found",
  GROUP_ID_NOT_FOUND: "not-found",
  MESSAGE_TOO_LARGE: "rejected",
  RECORD_LIST_TOO_LARGE: "rejected",
  INVALID_RECORD: "rejected",
  CORRUPT_MESSAGE: "rejected",
  INVALID_TIMESTAMP: "rejected",
  INVALID_REQUIRED_ACKS: "rejected",
  UNSUPPORTED_FOR_MESSAGE_FORMAT: "rejected",
  INVALID_TOPIC_EXCEPTION: "invalid",
  INVALID_PARTITIONS: "invalid",
  INVALID_REPLICATION_FACTOR: "invalid",
  INVALID_REPLICA_ASSIGNMENT: "invalid",
  INVALID_CONFIG: "invalid",
  INVALID_REQUEST: "invalid",
  POLICY_VIOLATION: "invalid",
  TOPIC_AUTHORIZATION_FAILED: "unauthorized",
  GROUP_AUTHORIZATION_FAILED: "unauthorized",
  CLUSTER_AUTHORIZATION_FAILED: "unauthorized",
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: "unauthorized",
};

/** The kinds of Kafka operation whose failures {@link kafkaErrorCode} maps. */
export type KafkaOperation = "publish" | "consume" | "admin";

/**
 * Which {@link TransportErrorCode} each meaning becomes, per operation; whether it is retriable is the code's row
 * of `RETRIABLE` (src/errors.ts), never decided here. A subscription that cannot start is told only whether its
 * topic exists. A refused administration request is the caller's options (`INVALID_OPTIONS`). Security refusals
 * (`unauthenticated`, and `unauthorized` outside a publish, which keeps `PUBLISH_REJECTED`) are
 * `KAFKA_ACCESS_DENIED`: not retriable, the client's settings or the broker's ACLs must change.
 */
export const KAFKA_ERROR_CODES: Readonly<
  Record<KafkaOperation, Readonly<Record<KafkaErrorMeaning, TransportErrorCode>>>
> = {
  publish: {
    "not-found": "DESTINATION_NOT_FOUND",
    rejected: "PUBLISH_REJECTED",
    invalid: "PUBLISH_REJECTED",
    unauthorized: "PUBLISH_REJECTED",
    unauthenticated: "KAFKA_ACCESS_DENIED",
    unavailable: "KAFKA_UNAVAILABLE",
  },
  consume: {
    "not-found": "DESTINATION_NOT_FOUND",
    rejected: "KAFKA_UNAVAILABLE",
    invalid: "KAFKA_UNAVAILABLE",
    unauthorized: "KAFKA_ACCESS_DENIED",
    unauthenticated: "KAFKA_ACCESS_DENIED",
    unavailable: "KAFKA_UNAVAILABLE",
  },
  admin: {
    "not-found": "DESTINATION_NOT_FOUND",
    rejected: "INVALID_OPTIONS",
    invalid: "INVALID_OPTIONS",
    unauthorized: "KAFKA_ACCESS_DENIED",
    unauthenticated: "KAFKA_ACCESS_DENIED",
    unavailable: "KAFKA_UNAVAILABLE",
  },
};

/** Every kafkajs protocol error `type` in `error`, its causes (`cause`, `originalError`) and aggregate members. */
export function kafkaErrorTypes(error: unknown): Set<string> {
  const types = new Set<string>();
  const seen = new Set<unknown>();
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== "object" || seen.has(value)) return;
    seen.add(value);
    const { type, cause, originalError, errors } = value as {
      type?: unknown;
      cause?: unknown;
      originalError?: unknown;
      errors?: unknown;
    };
    if (typeof type === "string") types.add(type);
    visit(cause);
    visit(originalError);
    if (Array.isArray(errors)) for (const member of errors) visit(member);
  };
  visit(error);
  return types;
}

/** The order in which meanings win when one error carries several types (kafkajs aggregates per partition). */
const PRECEDENCE: readonly KafkaErrorMeaning[] = ["not-found", "rejected", "invalid", "unauthorized"];

/**
 * What `error` (any value thrown by kafkajs, possibly wrapped) says: `unauthenticated` for a failed SASL
 * authentication or an untrusted certificate ({@link kafkaSecurityFailure}), else from {@link KAFKA_ERROR_MEANINGS}
 * the first of `not-found`, `rejected`, `invalid`, `unauthorized` that any of its types has, else `unavailable`.
 */
export function kafkaErrorMeaning(error: unknown): KafkaErrorMeaning {
  const security = kafkaSecurityFailure(error);
  if (security === "authentication" || security === "certificate") return "unauthenticated";
  const meanings = new Set<KafkaErrorMeaning | undefined>(
    [...kafkaErrorTypes(error)].map((type) => KAFKA_ERROR_MEANINGS[type]),
  );
  return PRECEDENCE.find((meaning) => meanings.has(meaning)) ?? "unavailable";
}

/** The {@link TransportErrorCode} of a failed kafkajs `operation` ({@link KAFKA_ERROR_CODES}). */
export function kafkaErrorCode(error: unknown, operation: KafkaOperation): TransportErrorCode {
  return KAFKA_ERROR_CODES[operation][kafkaErrorMeaning(error)];
}

/**
 * The {@link TransportError} of a failed kafkajs `operation` on `what` ("Kafka publish to orders"): its code from
 * {@link kafkaErrorCode}, and for a security failure the advice naming the setting to fix
 * ({@link kafkaSecurityAdvice}: the SASL user, never its password), then kafkajs' own words.
 */
export function kafkaFailure(
  error: unknown,
  operation: KafkaOperation,
  what: string,
  sasl: KafkaSaslOptions | undefined,
): TransportError {
  const security = kafkaSecurityFailure(error);
  let text = describeError(error);
  if (security !== undefined) text = `${kafkaSecurityAdvice(security, sasl)} (${text})`;
  // kafkajs drops GROUP_AUTHORIZATION_FAILED while looking for the coordinator (cluster/index.js keeps only "Failed
  // to find group coordinator"), so an ACL-refused group cannot be told from a coordinator that is not there yet:
  // the code stays retriable, the message says what to check.
  else if (sasl !== undefined && (error as { name?: unknown } | null)?.name === "KafkaJSGroupCoordinatorNotFound") {
    text += `; with SASL this is also what Kafka answers when its ACLs refuse user ${sasl.username} the consumer group: check them`;
  }
  return new TransportError(kafkaErrorCode(error, operation), `${what} failed: ${text}`, { cause: error });
}
