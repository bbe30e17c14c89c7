import type { Message, MessageProperties, XDeath } from "amqplib";
import { describe, expect, it } from "vitest";
import { planQueue } from "../admin/queue-plan.js";
import { DEAD_LETTER_HEADERS, RETRY_HEADERS, readDeadLetter } from "../consume/dead-letter.js";
import { CONSUME_ERROR_CODES } from "../consume/policy.js";
import {
  copyMessage,
  deadLetterCopy,
  deliveryHeaders,
  deliveryRawHeaders,
  headerText,
  ORIGINAL_ROUTE_HEADERS,
  originalRoute,
  retryCopy,
  retryQueueDeclaration,
  timestampMsOf,
} from "./consumer-message.js";

function properties(overrides: Partial<MessageProperties> = {}): MessageProperties {
  return {
    contentType: undefined,
    contentEncoding: undefined,
    headers: undefined,
    deliveryMode: undefined,
    priority: undefined,
    correlationId: undefined,
    replyTo: undefined,
    expiration: undefined,
    messageId: undefined,
    timestamp: undefined,
    type: undefined,
    userId: undefined,
    appId: undefined,
    clusterId: undefined,
    ...overrides,
  };
}

function message(overrides: Partial<MessageProperties> = {}, exchange = "kronos.orders", routingKey = "eu.created") {
  return {
    content: Buffer.from([0, 0, 0, 0, 7, 0xff]),
    fields: { deliveryTag: 1, redelivered: false, exchange, routingKey },
    properties: properties(overrides),
  } satisfies Message;
}

const xDeath: XDeath[] = [
  {
    count: 1,
    reason: "expired",
    queue: "orders.retry.300",
    time: { "!": "timestamp", value: 1_700_000_000 },
    exchange: "",
    "routing-keys": ["orders.retry.300"],
  },
];

describe("headerText", () => {
  it("prints scalars, Buffers as UTF-8, typed values as their value, and JSON-encodes tables and arrays", () => {
    expect(headerText("a")).toBe("a");
    expect(headerText(Buffer.from("é"))).toBe("é");
    expect(headerText(42)).toBe("42");
    expect(headerText(1.5)).toBe("1.5");
    expect(headerText(false)).toBe("false");
    expect(headerText({ "!": "timestamp", value: 1_700_000_000 })).toBe("1700000000");
    expect(headerText(null)).toBeUndefined();
    expect(headerText(undefined)).toBeUndefined();
    expect(headerText({ a: [1, Buffer.from("b")] })).toBe('{"a":[1,"b"]}');
    expect(JSON.parse(headerText(xDeath) ?? "")).toEqual([
      {
        count: 1,
        reason: "expired",
        queue: "orders.retry.300",
        time: { "!": "timestamp", value: 1_700_000_000 },
        exchange: "",
        "routing-keys": ["orders.retry.300"],
      },
    ]);
  });
});

describe("deliveryHeaders", () => {
  it("maps the properties to the Kafka names and converts every AMQP header to text", () => {
    const headers = deliveryHeaders(
      properties({
        messageId: "m-1",
        correlationId: "c-1",
        type: "kronos.orders.Created",
        contentType: "application/vnd.kronos.avro",
        replyTo: "replies",
        timestamp: 1_700_000_000,
        headers: { producer: "svc-orders", count: 3, raw: Buffer.from("x"), "x-death": xDeath },
      }),
    );
    expect(headers).toMatchObject({
      "message-id": "m-1",
      "correlation-id": "c-1",
      "event-type": "kronos.orders.Created",
      "content-type": "application/vnd.kronos.avro",
      "reply-to": "replies",
      timestamp: "1700000000000",
      producer: "svc-orders",
      count: "3",
      raw: "x",
    });
    expect(readDeadLetter(headers)?.reason).toBe("expired");
  });

  it("prefers the timestamp header (ms) over the property (s), and properties over same-named headers", () => {
    const headers = deliveryHeaders(
      properties({
        timestamp: 1_700_000_000,
        messageId: "prop",
        headers: { timestamp: 1_700_000_000_123, "message-id": "h" },
      }),
    );
    expect(headers.timestamp).toBe("1700000000123");
    expect(headers["message-id"]).toBe("prop");
    expect(timestampMsOf(headers)).toBe(1_700_000_000_123);
    expect(timestampMsOf(deliveryHeaders(properties()))).toBeUndefined();
    expect(timestampMsOf({ timestamp: "soon" })).toBeUndefined();
  });
});

