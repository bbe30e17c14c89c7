import { describe, expect, it } from "vitest";
import { DEAD_LETTER_HEADERS, RETRY_HEADERS, readDeadLetter } from "../consume/dead-letter.js";
import {
  deadLetterCopyHeaders,
  deadLetterTopicName,
  KAFKA_RETRY_HEADERS,
  originalRecord,
  retryCopyHeaders,
  retryDueAt,
  retryTopicName,
} from "./retry-topics.js";

describe("retry topic layout", () => {
  it("names retry and dead-letter topics after the source topic", () => {
    expect(retryTopicName("kronos.log.events", 5000)).toBe("kronos.log.events.retry.5000");
    expect(deadLetterTopicName("kronos.log.events")).toBe("kronos.log.events.dlq");
  });
});

describe("retried copies", () => {
  const original = { topic: "orders", partition: 2, offset: "41", timestampMs: 1_700_000_000_000 };

  it("carry the delivery's headers, the next attempt, the group, the due time and the original position", () => {
    const headers = retryCopyHeaders({
      headers: { "message-id": "m-1", "event-type": "kronos.Order", producer: "svc" },
      attempt: 1,
      error: { code: "CLIENT_RETRY", message: "busy" },
      nowMs: 5000,
      dueAtMs: 6000,
      retryFor: "billing",
      original,
    });
    expect(headers).toEqual({
      "message-id": "m-1",
      "event-type": "kronos.Order",
      producer: "svc",
      [RETRY_HEADERS.attempt]: "2",
      [RETRY_HEADERS.firstFailure]: "5000",
      [RETRY_HEADERS.lastError]: "busy",
      [RETRY_HEADERS.lastErrorCode]: "CLIENT_RETRY",
      [KAFKA_RETRY_HEADERS.retryFor]: "billing",
      [KAFKA_RETRY_HEADERS.retryAt]: "6000",
      [KAFKA_RETRY_HEADERS.originalTopic]: "orders",
      [KAFKA_RETRY_HEADERS.originalPartition]: "2",
      [KAFKA_RETRY_HEADERS.originalOffset]: "41",
      [KAFKA_RETRY_HEADERS.originalTimestamp]: "1700000000000",
    });
    expect(retryDueAt(headers)).toBe(6000);
  });

  it("keep the first failure and the original position across several retries", () => {
    const first = retryCopyHeaders({
      headers: {},
      attempt: 1,
      error: { code: "CLIENT_RETRY", message: "one" },
      nowMs: 100,
      dueAtMs: 1100,
      retryFor: "g",
      original,
    });
    const readBack = originalRecord(first, { topic: "orders.retry.1000", partition: 0, offset: "7", timestampMs: 900 });
    expect(readBack).toEqual(original);
    const second = retryCopyHeaders({
      headers: first,
      attempt: 2,
      error: { code: "CLIENT_RETRY", message: "two" },
      nowMs: 2000,
      dueAtMs: 7000,
      retryFor: "g",
      original: readBack,
    });
    expect(second[RETRY_HEADERS.attempt]).toBe("3");
    expect(second[RETRY_HEADERS.firstFailure]).toBe("100");
    expect(second[RETRY_HEADERS.lastError]).toBe("two");
    expect(second[KAFKA_RETRY_HEADERS.originalOffset]).toBe("41");
  });

  it("read their original from the record itself when they carry no (valid) original headers", () => {
    const read = { topic: "orders", partition: 1, offset: "9", timestampMs: 5 };
    expect(originalRecord({}, read)).toEqual(read);
    expect(
      originalRecord(
        { [KAFKA_RETRY_HEADERS.originalPartition]: "x", [KAFKA_RETRY_HEADERS.originalOffset]: "-3" },
        read,
      ),
    ).toEqual(read);
    expect(retryDueAt({})).toBeUndefined();
    expect(retryDueAt({ [KAFKA_RETRY_HEADERS.retryAt]: "soon" })).toBeUndefined();
  });
});

describe("dead-letter copies", () => {
  it("carry every x-kronos-dl-* header readDeadLetter needs, naming the original record", () => {
    const headers = deadLetterCopyHeaders({
      headers: {
        "message-id": "m-9",
        "event-type": "kronos.Order",
        producer: "svc-orders",
        [RETRY_HEADERS.attempt]: "3",
        [RETRY_HEADERS.firstFailure]: "1000",
      },
      reason: "max-attempts",
      error: { code: "CLIENT_RETRY", message: "still failing" },
      attempt: 3,
      original: { topic: "orders", partition: 2, offset: "41", timestampMs: undefined },
      consumer: "billing",
      nowMs: 9000,
    });
    expect(headers[DEAD_LETTER_HEADERS.broker]).toBe("kafka");
    expect(readDeadLetter(headers)).toEqual({
      writer: "kronos",
      reason: "max-attempts",
      errorCode: "CLIENT_RETRY",
      error: "still failing",
      broker: "kafka",
      destination: "orders",
      queue: undefined,
      routingKey: undefined,
      partition: 2,
      offset: "41",
      eventType: "kronos.Order",
      attempts: 3,
      firstFailureMs: 1000,
      lastFailureMs: 9000,
      producer: "svc-orders",
      consumer: "billing",
      messageId: "m-9",
    });
  });

  it("use the time of dead-lettering as the first failure of a message never retried", () => {
    const headers = deadLetterCopyHeaders({
      headers: {},
      reason: "decode-failed",
      error: { code: "DECODE_FAILED", message: "bad frame" },
      attempt: 1,
      original: { topic: "orders", partition: 0, offset: "0", timestampMs: undefined },
      consumer: "tail",
      nowMs: 42,
    });
    expect(readDeadLetter(headers)).toMatchObject({ firstFailureMs: 42, lastFailureMs: 42, attempts: 1 });
  });
});
