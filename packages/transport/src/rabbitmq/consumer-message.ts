import { randomUUID } from "node:crypto";
import type { Message, MessageProperties } from "amqplib";
import { type QueueDeclaration, retryQueueName } from "../admin/queue-plan.js";
import { type DeadLetterReason, deadLetterHeaders, RETRY_HEADERS, retryHeaders, text } from "../consume/dead-letter.js";
import type { DeadLetterError, RawHeader } from "../consume/delivery.js";
import type { AmqpMessage } from "./publisher.js";

// Pure helpers of the RabbitMQ consumer: how an AMQP message reads as a Delivery, and the retry and dead-letter
// copies made of it. No broker here, so all of it is unit-tested.

/**
 * Headers a retried copy carries so the route the publisher chose survives the retry path: the copy is published
 * to the default exchange with the retry queue's name, and comes back from it with the source queue's name as
 * routing key, so the delivery's own `exchange` and `routingKey` no longer say where the message was published.
 * Set on the first retry and kept by later ones.
 */
export const ORIGINAL_ROUTE_HEADERS = {
  exchange: "x-kronos-original-exchange",
  routingKey: "x-kronos-original-routing-key",
} as const;

// Headers RabbitMQ writes when it dead-letters a message. A retried copy is a new publish and leaves them out: on
// the copy they would only describe the retry path's own expiries (counted up on every trip), and the retry headers
// (x-kronos-attempt, x-kronos-first-failure, ...) carry the history that matters instead.
const DEATH_HEADER = /^x-(death|first-death-.*|last-death-.*)$/;

/**
 * A header value as text, as a {@link Delivery} exposes it: strings as they are, Buffers as UTF-8, numbers and
 * booleans printed, amqplib's typed values (`{ "!": "timestamp", value }`) as their value, arrays and tables (such
 * as `x-death`) JSON-encoded with any Buffer inside as UTF-8. `null` and `undefined` give `undefined`.
 */
export function headerText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  const scalar = text(value);
  if (scalar !== undefined) return scalar;
  if (isTypedValue(value)) {
    const typed = text(value.value);
    if (typed !== undefined) return typed;
  }
  return JSON.stringify(value, function (this: Record<string, unknown>, key, encoded: unknown) {
    // JSON.stringify hands a Buffer over already turned into { type, data }: look at the raw value instead.
    const raw = this[key];
    if (Buffer.isBuffer(raw)) return raw.toString("utf8");
    if (typeof raw === "bigint") return raw.toString();
    return encoded;
  });
}

function isTypedValue(value: unknown): value is { "!": string; value: unknown } {
  return typeof value === "object" && value !== null && "!" in value && "value" in value;
}

// AMQP properties a Delivery exposes as headers, under the names the gateway publishes Kafka headers with.
const PROPERTY_HEADERS: ReadonlyArray<[keyof MessageProperties, string]> = [
  ["messageId", "message-id"],
  ["correlationId", "correlation-id"],
  ["type", "event-type"],
  ["contentType", "content-type"],
  ["replyTo", "reply-to"],
];

/**
 * The text headers of a delivery: every AMQP header through {@link headerText}, then the properties `messageId`,
 * `correlationId`, `type`, `contentType` and `replyTo` under `message-id`, `correlation-id`, `event-type`,
 * `content-type` and `reply-to` (a property wins over a header of the same name: it is what the broker carried),
 * and `timestamp` in ms: the `timestamp` header when there is one (the gateway writes ms), else the `timestamp`
 * property (AMQP seconds) × 1000.
 */
export function deliveryHeaders(properties: Partial<MessageProperties>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties.headers ?? {})) {
    const converted = headerText(value);
    if (converted !== undefined) headers[name] = converted;
  }
  for (const [property, name] of PROPERTY_HEADERS) {
    const value = text(properties[property]);
    if (value !== undefined) headers[name] = value;
  }
  if (headers.timestamp === undefined && typeof properties.timestamp === "number") {
    headers.timestamp = String(properties.timestamp * 1000);
  }
  return headers;
}

/**
 * The raw headers of a delivery (`Delivery.rawHeaders`): the names of {@link deliveryHeaders}, in its order, each
 * value as bytes: an AMQP header holding a byte array (a Buffer) as it is, unless a property took its name; anything
 * else as the UTF-8 of its text.
 */
export function deliveryRawHeaders(properties: Partial<MessageProperties>): RawHeader[] {
  const table: Record<string, unknown> = properties.headers ?? {};
  const fromProperty = new Set(
    PROPERTY_HEADERS.filter(([property]) => text(properties[property]) !== undefined).map(([, name]) => name),
  );
  return Object.entries(deliveryHeaders(properties)).map(([name, value]): RawHeader => {
    const original = table[name];
    return [name, Buffer.isBuffer(original) && !fromProperty.has(name) ? original : Buffer.from(value, "utf8")];
  });
}

