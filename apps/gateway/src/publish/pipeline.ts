import { randomUUID } from "node:crypto";
import { HttpError } from "@kronos/app-kit";
import { ContractError, type RegistrySerde, type Violation } from "@kronos/contracts";
import {
  type AmqpMessage,
  type AmqpPublisher,
  type KafkaPublisher,
  type KafkaRecord,
  TransportError,
  type TransportErrorCode,
  withTimeout,
} from "@kronos/transport";
import { checkPayload } from "./convert.js";
import { type Broker, type Destination, type Destinations, defaultKey, type Route } from "./destinations.js";
import type { PublishOutcome } from "./metrics.js";

/** The content type of every message the gateway writes: Avro in the Confluent wire format (0, schema id, Avro). */
export const CONTENT_TYPE = "application/vnd.kronos.avro";

/** Header names the gateway sets itself; a client may give `message-id`, `correlation-id` and `traceparent`. */
export const RESERVED_HEADERS: readonly string[] = ["event-type", "content-type", "producer", "timestamp"];

/** `Retry-After` (seconds) of a 503: a broker or the registry could not take the message. */
export const RETRY_AFTER_SECONDS = 5;

/** One message of a publish request, as the route schema accepts it. */
export interface PublishInput {
  readonly topic: string;
  readonly broker?: Broker | undefined;
  readonly event?: string | undefined;
  readonly key?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly priority?: number | undefined;
  readonly payload: unknown;
}

/** Who publishes and the tracing context of the HTTP request. */
export interface PublishContext {
  readonly principalId: string;
  /** W3C `traceparent` of the HTTP request, if any. */
  readonly traceparent?: string | undefined;
  /** `X-Correlation-Id` of the HTTP request, if any. */
  readonly correlationId?: string | undefined;
}

/** A message that passed validation, ready to encode and send. */
export interface CheckedMessage {
  readonly destination: Destination;
  readonly route: Route;
  readonly value: unknown;
  readonly key: string | null;
  readonly messageId: string;
  readonly correlationId: string;
  readonly priority: number | undefined;
  readonly timestampMs: number;
  readonly headers: Record<string, string>;
}

/** What {@link checkMessage} gives: a message ready to send, or the payload's violations. */
export type CheckResult =
  | { readonly ok: true; readonly message: CheckedMessage }
  | { readonly ok: false; readonly event: string; readonly violations: Violation[] };

/** What the broker acknowledged (the 202 body). */
export interface PublishAck {
  readonly messageId: string;
  readonly topic: string;
  readonly broker: Broker;
  readonly partition?: number;
  readonly offset?: string;
}

/** A failed publish as the client sees it, and the metrics outcome. */
export interface PublishFailure {
  readonly statusCode: number;
  readonly code: string;
  readonly message: string;
  /** Seconds, for 503. */
  readonly retryAfter?: number;
  readonly outcome: PublishOutcome;
}

const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Resolves where the message goes and checks its payload (JSON → Avro values, then the event schema). Throws an
 * `HttpError` for a request that cannot be routed (see `Destinations.resolve`, plus 400 `RESERVED_HEADER`,
 * 400 `INVALID_HEADER`, 422 `ROUTING_KEY_UNRESOLVED`); returns the violations when the payload is invalid.
 */
export function checkMessage(destinations: Destinations, input: PublishInput, context: PublishContext): CheckResult {
  const { destination, route } = destinations.resolve(input);
  const given = input.headers ?? {};
  for (const name of Object.keys(given)) {
    if (RESERVED_HEADERS.includes(name.toLowerCase())) {
      throw new HttpError(
        400,
        "RESERVED_HEADER",
        `header "${name}" is set by the gateway; clients may set message-id, correlation-id, traceparent and their own`,
      );
    }
    if (!HEADER_NAME.test(name)) {
      throw new HttpError(400, "INVALID_HEADER", `header name "${name}" must match ${HEADER_NAME.source}`);
    }
  }
  const { value, violations } = checkPayload(route.event.type, route.event.validate, input.payload);
  if (violations.length > 0) return { ok: false, event: route.event.name, violations };

  const lower = Object.fromEntries(Object.entries(given).map(([k, v]) => [k.toLowerCase(), v]));
  const messageId = lower["message-id"] || randomUUID();
  const correlationId = lower["correlation-id"] || context.correlationId || messageId;
  const traceparent = lower.traceparent || context.traceparent;
  const timestampMs = Date.now();
  const headers: Record<string, string> = {
    ...given,
    "message-id": messageId,
    "event-type": route.event.name,
    "content-type": CONTENT_TYPE,
    "correlation-id": correlationId,
    producer: context.principalId,
    timestamp: String(timestampMs),
  };
  if (traceparent) headers.traceparent = traceparent;
  for (const name of ["message-id", "correlation-id", "traceparent"]) {
    // The client's spelling (e.g. Message-Id) is replaced by the canonical lower-case one.
    for (const key of Object.keys(given)) if (key !== name && key.toLowerCase() === name) delete headers[key];
  }
  const key = input.key ?? defaultKey(route, value);
  return {
    ok: true,
    message: {
      destination,
      route,
      value,
      key,
      messageId,
      correlationId,
      priority: input.priority,
      timestampMs,
      headers,
    },
  };
}

/** Encodes a checked message (registry schema id, looked up or registered once) within `timeoutMs`. */
export function encodeMessage(serde: RegistrySerde, message: CheckedMessage, timeoutMs: number): Promise<Buffer> {
  return withTimeout(
    serde.encode(message.route.event, message.value),
    timeoutMs,
    `encoding ${message.route.event.name} (schema registry)`,
  );
}

