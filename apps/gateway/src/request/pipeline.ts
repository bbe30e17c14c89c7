import { ContractError, type EventDescriptor, type RegistrySerde } from "@kronos/contracts";
import { type KafkaRequest, type RequestReply, TransportError, withTimeout } from "@kronos/transport";
import { avroToJson } from "../publish/convert.js";
import { type CheckedMessage, kafkaRecordOf, publishFailure } from "../publish/pipeline.js";
import type { RequestOutcome } from "./metrics.js";

/** A failed request as the client sees it, and the metrics outcome. */
export interface RequestFailure {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
  /** Seconds, for 503. */
  readonly retryAfter?: number | undefined;
  readonly outcome: RequestOutcome;
}

/** The reply as the client gets it (the `reply` of the 200 body). */
export interface DecodedReply {
  readonly event: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: unknown;
}

/**
 * The Kafka request of a checked message: the record `POST /publish` would write ({@link kafkaRecordOf}), with the
 * message's correlation id to pair the reply. (A RabbitMQ request is the message `POST /publish` would send as it
 * is, `amqpMessageOf` of the publish pipeline: the correlation id is already one of its properties.)
 */
export function kafkaRequestOf(message: CheckedMessage, bytes: Buffer): KafkaRequest {
  return { ...kafkaRecordOf(message, bytes), correlationId: message.correlationId };
}

/**
 * What the client gets for an error of the encode, send or wait step: 504 `REPLY_TIMEOUT` when no reply came in
 * time (the message names `timeoutMs`, the client's timeout, when given), 409 `CORRELATION_ID_IN_USE` when a
 * request with the same correlation id is still waiting for its reply; everything else as `POST /publish` answers
 * it (422 `UNROUTABLE`, 503 + `Retry-After` for a broker or the registry being unavailable, ...). Rethrows what
 * publishing would rethrow (a 500).
 */
export function requestFailure(error: unknown, message: CheckedMessage, timeoutMs?: number): RequestFailure {
  if (error instanceof TransportError && error.code === "REPLY_TIMEOUT") {
    const where = `${message.route.broker === "kafka" ? "Kafka topic" : "RabbitMQ exchange"} "${message.destination.name}"`;
    const within = timeoutMs === undefined ? "in time" : `within ${timeoutMs} ms`;
    return {
      statusCode: 504,
      code: "REPLY_TIMEOUT",
      message: `No reply to the request sent to ${where} (key "${message.key ?? ""}") came ${within}`,
      outcome: "no_reply",
    };
  }
  if (error instanceof TransportError && error.code === "INVALID_OPTIONS") {
    return {
      statusCode: 409,
      code: "CORRELATION_ID_IN_USE",
      message:
        `A request with correlation id "${message.correlationId}" is still waiting for its reply; ` +
        "give every request its own correlation-id",
      outcome: "rejected",
    };
  }
  const failure = publishFailure(error, message);
  return {
    ...failure,
    outcome: failure.outcome === "accepted" || failure.outcome === "replayed" ? "error" : failure.outcome,
  };
}

/**
 * Decodes a reply within `timeoutMs`: with the gateway's descriptor of its `event-type` when it knows that event
 * (the writer's schema resolved to it), else with the writer's schema alone; then to JSON ({@link avroToJson}).
 * Throws what the serde throws (`ContractError`; `REGISTRY_UNAVAILABLE` is retriable) or a `TIMEOUT`.
 */
export async function decodeReply(
  serde: RegistrySerde,
  events: ReadonlyMap<string, EventDescriptor<unknown>>,
  reply: RequestReply,
  timeoutMs: number,
): Promise<DecodedReply> {
  const eventType = reply.headers["event-type"];
  const known = eventType === undefined ? undefined : events.get(eventType);
  if (known) {
    const value = await withTimeout(serde.decode(known, reply.body), timeoutMs, `decoding the reply (${known.name})`);
    return { event: known.name, headers: reply.headers, payload: avroToJson(value) };
  }
  const decoded = await withTimeout(serde.decodeAny(reply.body), timeoutMs, "decoding the reply");
  return { event: eventType ?? decoded.writerName, headers: reply.headers, payload: avroToJson(decoded.value) };
}

/**
 * What the client gets for an error of {@link decodeReply}: 503 + `Retry-After` when the registry could not be
 * asked in time (as for publishing), else 502 `REPLY_DECODE_FAILED` (the reply is not Confluent-framed Avro, names
 * an unknown schema id, or does not match its schema).
 */
export function decodeFailure(error: unknown, message: CheckedMessage): RequestFailure {
  if ((error instanceof ContractError && error.retriable) || error instanceof TransportError) {
    return requestFailure(error, message);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return {
    statusCode: 502,
    code: "REPLY_DECODE_FAILED",
    message: `The reply to the request sent to "${message.destination.name}" cannot be decoded: ${reason}`,
    outcome: "bad_reply",
  };
}
