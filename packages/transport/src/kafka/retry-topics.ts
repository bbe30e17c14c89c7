/**
 * The Kafka retry and dead-letter layout of a subscription, as pure functions: topic names and the headers of the
 * copies written to a retry topic (`<topic>.retry.<tier ms>`) or to the dead-letter topic (`<topic>.dlq`). Which
 * tier a retry takes, and whether it is a retry at all, is the consume policy's (`consume/policy.ts`).
 *
 * A retried copy keeps the original key, value and headers and adds the retry bookkeeping of dead-letter.ts
 * (`x-kronos-attempt`, first failure, last error) plus the headers below: which group retried it (the retry
 * topics are shared by every group of the source topic, so a group skips the others' copies), when it is due, and
 * where the original record was, so a dead letter written after several retries still names the original
 * partition and offset.
 */
import { type DeadLetterReason, deadLetterHeaders, RETRY_HEADERS, retryHeaders } from "../consume/dead-letter.js";
import type { DeadLetterError } from "../consume/delivery.js";

/** Header names the Kafka retry path adds to a retried copy. */
export const KAFKA_RETRY_HEADERS = {
  /** The consumer group (or ephemeral subscription id) that retried it: only that one consumes the copy. */
  retryFor: "x-kronos-retry-for",
  /** When the copy is due, ms since the epoch. */
  retryAt: "x-kronos-retry-at",
  /** The topic the original record was read from (a retried delivery's `source`). */
  originalTopic: "x-kronos-original-topic",
  originalPartition: "x-kronos-original-partition",
  originalOffset: "x-kronos-original-offset",
  /** The original record's timestamp, ms since the epoch (a copy gets a fresh one, so retention counts from then). */
  originalTimestamp: "x-kronos-original-timestamp",
} as const;

/** The retry topic of `topic` for a tier: `<topic>.retry.<tierMs>`. */
export function retryTopicName(topic: string, tierMs: number): string {
  return `${topic}.retry.${tierMs}`;
}

/** The dead-letter topic of `topic`: `<topic>.dlq`. */
export function deadLetterTopicName(topic: string): string {
  return `${topic}.dlq`;
}

/** Where a record originally was: a retried copy's original, or the record itself. */
export interface OriginalRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestampMs: number | undefined;
}

/**
 * The original position of a record read from `topic`/`partition`/`offset`: the `x-kronos-original-*` headers
 * when it is a retried copy that carries them, else the record's own.
 */
export function originalRecord(
  headers: Readonly<Record<string, string>>,
  read: { topic: string; partition: number; offset: string; timestampMs: number | undefined },
): OriginalRecord {
  const h = KAFKA_RETRY_HEADERS;
  const partition = Number(headers[h.originalPartition]);
  const offset = headers[h.originalOffset];
  const timestamp = Number(headers[h.originalTimestamp]);
  const hasPosition = Number.isSafeInteger(partition) && partition >= 0 && offset !== undefined && /^\d+$/.test(offset);
  return {
    topic: headers[h.originalTopic] ?? read.topic,
    partition: hasPosition ? partition : read.partition,
    offset: hasPosition ? offset : read.offset,
    timestampMs:
      Number.isFinite(timestamp) && headers[h.originalTimestamp] !== undefined ? timestamp : read.timestampMs,
  };
}

/** When a retried copy is due (ms since the epoch), or undefined when it carries no valid `x-kronos-retry-at`. */
export function retryDueAt(headers: Readonly<Record<string, string>>): number | undefined {
  const text = headers[KAFKA_RETRY_HEADERS.retryAt];
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) ? value : undefined;
}

/** What {@link retryCopyHeaders} needs to know. */
export interface RetryCopy {
  /** The headers of the delivery being retried (the original's, or a previous copy's). */
  readonly headers: Readonly<Record<string, string>>;
  /** Its attempt number (the copy carries attempt + 1). */
  readonly attempt: number;
  readonly error: { readonly code: string; readonly message: string };
  readonly nowMs: number;
  readonly dueAtMs: number;
  /** The group (or ephemeral subscription id) that will consume the copy. */
  readonly retryFor: string;
  readonly original: OriginalRecord;
}

/** The headers of a retried copy: the delivery's own, the retry bookkeeping, and the Kafka retry headers. */
export function retryCopyHeaders(copy: RetryCopy): Record<string, string> {
  const h = KAFKA_RETRY_HEADERS;
  const headers: Record<string, string> = {
    ...copy.headers,
    ...retryHeaders(copy.headers, copy.attempt, copy.error, copy.nowMs),
    [h.retryFor]: copy.retryFor,
    [h.retryAt]: String(copy.dueAtMs),
    [h.originalTopic]: copy.original.topic,
    [h.originalPartition]: String(copy.original.partition),
    [h.originalOffset]: copy.original.offset,
  };
  if (copy.original.timestampMs !== undefined) headers[h.originalTimestamp] = String(copy.original.timestampMs);
  else delete headers[h.originalTimestamp];
  return headers;
}

/** What {@link deadLetterCopyHeaders} needs to know. */
export interface DeadLetterCopy {
  readonly headers: Readonly<Record<string, string>>;
  readonly reason: DeadLetterReason;
  readonly error: DeadLetterError;
  readonly attempt: number;
  readonly original: OriginalRecord;
  /** Who gives up: the consumer group, or the consumer name of an ephemeral subscription. */
  readonly consumer: string;
  readonly nowMs: number;
}

/**
 * The headers of a dead letter: the delivery's own headers (retry bookkeeping included) plus the
 * `x-kronos-dl-*` headers of dead-letter.ts, naming the original topic, partition and offset.
 */
export function deadLetterCopyHeaders(copy: DeadLetterCopy): Record<string, string> {
  const firstFailure = Number(copy.headers[RETRY_HEADERS.firstFailure]);
  return {
    ...copy.headers,
    ...deadLetterHeaders({
      reason: copy.reason,
      errorCode: copy.error.code,
      error: copy.error.message,
      broker: "kafka",
      destination: copy.original.topic,
      partition: copy.original.partition,
      offset: copy.original.offset,
      eventType: copy.headers["event-type"],
      attempts: copy.attempt,
      firstFailureMs: Number.isFinite(firstFailure) && firstFailure > 0 ? firstFailure : copy.nowMs,
      lastFailureMs: copy.nowMs,
      producer: copy.headers.producer,
      consumer: copy.consumer,
    }),
  };
}
