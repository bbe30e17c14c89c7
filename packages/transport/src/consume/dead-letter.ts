/**
 * The dead-letter format: a dead letter is the ORIGINAL message (body byte for byte, original headers kept) plus
 * `x-kronos-dl-*` headers saying where it came from and why it gave up. The same headers on both brokers (Kafka
 * record headers, AMQP message headers), so one reader serves the DLQ manager and other teams' consumers, and a
 * message RabbitMQ dead-lettered by itself (TTL, max length, quorum delivery limit), which carries `x-death`
 * instead, reads in the same terms through {@link readDeadLetter}.
 *
 * Retried copies carry the retry bookkeeping headers (`x-kronos-attempt`, `x-kronos-first-failure`,
 * `x-kronos-last-error`), so the attempt count and the first failure survive the trip through a delay queue or a
 * retry topic. Every value is text; times are milliseconds since the epoch in decimal, like the `timestamp` header.
 */

/** Why a message was dead-lettered. Kafka and RabbitMQ reasons map onto these (see {@link readDeadLetter}). */
export type DeadLetterReason =
  /** Its attempts reached the destination's maximum (client retries, or a quorum queue's delivery limit). */
  | "max-attempts"
  /** Its body is not a Confluent frame this consumer could decode (bad frame, unknown schema id, bad Avro). */
  | "decode-failed"
  /** A consumer refused it for good (AMQP reject/nack without requeue, or an explicit dead-letter call). */
  | "rejected"
  /** Its TTL passed in a queue (RabbitMQ `expired`). */
  | "expired"
  /** A queue's max length pushed it out (RabbitMQ `maxlen`). */
  | "max-length";

/** Every reason, for validation and documentation. */
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = [
  "max-attempts",
  "decode-failed",
  "rejected",
  "expired",
  "max-length",
];

/** Header names of the format. Lower-case, `x-kronos-` prefixed so they never clash with an application's own. */
export const DEAD_LETTER_HEADERS = {
  reason: "x-kronos-dl-reason",
  errorCode: "x-kronos-dl-error-code",
  error: "x-kronos-dl-error",
  broker: "x-kronos-dl-broker",
  /** Kafka topic or RabbitMQ exchange the original was published to (a replay publishes there). */
  destination: "x-kronos-dl-destination",
  /** RabbitMQ queue it was consumed from. */
  queue: "x-kronos-dl-queue",
  routingKey: "x-kronos-dl-routing-key",
  partition: "x-kronos-dl-partition",
  offset: "x-kronos-dl-offset",
  eventType: "x-kronos-dl-event-type",
  attempts: "x-kronos-dl-attempts",
  firstFailure: "x-kronos-dl-first-failure",
  lastFailure: "x-kronos-dl-last-failure",
  /** The principal that published the original (its `producer` header). */
  producer: "x-kronos-dl-producer",
  /** Who gave up: the consumer group, or the subscription's consumer tag prefix. */
  consumer: "x-kronos-dl-consumer",
} as const;

/** Retry bookkeeping headers carried by retried copies. */
export const RETRY_HEADERS = {
  /** The attempt number of the copy's next delivery (absent: 1). */
  attempt: "x-kronos-attempt",
  firstFailure: "x-kronos-first-failure",
  lastError: "x-kronos-last-error",
  lastErrorCode: "x-kronos-last-error-code",
} as const;

/** Longest error text kept in a header (headers travel with every copy; a stack trace would bloat them). */
export const MAX_ERROR_LENGTH = 1024;

/** Everything a consumer knows when it gives up on a message. */
export interface DeadLetterContext {
  readonly reason: DeadLetterReason;
  readonly errorCode: string;
  readonly error: string;
  readonly broker: "kafka" | "rabbitmq";
  readonly destination: string;
  readonly queue?: string | undefined;
  readonly routingKey?: string | undefined;
  readonly partition?: number | undefined;
  readonly offset?: string | undefined;
  readonly eventType?: string | undefined;
  readonly attempts: number;
  readonly firstFailureMs: number;
  readonly lastFailureMs: number;
  readonly producer?: string | undefined;
  readonly consumer: string;
}