/** The delivery's time in ms from its text `timestamp` header ({@link deliveryHeaders}), when it is a number. */
export function timestampMsOf(headers: Readonly<Record<string, string>>): number | undefined {
  const raw = headers.timestamp;
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * Where the message was published: the exchange and routing key recorded by the first retry
 * ({@link ORIGINAL_ROUTE_HEADERS}), else the delivery's own.
 */
export function originalRoute(message: Pick<Message, "fields" | "properties">): {
  exchange: string;
  routingKey: string;
} {
  const headers: Record<string, unknown> = message.properties.headers ?? {};
  return {
    exchange: text(headers[ORIGINAL_ROUTE_HEADERS.exchange]) ?? message.fields.exchange,
    routingKey: text(headers[ORIGINAL_ROUTE_HEADERS.routingKey]) ?? message.fields.routingKey,
  };
}

/**
 * The delay queue of `queue` for `tierMs`, with exactly the arguments `planQueue` gives a classic queue's retry
 * queue (so either may create it first): durable, `x-message-ttl: tierMs`, dead-lettering through the default
 * exchange back to `queue`.
 */
export function retryQueueDeclaration(queue: string, tierMs: number): QueueDeclaration {
  return {
    name: retryQueueName(queue, tierMs),
    durable: true,
    arguments: {
      "x-queue-type": "classic",
      "x-message-ttl": tierMs,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": queue,
    },
  };
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A copy of `message` to publish to `exchange`/`routingKey`: the same body and properties (`messageId`,
 * `correlationId`, `type`, `contentType`, `timestamp`, `priority`, `replyTo`) with `headers`. A message without a
 * `messageId` gets a new one (the publisher matches returned messages by it). Never copies `expiration`: a
 * per-message TTL would expire the copy again.
 */
export function copyMessage(
  message: Pick<Message, "content" | "properties">,
  exchange: string,
  routingKey: string,
  headers: Record<string, unknown>,
): AmqpMessage {
  const properties = message.properties;
  const copy: Writable<AmqpMessage> = {
    exchange,
    routingKey,
    content: message.content,
    messageId: text(properties.messageId) ?? randomUUID(),
    headers,
  };
  const correlationId = text(properties.correlationId);
  if (correlationId !== undefined) copy.correlationId = correlationId;
  const type = text(properties.type);
  if (type !== undefined) copy.type = type;
  const contentType = text(properties.contentType);
  if (contentType !== undefined) copy.contentType = contentType;
  const replyTo = text(properties.replyTo);
  if (replyTo !== undefined) copy.replyTo = replyTo;
  if (typeof properties.timestamp === "number") copy.timestamp = properties.timestamp;
  if (typeof properties.priority === "number") copy.priority = properties.priority;
  return copy;
}

/** What a retried copy needs besides the message. */
export interface RetryCopyContext {
  /** The source queue (the retry queue dead-letters back to it). */
  readonly queue: string;
  readonly tierMs: number;
  /** The attempt that failed (the copy carries `attempt + 1`). */
  readonly attempt: number;
  /** Why it is retried (see `decideRetry`): `x-kronos-last-error` and `x-kronos-last-error-code`. */
  readonly error: DeadLetterError;
  readonly nowMs: number;
}

/**
 * The copy of `message` for the retry queue of `context.tierMs`: published to the default exchange with the retry
 * queue's name as routing key; its headers are the original ones without RabbitMQ's `x-death` family, plus the
 * original route ({@link ORIGINAL_ROUTE_HEADERS}) and `retryHeaders(...)` (`x-kronos-attempt` = attempt + 1,
 * `x-kronos-first-failure` kept or now, `x-kronos-last-error` and `-code` = the error).
 */
export function retryCopy(
  message: Pick<Message, "content" | "fields" | "properties">,
  context: RetryCopyContext,
): AmqpMessage {
  const original: Record<string, unknown> = message.properties.headers ?? {};
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(original)) if (!DEATH_HEADER.test(name)) headers[name] = value;
  const route = originalRoute(message);
  headers[ORIGINAL_ROUTE_HEADERS.exchange] = route.exchange;
  headers[ORIGINAL_ROUTE_HEADERS.routingKey] = route.routingKey;
  Object.assign(headers, retryHeaders(original, context.attempt, context.error, context.nowMs));
  return copyMessage(message, "", retryQueueName(context.queue, context.tierMs), headers);
}

/** Where a subscription's dead letters go. `routingKey` undefined: the message's original routing key. */
export interface DeadLetterTarget {
  readonly exchange: string;
  readonly routingKey: string | undefined;
}

/** What a dead letter needs besides the message and its target. */
export interface DeadLetterCopyContext {
  /** The source queue. */
  readonly queue: string;
  readonly reason: DeadLetterReason;
  readonly error: DeadLetterError;
  readonly attempt: number;
  /** The subscription's consumer name. */
  readonly consumer: string;
  readonly nowMs: number;
}

/**
 * The dead letter of `message` for `target`: the original body, properties and headers (x-death included: it is
 * history) plus `deadLetterHeaders(...)`: destination and routing key where it was originally published
 * ({@link originalRoute}), the source queue, the event type, `attempts` = the attempt that gave up, the first
 * failure from `x-kronos-first-failure` (else now), the last failure now, the producer from the `producer` header
 * and the consumer name.
 */
export function deadLetterCopy(
  message: Pick<Message, "content" | "fields" | "properties">,
  target: DeadLetterTarget,
  context: DeadLetterCopyContext,
): AmqpMessage {
  const original: Record<string, unknown> = message.properties.headers ?? {};
  const route = originalRoute(message);
  const firstFailure = Number(text(original[RETRY_HEADERS.firstFailure]));
  const headers = {
    ...original,
    ...deadLetterHeaders({
      reason: context.reason,
      errorCode: context.error.code,
      error: context.error.message,
      broker: "rabbitmq",
      destination: route.exchange,
      queue: context.queue,
      routingKey: route.routingKey,
      eventType: text(message.properties.type) ?? text(original["event-type"]),
      attempts: context.attempt,
      firstFailureMs: Number.isSafeInteger(firstFailure) && firstFailure > 0 ? firstFailure : context.nowMs,
      lastFailureMs: context.nowMs,
      producer: text(original.producer),
      consumer: context.consumer,
    }),
  };
  return copyMessage(message, target.exchange, target.routingKey ?? route.routingKey, headers);
}
