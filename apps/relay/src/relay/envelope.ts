import type { AmqpMessage, KafkaRecord } from "@kronos/transport";

/**
 * A message between its source and its destination, in one broker-neutral form: the body and the key as bytes,
 * and every header as the list of its values' bytes (a Kafka header repeated in a record keeps all its values, in
 * order). AMQP properties live here under their Kafka header names ({@link PROPERTY_HEADERS}), so one mapping
 * serves both directions. See the README's "Kafka headers ↔ AMQP" table.
 */
export interface Envelope {
  readonly value: Buffer;
  readonly key: Buffer | null;
  readonly headers: Map<string, Buffer[]>;
  /** Source time in ms since the epoch (Kafka record timestamp; AMQP `timestamp` property × 1000). */
  readonly timestampMs: number | undefined;
  /** The AMQP routing key it was published with (RabbitMQ sources). */
  readonly routingKey: string | undefined;
}

/** The relay's own headers: hop bookkeeping and what one broker has and the other carries as a header. */
export const RELAY_HEADERS = {
  /** The first source, `<broker>:<topic or exchange>`. */
  origin: "x-kronos-relay-origin",
  /** Every place the message was on, comma-separated `<broker>:<name>`, the origin first. */
  visited: "x-kronos-relay-visited",
  /** How many times a relay copied it. */
  hops: "x-kronos-relay-hops",
  /** The relay instance that made this copy. */
  instance: "x-kronos-relay-instance",
  /** The route that made this copy. */
  route: "x-kronos-relay-route",
  /** On RabbitMQ: the Kafka record key (bytes), given back as the key when it returns to Kafka. */
  kafkaKey: "x-kronos-relay-kafka-key",
  /** On RabbitMQ: the Kafka record timestamp in ms (AMQP's `timestamp` has seconds only). */
  kafkaTimestamp: "x-kronos-relay-kafka-timestamp",
  /** On Kafka: the AMQP routing key the message had. */
  routingKey: "x-kronos-relay-routing-key",
  /** On RabbitMQ: the priority was set by the route (from the payload), not carried: it does not go back to Kafka. */
  routePriority: "x-kronos-relay-route-priority",
} as const;

/** AMQP properties and the Kafka header names they travel under (the names the gateway publishes with). */
export const PROPERTY_HEADERS = [
  ["messageId", "message-id"],
  ["correlationId", "correlation-id"],
  ["type", "event-type"],
  ["contentType", "content-type"],
  ["replyTo", "reply-to"],
] as const;

type PropertyName = (typeof PROPERTY_HEADERS)[number][0];

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The text of `bytes` when they are valid UTF-8, else undefined. */
export function utf8Text(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** The single text value of header `name`, or undefined (absent, repeated, or not UTF-8). */
export function headerText(envelope: Envelope, name: string): string | undefined {
  const values = envelope.headers.get(name);
  return values?.length === 1 && values[0] ? utf8Text(values[0]) : undefined;
}

/** Sets header `name` to one text value. */
export function setHeader(envelope: Envelope, name: string, value: string): void {
  envelope.headers.set(name, [Buffer.from(value, "utf8")]);
}

// ---------------------------------------------------------------------------------------------------------- Kafka

/** A consumed Kafka record as the client gives it. */
export interface RawKafkaRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: string;
  readonly headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

const asBuffer = (value: Buffer | string): Buffer => (typeof value === "string" ? Buffer.from(value, "utf8") : value);

/** The envelope of a consumed Kafka record: bytes as they are, every value of a repeated header. */
export function fromKafka(record: RawKafkaRecord): Envelope {
  const headers = new Map<string, Buffer[]>();
  for (const [name, raw] of Object.entries(record.headers ?? {})) {
    if (raw === undefined) continue;
    headers.set(name, (Array.isArray(raw) ? raw : [raw]).map(asBuffer));
  }
  const timestampMs = Number(record.timestamp);
  return {
    value: record.value ?? Buffer.alloc(0),
    key: record.key,
    headers,
    timestampMs: Number.isFinite(timestampMs) ? timestampMs : undefined,
    routingKey: undefined,
  };
}

/**
 * The Kafka record for `envelope` on `topic`. The key is the one carried from Kafka (`x-kronos-relay-kafka-key`),
 * else `fallbackKey`; the timestamp the carried Kafka one, else the source's. The AMQP routing key, if any, travels
 * as `x-kronos-relay-routing-key`.
 */
export function toKafka(envelope: Envelope, topic: string, fallbackKey: string | null): KafkaRecord {
  const headers: Record<string, Buffer | Buffer[]> = {};
  let key: Buffer | null = fallbackKey === null ? null : Buffer.from(fallbackKey, "utf8");
  let timestampMs = envelope.timestampMs;
  for (const [name, values] of envelope.headers) {
    if (name === RELAY_HEADERS.kafkaKey && values[0]) key = values[0];
    else if (name === RELAY_HEADERS.kafkaTimestamp && values[0])
      timestampMs = Number(values[0].toString()) || timestampMs;
    else headers[name] = values.length === 1 && values[0] ? values[0] : values;
  }
  if (envelope.key !== null && !envelope.headers.has(RELAY_HEADERS.kafkaKey)) key = envelope.key;
  if (envelope.routingKey !== undefined) headers[RELAY_HEADERS.routingKey] = Buffer.from(envelope.routingKey, "utf8");
  const record: KafkaRecord = { topic, key, value: envelope.value, headers };
  return timestampMs === undefined ? record : { ...record, timestamp: String(Math.trunc(timestampMs)) };
}

// ------------------------------------------------------------------------------------------------------- RabbitMQ

/** A consumed AMQP message as amqplib gives it (the parts the relay reads). */
export interface RawAmqpMessage {
  readonly content: Buffer;
  readonly fields: { readonly routingKey: string };
  readonly properties: {
    readonly headers?: Record<string, unknown> | undefined;
    readonly messageId?: unknown;
    readonly correlationId?: unknown;
    readonly type?: unknown;
    readonly contentType?: unknown;
    readonly replyTo?: unknown;
    readonly priority?: unknown;
    readonly timestamp?: unknown;
  };
}

/**
 * One AMQP header value as Kafka header bytes: text as UTF-8, a byte array as it is, an array as repeated values;
 * numbers, booleans and timestamps as their decimal text and a nested table as JSON (their AMQP type is not kept).
 */
function amqpValueBytes(value: unknown): Buffer[] {
  if (value === null || value === undefined) return [];
  if (Buffer.isBuffer(value)) return [value];
  if (Array.isArray(value)) return value.flatMap(amqpValueBytes);
  if (typeof value === "string") return [Buffer.from(value, "utf8")];
  if (typeof value === "object") {
    const typed = value as { "!"?: unknown; value?: unknown };
    if (typed["!"] !== undefined && typed.value !== undefined) return amqpValueBytes(typed.value);
    return [Buffer.from(JSON.stringify(value), "utf8")];
  }
  return [Buffer.from(String(value), "utf8")];
}

/** The envelope of a consumed AMQP message: properties under their Kafka header names, headers as bytes. */
export function fromAmqp(message: RawAmqpMessage): Envelope {
  const headers = new Map<string, Buffer[]>();
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    const bytes = amqpValueBytes(value);
    if (bytes.length > 0) headers.set(name, bytes);
  }
  for (const [property, name] of PROPERTY_HEADERS) {
    const value = message.properties[property];
    if (typeof value === "string") headers.set(name, [Buffer.from(value, "utf8")]);
  }
  const priority = message.properties.priority;
  if (typeof priority === "number" && !headers.has(RELAY_HEADERS.routePriority))
    headers.set("priority", [Buffer.from(String(priority), "utf8")]);
  const seconds = message.properties.timestamp;
  return {
    value: message.content,
    key: null,
    headers,
    timestampMs: typeof seconds === "number" ? seconds * 1000 : undefined,
    routingKey: message.fields.routingKey,
  };
}

