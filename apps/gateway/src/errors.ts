import { HttpError } from "@kronos/app-kit";
import { ContractError, type ContractErrorCode } from "@kronos/contracts";
import { TransportError, type TransportErrorCode } from "@kronos/transport";

/** How the gateway answers one error code. */
export interface GatewayErrorSpec {
  /** The HTTP status. */
  readonly status: number;
  /**
   * Whether the client may send the same request again later and expect it to work: such answers are 503 and carry
   * `Retry-After` ({@link RETRY_AFTER_SECONDS}). This is the client's view, which is not always the library's: a
   * transport `CLOSED` is final for that connection, but for a client it means this gateway is shutting down, and
   * the same request will work on another instance or after the restart.
   */
  readonly retriable: boolean;
  /** What it means, for the README and the OpenAPI document. */
  readonly meaning: string;
}

/** `Retry-After` (seconds) of every retriable answer (503). */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The gateway's errors that come from a broker, the schema registry or a reply (the failures of publishing,
 * request/reply, subscribing and queue administration): code, status, whether retrying can help, and what it
 * means. The only place that decides these: the transport's and the contracts' own `retriable` flags are not
 * consulted (they say whether the library may retry its own call, not what an HTTP client should do).
 *
 * A destination the broker does not have is 404, not retriable: the manifest's topology is missing on the broker
 * (not created at start, or deleted), and sending the same request again blindly will fail the same way until an
 * operator creates it.
 */
export const GATEWAY_ERRORS = {
  KAFKA_UNAVAILABLE: { status: 503, retriable: true, meaning: "Kafka cannot be reached or did not answer" },
  RABBITMQ_UNAVAILABLE: { status: 503, retriable: true, meaning: "RabbitMQ is not connected or refused the channel" },
  REGISTRY_UNAVAILABLE: { status: 503, retriable: true, meaning: "the schema registry cannot be reached" },
  MANAGEMENT_UNAVAILABLE: { status: 503, retriable: true, meaning: "the RabbitMQ management API cannot be reached" },
  TIMEOUT: { status: 503, retriable: true, meaning: "the registry or the broker did not answer in time" },
  NACKED: { status: 503, retriable: true, meaning: "RabbitMQ nacked the message (e.g. a full queue)" },
  CLOSED: { status: 503, retriable: true, meaning: "the gateway is shutting down" },
  IDEMPOTENCY_STORE_UNAVAILABLE: { status: 503, retriable: true, meaning: "Redis (idempotency keys) is unreachable" },
  DESTINATION_NOT_FOUND: {
    status: 404,
    retriable: false,
    meaning: "the manifest's topic or exchange is missing on the broker (its topology was not created)",
  },
  UNROUTABLE: {
    status: 422,
    retriable: false,
    meaning: "RabbitMQ returned the message: no queue is bound for its key",
  },
  PUBLISH_REJECTED: {
    status: 422,
    retriable: false,
    meaning: "the broker refused the message itself (e.g. too large)",
  },
  VALIDATION_FAILED: { status: 422, retriable: false, meaning: "the payload does not match the event's schema" },
  SCHEMA_REGISTRY_REFUSED: { status: 500, retriable: false, meaning: "the registry refused the gateway's schema" },
  REPLY_TIMEOUT: { status: 504, retriable: false, meaning: "no reply came in time (the request was sent)" },
  REPLY_DECODE_FAILED: { status: 502, retriable: false, meaning: "the reply is not Avro of a known schema" },
  CORRELATION_ID_IN_USE: { status: 409, retriable: false, meaning: "a request with that correlation id is waiting" },
  INVALID_OPTIONS: { status: 400, retriable: false, meaning: "options the broker refuses" },
  QUEUE_CONFLICT: { status: 409, retriable: false, meaning: "the queue exists with other arguments" },
  TOPIC_CONFLICT: { status: 409, retriable: false, meaning: "the topic exists with other settings" },
  QUEUE_NOT_EMPTY: { status: 409, retriable: false, meaning: "the queue holds messages and `ifEmpty` was set" },
  ALREADY_SETTLED: { status: 409, retriable: false, meaning: "the delivery was settled before" },
  ACCESS_REFUSED: {
    status: 403,
    retriable: false,
    meaning: "the gateway's RabbitMQ user has no permission on that queue or exchange",
  },
  MANAGEMENT_UNAUTHORIZED: {
    status: 502,
    retriable: false,
    meaning: "the management API refuses the gateway's credentials",
  },
  KAFKA_ACCESS_DENIED: {
    status: 502,
    retriable: false,
    meaning: "Kafka refuses the gateway's credentials, certificate trust or ACLs (its KAFKA_SASL_*, KAFKA_SSL_*)",
  },
  INVALID_NAME: {
    status: 400,
    retriable: false,
    meaning: "a topic, queue or exchange name the broker would refuse or alter (control characters, ...)",
  },
  JSON_TOO_DEEP: {
    status: 400,
    retriable: false,
    meaning: "the JSON body nests arrays and objects deeper than 64 levels",
  },
  TOO_MANY_SETTLEMENTS: {
    status: 400,
    retriable: false,
    meaning: "a bulk settle lists more deliveries than `GATEWAY_SUBSCRIBE_MAX_SETTLE_ITEMS`",
  },
  INVALID_UTF8: { status: 400, retriable: false, meaning: "the request body is not valid UTF-8" },
  INTERNAL_DESTINATION: {
    status: 403,
    retriable: false,
    meaning: "a broker's or the registry's own topic or queue (`__consumer_offsets`, `kafkasql-journal`, `amq.*`)",
  },
} as const satisfies Record<string, GatewayErrorSpec>;

