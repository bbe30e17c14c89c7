import { describe, expect, it } from "vitest";
import {
  attemptOf,
  DEAD_LETTER_HEADERS,
  deadLetterHeaders,
  MAX_ERROR_LENGTH,
  RETRY_HEADERS,
  readDeadLetter,
  retryHeaders,
} from "./dead-letter.js";

describe("dead-letter headers", () => {
  it("round-trip through readDeadLetter, Kafka style (text headers)", () => {
    const headers = {
      "message-id": "m-1",
      producer: "svc-auth",
      ...deadLetterHeaders({
        reason: "max-attempts",
        errorCode: "CLIENT_RETRY",
        error: "downstream timed out",
        broker: "kafka",
        destination: "kronos.auth.events",
        partition: 2,
        offset: "41",
        eventType: "kronos.auth.LoginFailed",
        attempts: 5,
        firstFailureMs: 1000,
        lastFailureMs: 5000,
        producer: "svc-auth",
        consumer: "gateway:billing",
      }),
    };
    expect(readDeadLetter(headers)).toEqual({
      writer: "kronos",
      reason: "max-attempts",
      errorCode: "CLIENT_RETRY",
      error: "downstream timed out",
      broker: "kafka",
      destination: "kronos.auth.events",
      queue: undefined,
      routingKey: undefined,
      partition: 2,
      offset: "41",
      eventType: "kronos.auth.LoginFailed",
      attempts: 5,
      firstFailureMs: 1000,
      lastFailureMs: 5000,
      producer: "svc-auth",
      consumer: "gateway:billing",
      messageId: "m-1",
    });
  });

  it("reads Buffer header values (what kafkajs hands a consumer)", () => {
    const headers = Object.fromEntries(
      Object.entries(
        deadLetterHeaders({
          reason: "decode-failed",
          errorCode: "INVALID_MAGIC_BYTE",
          error: "bad frame",
          broker: "kafka",
          destination: "t",
          attempts: 1,
          firstFailureMs: 1,
          lastFailureMs: 1,
          consumer: "g",
        }),
      ).map(([k, v]) => [k, Buffer.from(v)]),
    );
    expect(readDeadLetter(headers)).toMatchObject({ reason: "decode-failed", errorCode: "INVALID_MAGIC_BYTE" });
  });

  it("truncates long errors so headers stay small", () => {
    const headers = deadLetterHeaders({
      reason: "rejected",
      errorCode: "X",
      error: "e".repeat(10_000),
      broker: "rabbitmq",
      destination: "x",
      attempts: 1,
      firstFailureMs: 1,
      lastFailureMs: 1,
      consumer: "c",
    });
    expect(headers[DEAD_LETTER_HEADERS.error]).toHaveLength(MAX_ERROR_LENGTH);
  });

  it("reads RabbitMQ's own x-death in the same terms, skipping the retry queues' expiries", () => {
    const info = readDeadLetter(
      {
        [RETRY_HEADERS.attempt]: "3",
        [RETRY_HEADERS.firstFailure]: "1700000000000",
        [RETRY_HEADERS.lastError]: "handler failed",
        "x-death": [
          {
            count: 1,
            reason: "expired",
            queue: "orders",
            time: 1_700_000_100,
            exchange: "kronos.orders",
            "routing-keys": ["order.created"],
          },
          { count: 2, reason: "expired", queue: "orders.retry.1000", time: 1_700_000_050, exchange: "" },
        ],
      },
      { messageId: "m-2", type: "kronos.orders.Created" },
    );
    expect(info).toMatchObject({
      writer: "x-death",
      reason: "expired",
      errorCode: "RABBITMQ_EXPIRED",
      error: "handler failed",
      broker: "rabbitmq",
      destination: "kronos.orders",
      queue: "orders",
      routingKey: "order.created",
      attempts: 3,
      firstFailureMs: 1_700_000_000_000,
      lastFailureMs: 1_700_000_100_000,
      eventType: "kronos.orders.Created",
      messageId: "m-2",
    });
  });

  it("maps maxlen and delivery_limit, and is undefined for a message that is no dead letter", () => {
    const death = (reason: string) => readDeadLetter({ "x-death": [{ count: 4, reason, queue: "q" }] })?.reason;
    expect(death("maxlen")).toBe("max-length");
    expect(death("delivery_limit")).toBe("max-attempts");
    expect(death("rejected")).toBe("rejected");
    expect(readDeadLetter({ "message-id": "x" })).toBeUndefined();
  });
});

describe("retry headers", () => {
  it("count attempts up and keep the first failure", () => {
    const first = retryHeaders({}, 1, { code: "CLIENT_RETRY", message: "later" }, 111);
    expect(attemptOf(first)).toBe(2);
    const second = retryHeaders(first, attemptOf(first), { code: "CLIENT_RETRY", message: "again" }, 222);
    expect(second).toEqual({
      [RETRY_HEADERS.attempt]: "3",
      [RETRY_HEADERS.firstFailure]: "111",
      [RETRY_HEADERS.lastError]: "again",
      [RETRY_HEADERS.lastErrorCode]: "CLIENT_RETRY",
    });
    expect(attemptOf({ [RETRY_HEADERS.attempt]: "garbage" })).toBe(1);
  });
});
