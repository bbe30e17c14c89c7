import { ContractError } from "@kronos/contracts";
import { TransportError } from "@kronos/transport";
import { describe, expect, it } from "vitest";
import { logEntry } from "../../test/publish-helpers.js";
import { Destinations, eventsByName } from "../contracts/index.js";
import { decodeFailure, requestFailure } from "./failures.js";
import { amqpMessageOf, type CheckedMessage, checkMessage, kafkaRequestOf } from "./message.js";

const destinations = new Destinations(eventsByName.values());

function checked(input: Parameters<typeof checkMessage>[1]): CheckedMessage {
  const result = checkMessage(destinations, input, { principalId: "svc", traceparent: undefined });
  if (!result.ok) throw new Error(JSON.stringify(result.violations));
  return result.message;
}

const asyncRequest = {
  meta: { eventId: crypto.randomUUID(), occurredAt: 0, producer: "gw", correlationId: null, traceparent: null },
  requestId: crypto.randomUUID(),
  fromService: "gateway",
  toService: "user",
  operation: "user.get",
  replyTo: "reply.gateway.x",
  deadline: 1_714_564_800_000,
  headers: {},
  contentType: "application/json",
  body: "e30=",
};

describe("what a request sends: amqpMessageOf / kafkaRequestOf", () => {
  it("RabbitMQ: the exchange, the template's routing key, ids as properties, the rest as headers", () => {
    const message = checked({
      topic: "kronos.router",
      event: "kronos.router.AsyncRequest",
      priority: 4,
      headers: { "correlation-id": "corr-1", tenant: "acme" },
      payload: asyncRequest,
    });
    const request = amqpMessageOf(message, Buffer.from([0, 1]));
    expect(request).toMatchObject({
      exchange: "kronos.router",
      routingKey: "request.user",
      messageId: message.messageId,
      correlationId: "corr-1",
      contentType: "application/vnd.kronos.avro",
      type: "kronos.router.AsyncRequest",
      priority: 4,
      timestamp: Math.floor(message.timestampMs / 1000),
    });
    expect(request.headers).toMatchObject({
      tenant: "acme",
      producer: "svc",
      "event-type": "kronos.router.AsyncRequest",
    });
    expect(Object.keys(request.headers ?? {})).not.toContain("message-id");
    expect(Object.keys(request.headers ?? {})).not.toContain("correlation-id");
  });

  it("Kafka: the topic, key and headers of a publish, and the correlation id (default: the message id)", () => {
    const message = checked({ topic: "kronos.log.entries", key: "k1", payload: logEntry() });
    const request = kafkaRequestOf(message, Buffer.from([0]));
    expect(request).toMatchObject({
      topic: "kronos.log.entries",
      key: "k1",
      correlationId: message.messageId,
      timestamp: String(message.timestampMs),
    });
    expect(request.headers).toMatchObject({ "message-id": message.messageId, "event-type": "kronos.log.LogEntry" });
  });
});

describe("requestFailure / decodeFailure", () => {
  const message = checked({ topic: "kronos.log.entries", payload: logEntry() });

  it("no reply in time is 504 REPLY_TIMEOUT; a correlation id in use is 409", () => {
    expect(requestFailure(new TransportError("REPLY_TIMEOUT", "no reply"), message, 500)).toMatchObject({
      statusCode: 504,
      code: "REPLY_TIMEOUT",
      message: expect.stringContaining('Kafka topic "kronos.log.entries"'),
      outcome: "no_reply",
    });
    expect(requestFailure(new TransportError("REPLY_TIMEOUT", "no reply"), message, 500).message).toContain(
      "within 500 ms",
    );
    expect(requestFailure(new TransportError("INVALID_OPTIONS", "in use"), message)).toMatchObject({
      statusCode: 409,
      code: "CORRELATION_ID_IN_USE",
    });
  });

  it("the rest as publishing answers it: 422 UNROUTABLE, 503 + Retry-After for an unavailable broker", () => {
    expect(requestFailure(new TransportError("UNROUTABLE", "returned"), message)).toMatchObject({
      statusCode: 422,
      code: "UNROUTABLE",
      outcome: "unroutable",
    });
    expect(requestFailure(new TransportError("KAFKA_UNAVAILABLE", "down"), message)).toMatchObject({
      statusCode: 503,
      code: "KAFKA_UNAVAILABLE",
      retryAfter: 5,
      outcome: "unavailable",
    });
    expect(() => requestFailure(new Error("bug"), message)).toThrow("bug");
  });

  it("an undecodable reply is 502 REPLY_DECODE_FAILED; the registry being down is 503", () => {
    expect(decodeFailure(new ContractError("INVALID_MAGIC_BYTE", "not framed"), message)).toMatchObject({
      statusCode: 502,
      code: "REPLY_DECODE_FAILED",
      outcome: "bad_reply",
    });
    expect(decodeFailure(new ContractError("REGISTRY_UNAVAILABLE", "down"), message)).toMatchObject({
      statusCode: 503,
      code: "REGISTRY_UNAVAILABLE",
    });
    expect(decodeFailure(new TransportError("TIMEOUT", "slow"), message)).toMatchObject({ statusCode: 503 });
  });
});
