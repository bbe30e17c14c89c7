/**
 * Every dead-letter dialect read into one model. Besides the Kronos format and RabbitMQ's own `x-death` (both read by
 * {@link readDeadLetter}), dead letters arrive written by other tools sharing the brokers: Kafka Connect's
 * dead-letter queue reporter (`__connect.errors.*`, with `errors.deadletterqueue.context.headers.enable=true`) and
 * Spring Kafka's `DeadLetterPublishingRecoverer` (`kafka_dlt-*`). {@link readDeadLetterModel} reads any of them into
 * a {@link DeadLetterModel}; a field the dialect does not carry is absent, never guessed.
 *
 * Header values may be given as text (a `Delivery`'s headers), as bytes (Buffers), as repeated values (arrays, the
 * last one counts), or as a `Delivery`'s `rawHeaders` list (a repeated name: the last one counts). Spring writes
 * numbers as big-endian binary: from bytes (`rawHeaders`) they are always read; from text only when the text is
 * exact (no U+FFFD replacement character from a lossy UTF-8 decoding), otherwise they are absent.
 */
import { type DeadLetterReason, readDeadLetter, text } from "./dead-letter.js";
import type { RawHeader } from "./delivery.js";

/** Who wrote the dead letter. */
export type DeadLetterDialect = "kronos" | "x-death" | "kafka-connect" | "spring";

/** A dead letter in one model, whoever wrote it. Absent fields: the dialect does not say. */
export interface DeadLetterModel {
  readonly dialect: DeadLetterDialect;
  /** Why, in Kronos' terms; absent when the dialect does not say (Connect and Spring outside deserialization). */
  readonly reason?: DeadLetterReason;
  /** Stable code of the error: Kronos' code, `RABBITMQ_<x-death reason>`, or the exception's class (Connect, Spring). */
  readonly errorCode?: string;
  /** The error's message. */
  readonly error?: string;
  /** The underlying cause's class (Spring `kafka_dlt-exception-cause-fqcn`). */
  readonly errorCause?: string;
  readonly stackTrace?: string;
  /** Broker of the original. */
  readonly broker?: "kafka" | "rabbitmq";
  /** Kafka topic or RabbitMQ exchange the original was published to (a replay's default target). */
  readonly destination?: string;
  /** RabbitMQ queue the original was consumed from. */
  readonly queue?: string;
  readonly routingKey?: string;
  readonly partition?: number;
  /** Kafka offset of the original (decimal: 64-bit). */
  readonly offset?: string;
  readonly eventType?: string;
  /** Deliveries tried, the last one included. */
  readonly attempts?: number;
  /** A quorum queue's `x-delivery-count`: how often RabbitMQ delivered it before (returned deliveries). */
  readonly deliveryCount?: number;
  readonly firstFailureMs?: number;
  readonly lastFailureMs?: number;
  /** The original record's timestamp (Spring). */
  readonly originalTimestampMs?: number;
  readonly producer?: string;
  /** Who gave up: Kronos' consumer, or the consumer group (Spring). */
  readonly consumer?: string;
  readonly messageId?: string;
  /** Kafka Connect: the connector, its task and the stage that failed (e.g. VALUE_CONVERTER). */
  readonly connector?: { readonly name?: string; readonly taskId?: string; readonly stage?: string };
}

/** Kafka Connect's dead-letter context headers. */
export const CONNECT_HEADERS = {
  topic: "__connect.errors.topic",
  partition: "__connect.errors.partition",
  offset: "__connect.errors.offset",
  connector: "__connect.errors.connector.name",
  taskId: "__connect.errors.task.id",
  stage: "__connect.errors.stage",
  className: "__connect.errors.class.name",
  exceptionClass: "__connect.errors.exception.class.name",
  exceptionMessage: "__connect.errors.exception.message",
  stackTrace: "__connect.errors.exception.stacktrace",
} as const;

/** Spring Kafka's `DeadLetterPublishingRecoverer` headers (`KafkaHeaders.DLT_*`). */
export const SPRING_HEADERS = {
  topic: "kafka_dlt-original-topic",
  partition: "kafka_dlt-original-partition",
  offset: "kafka_dlt-original-offset",
  timestamp: "kafka_dlt-original-timestamp",
  consumerGroup: "kafka_dlt-original-consumer-group",
  exceptionClass: "kafka_dlt-exception-fqcn",
  causeClass: "kafka_dlt-exception-cause-fqcn",
  exceptionMessage: "kafka_dlt-exception-message",
  stackTrace: "kafka_dlt-exception-stacktrace",
  keyExceptionClass: "kafka_dlt-key-exception-fqcn",
  keyExceptionMessage: "kafka_dlt-key-exception-message",
  keyStackTrace: "kafka_dlt-key-exception-stacktrace",
} as const;

// Connect stages whose failure means the record could not be read (converters).
const CONNECT_DECODE_STAGES = new Set(["KEY_CONVERTER", "VALUE_CONVERTER", "HEADER_CONVERTER"]);

/**
 * Reads a dead letter's headers (and AMQP properties) in whichever dialect wrote them: Kronos `x-kronos-dl-*` first
 * (the richest), then Spring `kafka_dlt-*`, Kafka Connect `__connect.errors.*`, and RabbitMQ's `x-death` last (a
 * dead letter another dialect wrote can be dead-lettered again by RabbitMQ). Returns `undefined` when no dialect
 * recognises the message. Never throws.
 */
