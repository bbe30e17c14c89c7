import { ContractError, isRegistryAccessError } from "@kronos/contracts";
import { TransportError, type TransportErrorCode } from "@kronos/transport";
import { contractCode, failureOf, type GatewayErrorCode, type GatewayFailure, unavailableMessage } from "../errors.js";
import { type CheckedMessage, whereOf } from "./message.js";

/**
 * How one message ended, the `outcome` label of `gateway_publishes_total` and `gateway_requests_total`: `accepted`
 * (the broker has it), `answered` (a request's reply came), `invalid`, `unroutable`, `rejected`, `unavailable`
 * (retry later), `timeout`, `no_reply`, `bad_reply`, `error` (a bug or a refused schema).
 */
export type MessageOutcome =
  | "accepted"
  | "answered"
  | "invalid"
  | "unroutable"
  | "rejected"
  | "unavailable"
  | "timeout"
  | "no_reply"
  | "bad_reply"
  | "error";

/** A failed message as the client sees it (status, code, message, `Retry-After`) and its metrics outcome. */
export interface MessageFailure extends GatewayFailure {
  readonly outcome: MessageOutcome;
}

/** The transport codes sending a message can end with; any other is a bug (rethrown: a 500). */
const SEND_CODES: ReadonlySet<TransportErrorCode> = new Set<TransportErrorCode>([
  "KAFKA_UNAVAILABLE",
  "KAFKA_ACCESS_DENIED",
  "RABBITMQ_UNAVAILABLE",
  "TIMEOUT",
  "CLOSED",
  "NACKED",
  "UNROUTABLE",
  "PUBLISH_REJECTED",
  "DESTINATION_NOT_FOUND",
]);

const OUTCOME: Partial<Record<GatewayErrorCode, MessageOutcome>> = {
  UNROUTABLE: "unroutable",
  PUBLISH_REJECTED: "rejected",
  CORRELATION_ID_IN_USE: "rejected",
  VALIDATION_FAILED: "invalid",
  TIMEOUT: "timeout",
  REPLY_TIMEOUT: "no_reply",
  REPLY_DECODE_FAILED: "bad_reply",
  SCHEMA_REGISTRY_REFUSED: "error",
  // The manifest's topology missing on the broker: counted with the broker failures operators watch.
  DESTINATION_NOT_FOUND: "unavailable",
};

function failure(code: GatewayErrorCode, message: string, detail?: string): MessageFailure {
  const answer = failureOf(code, message, detail);
  return { ...answer, outcome: OUTCOME[code] ?? (answer.retryAfter === undefined ? "error" : "unavailable") };
}

/**
 * What the client gets for an error of encoding or sending `message`, by the gateway error table
 * (`GATEWAY_ERRORS`): 422 `UNROUTABLE` (RabbitMQ returned the message: no queue is bound for its routing key),
 * 422 `PUBLISH_REJECTED`, 422 `VALIDATION_FAILED`, 404 `DESTINATION_NOT_FOUND` (the manifest's topology is not on
 * the broker), 503 + `Retry-After` for what retrying can fix (`KAFKA_UNAVAILABLE`, `RABBITMQ_UNAVAILABLE`,
 * `NACKED`, `TIMEOUT`, `REGISTRY_UNAVAILABLE`, `CLOSED`), 500 `SCHEMA_REGISTRY_REFUSED` when the registry refuses
 * the gateway's own schema. Anything else is rethrown (a 500 without details).
 */
export function sendFailure(error: unknown, message: CheckedMessage): MessageFailure {
  const where = whereOf(message);
  if (error instanceof TransportError && SEND_CODES.has(error.code)) {
    const code = error.code as GatewayErrorCode;
    if (code === "UNROUTABLE") {
      return failure(
        code,
        `No queue is bound to ${where} for routing key "${message.key ?? ""}"; nothing was delivered`,
      );
    }
    if (code === "DESTINATION_NOT_FOUND" || code === "PUBLISH_REJECTED") {
      return failure(code, `${where}: ${error.message}`);
    }
    // 503: the product's words for the client, the library's text (kafkajs, amqplib) for the logs.
    return failure(code, `${where} cannot take the message right now: ${unavailableMessage(code)}`, error.message);
  }
  if (error instanceof ContractError) {
    const code = contractCode(error.code, error.retriable);
    if (code === "REGISTRY_UNAVAILABLE") {
      return failure(code, unavailableMessage(code), error.message);
    }
    if (code === "VALIDATION_FAILED") return failure(code, error.message);
    if (isRegistryAccessError(error)) {
      // The gateway's own registry settings (credentials, CA) are wrong: the operator's to fix, told in the logs.
      return failure(
        code,
        `The gateway cannot use the schema registry (${error.code}): its registry settings need fixing`,
        error.message,
      );
    }
    return failure(code, `The schema registry refused the schema of ${message.route.event.name} (${error.code})`);
  }
  throw error;
}

/**
 * What the client gets for an error of sending a request or waiting for its reply: 504 `REPLY_TIMEOUT` when no
 * reply came in time (the message names `timeoutMs`, the client's timeout, when given), 409
 * `CORRELATION_ID_IN_USE` when a request with the same correlation id is still waiting for its reply; everything
 * else as {@link sendFailure}. Rethrows what it rethrows.
 */
export function requestFailure(error: unknown, message: CheckedMessage, timeoutMs?: number): MessageFailure {
  if (error instanceof TransportError && error.code === "REPLY_TIMEOUT") {
    const within = timeoutMs === undefined ? "in time" : `within ${timeoutMs} ms`;
    return failure(
      "REPLY_TIMEOUT",
      `No reply to the request sent to ${whereOf(message)} (key "${message.key ?? ""}") came ${within}`,
    );
  }
  if (error instanceof TransportError && error.code === "INVALID_OPTIONS") {
    return failure(
      "CORRELATION_ID_IN_USE",
      `A request with correlation id "${message.correlationId}" is still waiting for its reply; ` +
        "give every request its own correlation-id",
    );
  }
  return sendFailure(error, message);
}

/**
 * What the client gets for an error of decoding a reply: 503 + `Retry-After` when the registry could not be asked
 * in time (as for sending), else 502 `REPLY_DECODE_FAILED` (the reply is not Confluent-framed Avro, names an
 * unknown schema id, or does not match its schema).
 */
export function decodeFailure(error: unknown, message: CheckedMessage): MessageFailure {
  if ((error instanceof ContractError && error.retriable) || error instanceof TransportError) {
    return requestFailure(error, message);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return failure(
    "REPLY_DECODE_FAILED",
    `The reply to the request sent to "${message.destination.name}" cannot be decoded: ${reason}`,
  );
}

/** What checking, encoding and sending a message can end with: every message route's codes. */
const MESSAGE_CODES: readonly GatewayErrorCode[] = [
  ...(SEND_CODES as ReadonlySet<GatewayErrorCode>),
  "REGISTRY_UNAVAILABLE",
  "VALIDATION_FAILED",
  "SCHEMA_REGISTRY_REFUSED",
];

/** The gateway error codes `POST /publish` and `/publish/batch` answer with (besides routing and auth errors). */
export const PUBLISH_ERROR_CODES: readonly GatewayErrorCode[] = [...MESSAGE_CODES, "IDEMPOTENCY_STORE_UNAVAILABLE"];

/** The gateway error codes `POST /request` answers with (besides routing and auth errors). */
export const REQUEST_ERROR_CODES: readonly GatewayErrorCode[] = [
  ...MESSAGE_CODES,
  "REPLY_TIMEOUT",
  "REPLY_DECODE_FAILED",
  "CORRELATION_ID_IN_USE",
];
