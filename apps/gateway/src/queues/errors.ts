import { HttpError } from "@kronos/app-kit";
import { TransportError, type TransportErrorCode } from "@kronos/transport";
import type { FastifyReply } from "fastify";

/** `Retry-After` (seconds) sent with every 503 of the queue routes: a broker or its management API is down. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * HTTP status of each {@link TransportError} code the administration functions throw: data in one table. Retriable
 * codes are 503 (with `Retry-After`); the management API refusing the gateway's credentials is the gateway's
 * misconfiguration, 502; codes administration never throws (publish outcomes) would be a bug, 500.
 */
export const STATUS_BY_TRANSPORT_CODE: Readonly<Record<TransportErrorCode, number>> = {
  INVALID_OPTIONS: 400,
  DESTINATION_NOT_FOUND: 404,
  QUEUE_CONFLICT: 409,
  TOPIC_CONFLICT: 409,
  QUEUE_NOT_EMPTY: 409,
  KAFKA_UNAVAILABLE: 503,
  RABBITMQ_UNAVAILABLE: 503,
  MANAGEMENT_UNAVAILABLE: 503,
  TIMEOUT: 503,
  CLOSED: 503,
  MANAGEMENT_UNAUTHORIZED: 502,
  UNROUTABLE: 500,
  NACKED: 500,
  PUBLISH_REJECTED: 500,
  ALREADY_SETTLED: 409,
  REPLY_TIMEOUT: 504,
};

/**
 * Turns a {@link TransportError} into the {@link HttpError} the client sees: the status from
 * {@link STATUS_BY_TRANSPORT_CODE}, the transport's code and message (they name the queue or topic and never hold a
 * password). A 503 sets `Retry-After` on `reply`. Any other error is returned as it is (a 500 for the error handler).
 */
export function toHttpError(error: unknown, reply: FastifyReply): unknown {
  if (!(error instanceof TransportError)) return error;
  const status = STATUS_BY_TRANSPORT_CODE[error.code] ?? 500;
  if (status === 503) reply.header("retry-after", String(RETRY_AFTER_SECONDS));
  if (status >= 500 && status !== 502 && status !== 503) return error;
  return new HttpError(status, error.code, error.message, { cause: error });
}