/** A property value must be a short string: valid UTF-8, at most 255 bytes. */
function propertyText(values: Buffer[]): string | undefined {
  if (values.length !== 1 || !values[0] || values[0].length > 255) return undefined;
  return utf8Text(values[0]);
}

/**
 * The AMQP message for `envelope` to `exchange` with `routingKey`. A header named like a property (one UTF-8 value
 * of at most 255 bytes) becomes that property, `priority` (0–255) the priority; the others become AMQP headers:
 * UTF-8 text as a string, other bytes as a byte array, a repeated header as an array. The Kafka key and timestamp
 * travel as `x-kronos-relay-kafka-key` (bytes) and `x-kronos-relay-kafka-timestamp`. `fallbackMessageId` is the
 * message id when the source had none (AMQP publishers here require one).
 */
export function toAmqp(
  envelope: Envelope,
  exchange: string,
  routingKey: string,
  fallbackMessageId: string,
  priority: number | undefined,
): AmqpMessage {
  const properties: Partial<Record<PropertyName, string>> = {};
  const headers: Record<string, unknown> = {};
  let carriedPriority: number | undefined;
  const propertyOf = new Map<string, PropertyName>(PROPERTY_HEADERS.map(([property, name]) => [name, property]));
  for (const [name, values] of envelope.headers) {
    const property = propertyOf.get(name);
    const text = property === undefined ? undefined : propertyText(values);
    if (property !== undefined && text !== undefined) {
      properties[property] = text;
      continue;
    }
    if (name === "priority") {
      const level = Number(propertyText(values));
      if (Number.isInteger(level) && level >= 0 && level <= 255) {
        carriedPriority = level;
        continue;
      }
    }
    if (name === RELAY_HEADERS.routingKey) continue;
    const converted = values.map((bytes) => utf8Text(bytes) ?? bytes);
    headers[name] = converted.length === 1 ? converted[0] : converted;
  }
  if (envelope.key !== null) headers[RELAY_HEADERS.kafkaKey] = envelope.key;
  if (envelope.timestampMs !== undefined && envelope.routingKey === undefined) {
    headers[RELAY_HEADERS.kafkaTimestamp] = String(envelope.timestampMs);
  }
  const level = priority ?? carriedPriority;
  if (priority !== undefined && carriedPriority === undefined) headers[RELAY_HEADERS.routePriority] = String(priority);
  const message: AmqpMessage = {
    exchange,
    routingKey,
    content: envelope.value,
    messageId: properties.messageId ?? fallbackMessageId,
    headers,
    ...(properties.correlationId === undefined ? {} : { correlationId: properties.correlationId }),
    ...(properties.type === undefined ? {} : { type: properties.type }),
    ...(properties.contentType === undefined ? {} : { contentType: properties.contentType }),
    ...(properties.replyTo === undefined ? {} : { replyTo: properties.replyTo }),
    ...(level === undefined ? {} : { priority: level }),
    ...(envelope.timestampMs === undefined ? {} : { timestamp: Math.floor(envelope.timestampMs / 1000) }),
  };
  return message;
}
