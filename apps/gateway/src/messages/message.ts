import { randomUUID } from "node:crypto";
import { HttpError } from "@kronos/app-kit";
import { checkPayload, type Violation } from "@kronos/contracts";
import {
  type AmqpMessage,
  cloudEventHeaders,
  isCloudEventsHeader,
  type KafkaRecord,
  type KafkaRequest,
} from "@kronos/transport";
import { type Broker, type Destination, type Destinations, defaultKey, type Route } from "../contracts/index.js";

/** The content type of every message the gateway writes: Avro in the Confluent wire format (0, schema id, Avro). */
export const CONTENT_TYPE = "application/vnd.kronos.avro";

/**
 * Header names the gateway sets itself (and the CloudEvents headers, `ce_*` and `cloudEvents_*`); a client may give
 * `message-id`, `correlation-id` and `traceparent`.
 */
export const RESERVED_HEADERS: readonly string[] = ["event-type", "content-type", "producer", "timestamp"];

/** One message of a publish or request body, as the route schema accepts it. */
export interface MessageInput {
  readonly topic: string;
  readonly broker?: Broker | undefined;
  readonly event?: string | undefined;
  readonly key?: string | undefined;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  readonly priority?: number | undefined;
  readonly payload: unknown;
}

/** Who sends and the tracing context of the HTTP request. */
export interface MessageContext {
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

const HEADER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Resolves where the message goes and checks its payload (JSON → Avro values, then the event schema). Throws an
 * `HttpError` for a request that cannot be routed (see `Destinations.resolve`, plus 400 `RESERVED_HEADER`,
 * 400 `INVALID_HEADER`, 422 `ROUTING_KEY_UNRESOLVED`); returns the violations when the payload is invalid.
 */
export function checkMessage(destinations: Destinations, input: MessageInput, context: MessageContext): CheckResult {
  const { destination, route } = destinations.resolve(input);
  const given = input.headers ?? {};
  for (const name of Object.keys(given)) {
    if (RESERVED_HEADERS.includes(name.toLowerCase()) || isCloudEventsHeader(name)) {
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
  // The same values as CloudEvents attributes (binary mode of the broker's binding): see README.md, "CloudEvents".
  Object.assign(
    headers,
    cloudEventHeaders(route.broker, {
      id: messageId,
      type: route.event.name,
      source: `/kronos/producers/${context.principalId}`,
      time: new Date(timestampMs).toISOString(),
      traceparent: traceparent || undefined,
    }),
  );
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

/**
 * The Kafka request of a checked message: the record `POST /publish` would write ({@link kafkaRecordOf}), with the
 * message's correlation id to pair the reply. (A RabbitMQ request is the message `POST /publish` would send as it
 * is, {@link amqpMessageOf}: the correlation id is already one of its properties.)
 */
export function kafkaRequestOf(message: CheckedMessage, bytes: Buffer): KafkaRequest {
  return { ...kafkaRecordOf(message, bytes), correlationId: message.correlationId };
}

/** Where a message goes, as messages name it: `Kafka topic "t"` or `RabbitMQ exchange "x"`. */
export function whereOf(message: CheckedMessage): string {
  return `${message.route.broker === "kafka" ? "Kafka topic" : "RabbitMQ exchange"} "${message.destination.name}"`;
}
