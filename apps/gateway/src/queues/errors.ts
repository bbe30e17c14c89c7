import { TransportError, type TransportErrorCode } from "@kronos/transport";
import type { FastifyReply } from "fastify";
import { RETRY_AFTER_SECONDS, toGatewayError } from "../errors.js";

export { RETRY_AFTER_SECONDS };

/**
 * The {@link TransportError} codes administration and settlement throw. Their status and retriability come from
 * the gateway error table (`GATEWAY_ERRORS`, src/errors.ts); any other code here would be a bug, a 500.
 */
export const ADMIN_TRANSPORT_CODES: ReadonlySet<TransportErrorCode> = new Set<TransportErrorCode>([
  "INVALID_OPTIONS",
  "DESTINATION_NOT_FOUND",
  "QUEUE_CONFLICT",
  "TOPIC_CONFLICT",
  "QUEUE_NOT_EMPTY",
  "KAFKA_UNAVAILABLE",
  "KAFKA_ACCESS_DENIED",
  "RABBITMQ_UNAVAILABLE",
  "MANAGEMENT_UNAVAILABLE",
  "TIMEOUT",
  "CLOSED",
  "MANAGEMENT_UNAUTHORIZED",
  "ACCESS_REFUSED",
  "ALREADY_SETTLED",
]);

/**
 * Turns a {@link TransportError} of {@link ADMIN_TRANSPORT_CODES} into the `HttpError` the client sees: status by
 * the gateway error table, the transport's code and message (they name the queue or topic and never hold a
 * password). A retriable one (503) sets `Retry-After` on `reply`. Any other error is returned as it is (a 500 for
 * the error handler).
 */
export function toHttpError(error: unknown, reply: FastifyReply): unknown {
  if (!(error instanceof TransportError) || !ADMIN_TRANSPORT_CODES.has(error.code)) return error;
  return toGatewayError(error, (seconds) => reply.header("retry-after", String(seconds)));
}
