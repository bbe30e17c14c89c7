/** The stable codes of {@link TransportError}. */
export type TransportErrorCode =
  /** Kafka did not answer (connection refused, no metadata, ...). */
  | "KAFKA_UNAVAILABLE"
  /**
   * Kafka refused this client's security settings: SASL authentication failed, the broker's certificate is not
   * trusted, or an ACL refuses the request. The message names the setting to fix; retrying cannot help.
   */
  | "KAFKA_ACCESS_DENIED"
  /** RabbitMQ is not connected or refused a channel operation. */
  | "RABBITMQ_UNAVAILABLE"
  /** An operation did not finish within its time limit. */
  | "TIMEOUT"
  /** The connection was closed on purpose (`close()`); it will not come back. */
  | "CLOSED"
  /** A mandatory RabbitMQ message was returned: no queue is bound for its routing key (a client error). */
  | "UNROUTABLE"
  /** RabbitMQ nacked the message (e.g. a queue overflowed with `reject-publish`); it may accept it later. */
  | "NACKED"
  /** The exchange or topic does not exist (AMQP 404 channel close, Kafka UNKNOWN_TOPIC_OR_PARTITION). */
  | "DESTINATION_NOT_FOUND"
  /** The broker refused this message itself (too large, invalid record, access refused): resending cannot help. */
  | "PUBLISH_REJECTED"
  /** A RabbitMQ queue (or its dead-letter exchange/queue) already exists with different arguments (AMQP 406). */
  | "QUEUE_CONFLICT"
  /** A queue was not deleted because it holds messages (`ifEmpty`). */
  | "QUEUE_NOT_EMPTY"
  /** A Kafka topic already exists with different partitions, replication factor or configuration. */
  | "TOPIC_CONFLICT"
  /** Administration options that cannot work (e.g. `maxPriority` on a quorum queue, `partitions` < 1). */
  | "INVALID_OPTIONS"
  /** The RabbitMQ management API did not answer, timed out or failed (5xx). */
  | "MANAGEMENT_UNAVAILABLE"
  /**
   * RabbitMQ refused a channel operation on a name the connection's user has no permission for (AMQP 403
   * ACCESS_REFUSED: its configure, write or read regex does not match): grant it, or use another name.
   */
  | "ACCESS_REFUSED"
  /** The RabbitMQ management API refused the credentials (401/403). */
  | "MANAGEMENT_UNAUTHORIZED"
  /** A delivery was acked, released, retried or dead-lettered already (each delivery is settled once). */
  | "ALREADY_SETTLED"
  /** No answer to a request within its timeout (request/reply). */
  | "REPLY_TIMEOUT";

/**
 * Whether retrying can help, per code: data in one table rather than `if`s spread over the callers. A broker that
 * is down or slow may come back; a connection closed on purpose will not.
 */
export const RETRIABLE: Readonly<Record<TransportErrorCode, boolean>> = {
  KAFKA_UNAVAILABLE: true,
  KAFKA_ACCESS_DENIED: false,
  RABBITMQ_UNAVAILABLE: true,
  TIMEOUT: true,
  CLOSED: false,
  UNROUTABLE: false,
  NACKED: true,
  DESTINATION_NOT_FOUND: false,
  PUBLISH_REJECTED: false,
  QUEUE_CONFLICT: false,
  QUEUE_NOT_EMPTY: false,
  TOPIC_CONFLICT: false,
  INVALID_OPTIONS: false,
  ACCESS_REFUSED: false,
  MANAGEMENT_UNAVAILABLE: true,
  MANAGEMENT_UNAUTHORIZED: false,
  ALREADY_SETTLED: false,
  REPLY_TIMEOUT: true,
};

/**
 * The one error type of @kronos/transport: a stable `code`, a `retriable` flag taken from {@link RETRIABLE}, a
 * message that names the broker and what failed, and the underlying error as `cause`.
 */
export class TransportError extends Error {
  override readonly name = "TransportError";
  /** Stable code, safe to branch on. */
  readonly code: TransportErrorCode;
  /** True when retrying the same operation later can succeed. */
  readonly retriable: boolean;

  constructor(code: TransportErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = RETRIABLE[code];
  }
}

/** The message of any thrown value, for error texts (`String(value)` when it is not an Error). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join("; ");
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