/** The `x-kronos-dl-*` headers for `context` (absent values are left out). */
export function deadLetterHeaders(context: DeadLetterContext): Record<string, string> {
  const h = DEAD_LETTER_HEADERS;
  const headers: Record<string, string> = {
    [h.reason]: context.reason,
    [h.errorCode]: context.errorCode,
    [h.error]: truncate(context.error),
    [h.broker]: context.broker,
    [h.destination]: context.destination,
    [h.attempts]: String(context.attempts),
    [h.firstFailure]: String(context.firstFailureMs),
    [h.lastFailure]: String(context.lastFailureMs),
    [h.consumer]: context.consumer,
  };
  const optional: Array<[string, string | number | undefined]> = [
    [h.queue, context.queue],
    [h.routingKey, context.routingKey],
    [h.partition, context.partition],
    [h.offset, context.offset],
    [h.eventType, context.eventType],
    [h.producer, context.producer],
  ];
  for (const [name, value] of optional) if (value !== undefined) headers[name] = String(value);
  return headers;
}

/** The retry headers of the next copy of a message whose delivery `attempt` failed at `nowMs` with `error`. */
export function retryHeaders(
  current: Readonly<Record<string, unknown>>,
  attempt: number,
  error: { code: string; message: string },
  nowMs: number,
): Record<string, string> {
  const first = text(current[RETRY_HEADERS.firstFailure]);
  return {
    [RETRY_HEADERS.attempt]: String(attempt + 1),
    [RETRY_HEADERS.firstFailure]: first ?? String(nowMs),
    [RETRY_HEADERS.lastError]: truncate(error.message),
    [RETRY_HEADERS.lastErrorCode]: error.code,
  };
}