/** A code of {@link GATEWAY_ERRORS}. */
export type GatewayErrorCode = keyof typeof GATEWAY_ERRORS;

/** The {@link GatewayErrorSpec} of `code`. */
export function gatewayError(code: GatewayErrorCode): GatewayErrorSpec {
  return GATEWAY_ERRORS[code];
}

/** The gateway code of a transport error; undefined for a code the gateway never expects (a bug: 500). */
export function transportCode(code: TransportErrorCode): GatewayErrorCode | undefined {
  return code in GATEWAY_ERRORS ? (code as GatewayErrorCode) : undefined;
}

/** The gateway code of a contracts error from the registry serde: unavailable, invalid value, or refused. */
export function contractCode(code: ContractErrorCode, retriable: boolean): GatewayErrorCode {
  if (retriable) return "REGISTRY_UNAVAILABLE";
  if (code === "VALIDATION_FAILED") return "VALIDATION_FAILED";
  return "SCHEMA_REGISTRY_REFUSED";
}

/** An answer of {@link GATEWAY_ERRORS} for a client: status, code, message and `Retry-After` when retriable. */
export interface GatewayFailure {
  readonly statusCode: number;
  readonly code: GatewayErrorCode;
  readonly message: string;
  /** Seconds, for the retriable (503) answers. */
  readonly retryAfter?: number;
  /** The library's or broker's own text of the failure, for the logs only: never sent to a client. */
  readonly detail?: string;
}

/**
 * What a client reads for a retriable (503) code: the product's own words, from {@link GATEWAY_ERRORS}, never the
 * library's text (`Cannot destructure property 'partitions'…`, `This server does not host this topic-partition`),
 * which goes to the logs.
 */
export function unavailableMessage(code: GatewayErrorCode): string {
  return `${GATEWAY_ERRORS[code].meaning}; try again later`;
}

/**
 * The failure of `code` with `message`, status and `Retry-After` from {@link GATEWAY_ERRORS}; `detail` (the
 * library's text) is kept for the logs.
 */
export function failureOf(code: GatewayErrorCode, message: string, detail?: string): GatewayFailure {
  const spec = GATEWAY_ERRORS[code];
  return {
    statusCode: spec.status,
    code,
    message,
    ...(spec.retriable ? { retryAfter: RETRY_AFTER_SECONDS } : {}),
    ...(detail === undefined ? {} : { detail }),
  };
}

/** The {@link HttpError} of `code` with `message`, its status from {@link GATEWAY_ERRORS} (for a 4xx answer). */
export function gatewayHttpError(code: GatewayErrorCode, message: string): HttpError {
  return new HttpError(GATEWAY_ERRORS[code].status, code, message);
}

/**
 * The {@link HttpError} of a transport or contracts error by {@link GATEWAY_ERRORS}, setting `Retry-After` through
 * `setRetryAfter` when it is retriable (its message is then {@link unavailableMessage}; the error is its cause); any other error (or a code the table lacks) is returned as it is (a 500 for
 * the error handler, without details).
 */
export function toGatewayError(error: unknown, setRetryAfter: (seconds: number) => void): unknown {
  let code: GatewayErrorCode | undefined;
  if (error instanceof TransportError) code = transportCode(error.code);
  else if (error instanceof ContractError) code = contractCode(error.code, error.retriable);
  if (code === undefined) return error;
  // A 503 says what is unavailable in the product's words; the library's text stays in the cause (logged).
  const retriable = GATEWAY_ERRORS[code].retriable;
  const failure = failureOf(code, retriable ? unavailableMessage(code) : (error as Error).message);
  if (failure.retryAfter !== undefined) setRetryAfter(failure.retryAfter);
  return new HttpError(failure.statusCode, failure.code, failure.message, { cause: error });
}