describe("deliveryRawHeaders", () => {
  it("keeps byte arrays byte for byte and gives every other value as the UTF-8 of its text, in the text's order", () => {
    const bytes = Buffer.from([0x00, 0xff, 0x80]);
    const message = properties({
      messageId: "prop",
      type: "kronos.Order",
      headers: {
        bytes,
        count: 3,
        flag: true,
        table: { a: 1 },
        text: "héllo",
        "message-id": Buffer.from([0xfe]),
        gone: null,
      },
    });
    const raw = deliveryRawHeaders(message);
    expect(raw).toEqual([
      ["bytes", bytes],
      ["count", Buffer.from("3")],
      ["flag", Buffer.from("true")],
      ["table", Buffer.from('{"a":1}')],
      ["text", Buffer.from("héllo")],
      // A property takes a header's name: its text, not the header's bytes.
      ["message-id", Buffer.from("prop")],
      ["event-type", Buffer.from("kronos.Order")],
    ]);
    expect(raw.map(([name]) => name)).toEqual(Object.keys(deliveryHeaders(message)));
  });
});

describe("retry queues", () => {
  it("declares a retry queue exactly as planQueue does for a classic queue", () => {
    const planned = planQueue("orders", { deadLetter: { retryDelaysMs: [300] } }).retryQueues[0];
    expect(retryQueueDeclaration("orders", 300)).toEqual(planned);
  });
});