export function readDeadLetterModel(
  given: Readonly<Record<string, unknown>> | ReadonlyArray<RawHeader>,
  properties: { messageId?: unknown; type?: unknown } = {},
): DeadLetterModel | undefined {
  const headers = isRawHeaders(given) ? Object.fromEntries(given) : given;
  const textHeaders: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    const one = last(value);
    // Bytes as text, so readDeadLetter parses `x-death` given as JSON bytes like the JSON text of a Delivery.
    textHeaders[name] = Buffer.isBuffer(one) ? one.toString("utf8") : one;
  }
  const get = (name: string) => text(textHeaders[name]);
  const common = {
    messageId: text(properties.messageId) ?? get("message-id"),
    eventType: text(properties.type) ?? get("event-type"),
    deliveryCount: integer(get("x-delivery-count")),
  };

  const kronos = get("x-kronos-dl-reason") === undefined ? undefined : readDeadLetter(textHeaders, properties);
  if (kronos) return fromInfo(kronos, common.deliveryCount);

  if (Object.keys(headers).some((name) => name.startsWith("kafka_dlt-"))) {
    const s = SPRING_HEADERS;
    const exceptionClass = get(s.exceptionClass) ?? get(s.keyExceptionClass);
    const cause = get(s.causeClass);
    const deserialization = [exceptionClass, cause].some((name) => name?.includes("DeserializationException"));
    return compact<DeadLetterModel>({
      ...common,
      dialect: "spring",
      reason: deserialization || get(s.keyExceptionClass) !== undefined ? "decode-failed" : undefined,
      errorCode: exceptionClass,
      error: get(s.exceptionMessage) ?? get(s.keyExceptionMessage),
      errorCause: cause,
      stackTrace: get(s.stackTrace) ?? get(s.keyStackTrace),
      broker: "kafka",
      destination: get(s.topic),
      partition: binaryInteger(headers[s.partition], 4),
      offset: binaryInteger(headers[s.offset], 8)?.toString(),
      originalTimestampMs: binaryInteger(headers[s.timestamp], 8),
      consumer: get(s.consumerGroup),
    });
  }

  if (Object.keys(headers).some((name) => name.startsWith("__connect.errors."))) {
    const c = CONNECT_HEADERS;
    const stage = get(c.stage);
    const offset = get(c.offset);
    return compact<DeadLetterModel>({
      ...common,
      dialect: "kafka-connect",
      reason: stage !== undefined && CONNECT_DECODE_STAGES.has(stage) ? "decode-failed" : undefined,
      errorCode: get(c.exceptionClass),
      error: get(c.exceptionMessage),
      stackTrace: get(c.stackTrace),
      broker: "kafka",
      destination: get(c.topic),
      partition: integer(get(c.partition)),
      offset: offset !== undefined && /^\d+$/.test(offset) ? offset : undefined,
      connector: compact({ name: get(c.connector), taskId: get(c.taskId), stage }),
    });
  }

  const death = readDeadLetter(textHeaders, properties);
  return death ? fromInfo(death, common.deliveryCount) : undefined;
}

function isRawHeaders(
  headers: Readonly<Record<string, unknown>> | ReadonlyArray<RawHeader>,
): headers is ReadonlyArray<RawHeader> {
  return Array.isArray(headers);
}

function fromInfo(info: NonNullable<ReturnType<typeof readDeadLetter>>, deliveryCount: number | undefined) {
  return compact<DeadLetterModel>({
    dialect: info.writer,
    reason: info.reason,
    errorCode: info.errorCode,
    error: info.error,
    broker: info.broker,
    destination: info.destination,
    queue: info.queue,
    routingKey: info.routingKey,
    partition: info.partition,
    offset: info.offset,
    eventType: info.eventType,
    attempts: info.attempts,
    deliveryCount,
    firstFailureMs: info.firstFailureMs,
    lastFailureMs: info.lastFailureMs,
    producer: info.producer,
    consumer: info.consumer,
    messageId: info.messageId,
  });
}

type Loose<T> = { [K in keyof T]?: T[K] | undefined };

/** `value` without its undefined fields (the model's absent fields are absent, not `undefined`). */
function compact<T extends object>(value: Loose<T>): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** A repeated Kafka header's last value (an array of tables, such as `x-death`, is one value). */
function last(value: unknown): unknown {
  const repeated = Array.isArray(value) && value.every((item) => typeof item === "string" || Buffer.isBuffer(item));
  return repeated && value.length > 0 ? value[value.length - 1] : value;
}

function integer(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d+$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * A big-endian binary integer of `size` bytes (Spring's int and long headers), or a decimal text some writers use
 * instead. From text, the bytes are known only when the text holds no U+FFFD (a lossy decoding's mark).
 */
function binaryInteger(raw: unknown, size: 4 | 8): number | undefined {
  const value = last(raw);
  let bytes: Buffer | undefined;
  if (Buffer.isBuffer(value)) bytes = value;
  else if (typeof value === "string" && !value.includes("\uFFFD")) bytes = Buffer.from(value, "utf8");
  if (bytes === undefined) return undefined;
  if (bytes.length === size) {
    const n = size === 4 ? bytes.readInt32BE(0) : Number(bytes.readBigInt64BE(0));
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return integer(bytes.toString("utf8"));
}