/** The attempt number of a delivery from its headers: `x-kronos-attempt`, or 1. */
export function attemptOf(headers: Readonly<Record<string, unknown>>): number {
  const value = Number(text(headers[RETRY_HEADERS.attempt]));
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

/** A dead letter read back, whichever way it was dead-lettered. */
export interface DeadLetterInfo {
  /** `kronos`: written by a Kronos consumer (`x-kronos-dl-*`); `x-death`: RabbitMQ dead-lettered it itself. */
  readonly writer: "kronos" | "x-death";
  readonly reason: DeadLetterReason;
  readonly errorCode: string | undefined;
  readonly error: string | undefined;
  readonly broker: "kafka" | "rabbitmq";
  readonly destination: string | undefined;
  readonly queue: string | undefined;
  readonly routingKey: string | undefined;
  readonly partition: number | undefined;
  readonly offset: string | undefined;
  readonly eventType: string | undefined;
  readonly attempts: number;
  readonly firstFailureMs: number | undefined;
  readonly lastFailureMs: number | undefined;
  readonly producer: string | undefined;
  readonly consumer: string | undefined;
  readonly messageId: string | undefined;
}

// RabbitMQ's x-death reasons, in our terms.
const X_DEATH_REASONS: Readonly<Record<string, DeadLetterReason>> = {
  rejected: "rejected",
  expired: "expired",
  maxlen: "max-length",
  delivery_limit: "max-attempts",
};

/**
 * Reads a dead letter's headers (Kafka headers as text, or AMQP headers as amqplib gives them, `x-death` being an
 * array of tables) and, for AMQP, the message properties. Returns `undefined` when the message carries neither
 * `x-kronos-dl-reason` nor `x-death`: it is not a dead letter.
 *
 * For `x-death`, the newest entry whose queue is not a Kronos retry queue (`<queue>.retry.<ms>`, whose expiries
 * are the retry path working, not a failure) says where and why; the attempts are the retry copies' count plus
 * that entry's `count`.
 */
export function readDeadLetter(
  headers: Readonly<Record<string, unknown>>,
  properties: { messageId?: unknown; type?: unknown } = {},
): DeadLetterInfo | undefined {
  const h = DEAD_LETTER_HEADERS;
  const get = (name: string) => text(headers[name]);
  const messageId = text(properties.messageId) ?? get("message-id");
  const eventType = get(h.eventType) ?? text(properties.type) ?? get("event-type");
  const reason = get(h.reason);
  if (reason !== undefined) {
    return {
      writer: "kronos",
      reason: (DEAD_LETTER_REASONS as readonly string[]).includes(reason) ? (reason as DeadLetterReason) : "rejected",
      errorCode: get(h.errorCode),
      error: get(h.error),
      broker: get(h.broker) === "kafka" ? "kafka" : "rabbitmq",
      destination: get(h.destination),
      queue: get(h.queue),
      routingKey: get(h.routingKey),
      partition: integer(get(h.partition)),
      offset: get(h.offset),
      eventType,
      attempts: integer(get(h.attempts)) ?? attemptOf(headers),
      firstFailureMs: integer(get(h.firstFailure)),
      lastFailureMs: integer(get(h.lastFailure)),
      producer: get(h.producer) ?? get("producer"),
      consumer: get(h.consumer),
      messageId,
    };
  }
  const deaths = xDeathEntries(headers["x-death"]);
  if (deaths.length === 0) return undefined;
  const death = deaths.find((entry) => !/\.retry\.\d+$/.test(entry.queue ?? "")) ?? deaths[0];
  if (death === undefined) return undefined;
  const priorAttempts = attemptOf(headers) - 1;
  const firstFailure = integer(get(RETRY_HEADERS.firstFailure));
  return {
    writer: "x-death",
    reason: X_DEATH_REASONS[death.reason ?? ""] ?? "rejected",
    errorCode: death.reason === undefined ? undefined : `RABBITMQ_${death.reason.toUpperCase()}`,
    error: get(RETRY_HEADERS.lastError) ?? describeDeath(death),
    broker: "rabbitmq",
    destination: death.exchange,
    queue: death.queue,
    routingKey: death.routingKeys[0],
    partition: undefined,
    offset: undefined,
    eventType,
    attempts: priorAttempts + Math.max(1, death.count),
    firstFailureMs: firstFailure ?? death.timeMs,
    lastFailureMs: death.timeMs,
    producer: get("producer"),
    consumer: undefined,
    messageId,
  };
}

interface XDeath {
  readonly queue: string | undefined;
  readonly reason: string | undefined;
  readonly exchange: string | undefined;
  readonly routingKeys: string[];
  readonly count: number;
  readonly timeMs: number | undefined;
}

function xDeathEntries(value: unknown): XDeath[] {
  let list = value;
  if (typeof list === "string") {
    try {
      list = JSON.parse(list);
    } catch {
      return [];
    }
  }
  if (!Array.isArray(list)) return [];
  return list
    .filter((entry): entry is Record<string, unknown> => typeof entry === "object" && entry !== null)
    .map((entry) => ({
      queue: text(entry.queue),
      reason: text(entry.reason),
      exchange: text(entry.exchange),
      routingKeys: Array.isArray(entry["routing-keys"])
        ? entry["routing-keys"].map(text).filter((key): key is string => key !== undefined)
        : [],
      count: Number(entry.count) || 1,
      timeMs: amqpTimestampMs(entry.time),
    }));
}

function describeDeath(death: XDeath): string {
  const where = death.queue === undefined ? "" : ` in queue "${death.queue}"`;
  return `RabbitMQ dead-lettered the message${where} (${death.reason ?? "unknown reason"})`;
}

// amqplib decodes AMQP timestamps (seconds) as numbers; a JSON round trip may give { "!": "timestamp", value }.
function amqpTimestampMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "number") return value * 1000;
  if (typeof value === "object" && value !== null && "value" in value) return amqpTimestampMs(value.value);
  return undefined;
}

/** A header value as text: strings as they are, Buffers as UTF-8, numbers and booleans printed. */
export function text(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return undefined;
}

function integer(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

function truncate(message: string): string {
  return message.length <= MAX_ERROR_LENGTH ? message : `${message.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}