describe("retryCopy", () => {
  it("keeps body and properties, drops x-death, records the original route and the retry bookkeeping", () => {
    const original = message({
      messageId: "m-1",
      correlationId: "c-1",
      type: "kronos.orders.Created",
      contentType: "application/vnd.kronos.avro",
      timestamp: 1_700_000_000,
      priority: 7,
      expiration: "60000",
      headers: {
        producer: "svc-orders",
        "x-death": xDeath,
        "x-first-death-queue": "orders.retry.300",
        "x-last-death-reason": "expired",
      },
    });
    const copy = retryCopy(original, {
      queue: "orders",
      tierMs: 300,
      attempt: 1,
      error: { code: CONSUME_ERROR_CODES.retry, message: "busy" },
      nowMs: 5000,
    });
    expect(copy).toEqual({
      exchange: "",
      routingKey: "orders.retry.300",
      content: original.content,
      messageId: "m-1",
      correlationId: "c-1",
      type: "kronos.orders.Created",
      contentType: "application/vnd.kronos.avro",
      timestamp: 1_700_000_000,
      priority: 7,
      headers: {
        producer: "svc-orders",
        [ORIGINAL_ROUTE_HEADERS.exchange]: "kronos.orders",
        [ORIGINAL_ROUTE_HEADERS.routingKey]: "eu.created",
        [RETRY_HEADERS.attempt]: "2",
        [RETRY_HEADERS.firstFailure]: "5000",
        [RETRY_HEADERS.lastError]: "busy",
        [RETRY_HEADERS.lastErrorCode]: "CLIENT_RETRY",
      },
    });
  });

  it("keeps the first failure and the original route across retries", () => {
    const second = message(
      {
        headers: {
          [ORIGINAL_ROUTE_HEADERS.exchange]: "kronos.orders",
          [ORIGINAL_ROUTE_HEADERS.routingKey]: "eu.created",
          [RETRY_HEADERS.attempt]: "2",
          [RETRY_HEADERS.firstFailure]: "5000",
        },
      },
      "",
      "orders",
    );
    expect(originalRoute(second)).toEqual({ exchange: "kronos.orders", routingKey: "eu.created" });
    const copy = retryCopy(second, {
      queue: "orders",
      tierMs: 1000,
      attempt: 2,
      error: { code: "HANDLER_FAILED", message: "again" },
      nowMs: 9000,
    });
    expect(copy.headers).toMatchObject({
      [ORIGINAL_ROUTE_HEADERS.exchange]: "kronos.orders",
      [ORIGINAL_ROUTE_HEADERS.routingKey]: "eu.created",
      [RETRY_HEADERS.attempt]: "3",
      [RETRY_HEADERS.firstFailure]: "5000",
      [RETRY_HEADERS.lastError]: "again",
      [RETRY_HEADERS.lastErrorCode]: "HANDLER_FAILED",
    });
  });

  it("gives a message without a messageId a new one", () => {
    const copy = copyMessage(message(), "x", "k", {});
    expect(copy.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(copy).not.toHaveProperty("priority");
  });
});

describe("deadLetterCopy", () => {
  it("adds every dead-letter header to the original headers and reads back with readDeadLetter", () => {
    const original = message(
      {
        messageId: "m-1",
        type: "kronos.orders.Created",
        headers: {
          producer: "svc-orders",
          [ORIGINAL_ROUTE_HEADERS.exchange]: "kronos.orders",
          [ORIGINAL_ROUTE_HEADERS.routingKey]: "eu.created",
          [RETRY_HEADERS.attempt]: "3",
          [RETRY_HEADERS.firstFailure]: "5000",
          "x-death": xDeath,
        },
      },
      "",
      "orders",
    );
    const copy = deadLetterCopy(
      original,
      { exchange: "orders.dlx", routingKey: undefined },
      {
        queue: "orders",
        reason: "max-attempts",
        error: { code: "CLIENT_RETRY", message: "busy" },
        attempt: 3,
        consumer: "gateway:billing",
        nowMs: 9000,
      },
    );
    expect(copy).toMatchObject({ exchange: "orders.dlx", routingKey: "eu.created", messageId: "m-1" });
    expect(copy.content).toBe(original.content);
    expect(copy.headers).toMatchObject({ producer: "svc-orders", "x-death": xDeath });
    expect(readDeadLetter(copy.headers ?? {}, { messageId: copy.messageId })).toEqual({
      writer: "kronos",
      reason: "max-attempts",
      errorCode: "CLIENT_RETRY",
      error: "busy",
      broker: "rabbitmq",
      destination: "kronos.orders",
      queue: "orders",
      routingKey: "eu.created",
      partition: undefined,
      offset: undefined,
      eventType: "kronos.orders.Created",
      attempts: 3,
      firstFailureMs: 5000,
      lastFailureMs: 9000,
      producer: "svc-orders",
      consumer: "gateway:billing",
      messageId: "m-1",
    });
  });

  it("uses a fixed target's routing key, and now as the first failure of a message never retried", () => {
    const copy = deadLetterCopy(
      message({ headers: { "event-type": "kronos.orders.Created" } }),
      { exchange: "kronos.router.dlx", routingKey: "dead" },
      {
        queue: "orders",
        reason: "decode-failed",
        error: { code: "DECODE_FAILED", message: "bad frame" },
        attempt: 1,
        consumer: "c",
        nowMs: 7,
      },
    );
    expect(copy.routingKey).toBe("dead");
    expect(copy.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.firstFailure]: "7",
      [DEAD_LETTER_HEADERS.eventType]: "kronos.orders.Created",
      [DEAD_LETTER_HEADERS.destination]: "kronos.orders",
    });
    expect(copy.headers).not.toHaveProperty(DEAD_LETTER_HEADERS.producer);
  });
});
