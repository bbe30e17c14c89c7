/** The stable codes of {@link TransportError}. */
export type TransportErrorCode =
  /** Kafka did not answer (connection refused, no metadata, ...). */
  | "KAFKA_UNAVAILABLE"
  /** RabbitMQ is not connected or refused a channel operation. */
  | "RABBITMQ_UNAVAILABLE"
  /** An operation did not finish within its time limit. */
  | "TIMEOUT"
  /** The connection was closed on purpose (`close()`); it will not come back. */
  | "CLOSED";

/**
 * Whether retrying can help, per code: data in one table rather than `if`s spread over the callers. A broker that
 * is down or slow may come back; a connection closed on purpose will not.
 */
export const RETRIABLE: Readonly<Record<TransportErrorCode, boolean>> = {
  KAFKA_UNAVAILABLE: true,
  RABBITMQ_UNAVAILABLE: true,
  TIMEOUT: true,
  CLOSED: false,
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