/**
 * The Kafka record a checked message becomes: topic = the destination, the message's key (null spreads it over the
 * partitions), the encoded bytes, every header of the message (ids, event type, content type, producer, timestamp,
 * traceparent and the client's own) and its timestamp (ms, as text).
 */
export function kafkaRecordOf(message: CheckedMessage, bytes: Buffer): KafkaRecord {
  return {
    topic: message.destination.name,
    key: message.key,
    value: bytes,
    headers: message.headers,
    timestamp: String(message.timestampMs),
  };
}

/**
 * The AMQP message a checked message becomes: exchange = the destination, routing key = the key (empty when none),
 * message id, correlation id, content type, event type and timestamp (seconds) as AMQP properties, the other
 * headers as AMQP headers, and the priority when the client gave one.
 */
export function amqpMessageOf(message: CheckedMessage, bytes: Buffer): AmqpMessage {
  // These travel as AMQP properties, not as headers.
  const { "message-id": _, "correlation-id": __, "content-type": ___, ...headers } = message.headers;
  return {
    exchange: message.destination.name,
    routingKey: message.key ?? "",
    content: bytes,
    messageId: message.messageId,
    contentType: CONTENT_TYPE,
    correlationId: message.correlationId,
    type: message.route.event.name,
    timestamp: Math.floor(message.timestampMs / 1000),
    headers,
    ...(message.priority === undefined ? {} : { priority: message.priority }),
  };
}

/** Sends an encoded message and resolves once the broker acknowledged it (Kafka acks=all, RabbitMQ confirm). */
export async function sendMessage(
  publishers: { kafka: KafkaPublisher; amqp: AmqpPublisher },
  message: CheckedMessage,
  bytes: Buffer,
  timeoutMs: number,
): Promise<PublishAck> {
  const topic = message.destination.name;
  if (message.route.broker === "kafka") {
    const ack = await publishers.kafka.publish(kafkaRecordOf(message, bytes), { timeoutMs });
    return { messageId: message.messageId, topic, broker: "kafka", partition: ack.partition, offset: ack.offset };
  }
  await publishers.amqp.publish(amqpMessageOf(message, bytes), { timeoutMs });
  return { messageId: message.messageId, topic, broker: "rabbitmq" };
}

const TRANSPORT_FAILURES: Partial<Record<TransportErrorCode, Omit<PublishFailure, "message">>> = {
  UNROUTABLE: { statusCode: 422, code: "UNROUTABLE", outcome: "unroutable" },
  PUBLISH_REJECTED: { statusCode: 422, code: "PUBLISH_REJECTED", outcome: "rejected" },
  DESTINATION_NOT_FOUND: {
    statusCode: 503,
    code: "DESTINATION_NOT_FOUND",
    retryAfter: RETRY_AFTER_SECONDS,
    outcome: "unavailable",
  },
  TIMEOUT: { statusCode: 503, code: "TIMEOUT", retryAfter: RETRY_AFTER_SECONDS, outcome: "timeout" },
};

/**
 * What the client gets for an error of the encode or send step. 422 `UNROUTABLE` (RabbitMQ returned the message:
 * no queue is bound for its routing key), 422 `PUBLISH_REJECTED` (the broker refused the message itself), 422
 * `VALIDATION_FAILED`, 503 + `Retry-After` for everything retrying can fix: `KAFKA_UNAVAILABLE`,
 * `RABBITMQ_UNAVAILABLE`, `NACKED`, `TIMEOUT`, `REGISTRY_UNAVAILABLE`, `DESTINATION_NOT_FOUND` (the manifest's
 * topology is not on the broker yet), `CLOSED` (shutting down); 500 `SCHEMA_REGISTRY_REFUSED` when the registry
 * refuses the gateway's own schema. Anything else is rethrown (a 500 without details).
 */
export function publishFailure(error: unknown, message: CheckedMessage): PublishFailure {
  const where = `${message.route.broker === "kafka" ? "Kafka topic" : "RabbitMQ exchange"} "${message.destination.name}"`;
  if (error instanceof TransportError) {
    if (error.code === "UNROUTABLE") {
      return {
        ...(TRANSPORT_FAILURES.UNROUTABLE as Omit<PublishFailure, "message">),
        message: `No queue is bound to ${where} for routing key "${message.key ?? ""}"; nothing was delivered`,
      };
    }
    const known = TRANSPORT_FAILURES[error.code];
    if (known) return { ...known, message: `${where}: ${error.message}` };
    if (error.retriable || error.code === "CLOSED") {
      return {
        statusCode: 503,
        code: error.code,
        message: `${where} cannot take the message right now: ${error.message}`,
        retryAfter: RETRY_AFTER_SECONDS,
        outcome: "unavailable",
      };
    }
  }
  if (error instanceof ContractError) {
    if (error.retriable) {
      return {
        statusCode: 503,
        code: "REGISTRY_UNAVAILABLE",
        message: `The schema registry cannot be reached: ${error.message}`,
        retryAfter: RETRY_AFTER_SECONDS,
        outcome: "unavailable",
      };
    }
    if (error.code === "VALIDATION_FAILED") {
      return { statusCode: 422, code: "VALIDATION_FAILED", message: error.message, outcome: "invalid" };
    }
    return {
      statusCode: 500,
      code: "SCHEMA_REGISTRY_REFUSED",
      message: `The schema registry refused the schema of ${message.route.event.name} (${error.code})`,
      outcome: "error",
    };
  }
  throw error;
}
