import { describe, expect, it } from "vitest";
import { fromAmqp, fromKafka, RELAY_HEADERS, toAmqp, toKafka } from "./envelope.js";

const binary = Buffer.from([0xff, 0x00, 0xc3, 0x28]);

describe("the Kafka ↔ AMQP mapping", () => {
  const record = {
    key: Buffer.from([0x01, 0xfe]),
    value: Buffer.from([0, 0, 0, 0, 7, 1, 2]),
    timestamp: "1765000000123",
    headers: {
      "message-id": Buffer.from("m-1"),
      "correlation-id": Buffer.from("c-1"),
      "content-type": Buffer.from("avro/binary"),
      "event-type": Buffer.from("kronos.gaia.CriticalAlert"),
      priority: Buffer.from("7"),
      binary,
      repeated: [Buffer.from("one"), Buffer.from("two")],
      text: Buffer.from("héllo"),
    },
  };

  it("maps Kafka headers to AMQP properties and headers, the key and timestamp carried", () => {
    const message = toAmqp(fromKafka(record), "x", "rk", "fallback", undefined);
    expect(message).toMatchObject({
      exchange: "x",
      routingKey: "rk",
      content: record.value,
      messageId: "m-1",
      correlationId: "c-1",
      contentType: "avro/binary",
      type: "kronos.gaia.CriticalAlert",
      priority: 7,
      timestamp: 1765000000,
    });
    expect(message.headers).toEqual({
      binary,
      repeated: ["one", "two"],
      text: "héllo",
      [RELAY_HEADERS.kafkaKey]: record.key,
      [RELAY_HEADERS.kafkaTimestamp]: "1765000000123",
    });
  });

  it("gives a Kafka record back byte for byte after a trip through AMQP", () => {
    const amqp = toAmqp(fromKafka(record), "x", "rk", "fallback", undefined);
    const consumed = {
      content: amqp.content,
      fields: { routingKey: amqp.routingKey },
      properties: { ...amqp, headers: amqp.headers as Record<string, unknown> },
    };
    const back = toKafka(fromAmqp(consumed), "t", null);
    expect(back.key).toEqual(record.key);
    expect(back.value).toEqual(record.value);
    expect(back.timestamp).toBe(record.timestamp);
    const { [RELAY_HEADERS.routingKey]: routingKey, ...headers } = back.headers as Record<string, Buffer | Buffer[]>;
    expect(routingKey).toEqual(Buffer.from("rk"));
    expect(headers).toEqual(record.headers);
  });

  it("gives an AMQP message back after a trip through Kafka (text headers, byte arrays, arrays, properties)", () => {
    const original = {
      content: Buffer.from([0, 0, 0, 0, 9]),
      fields: { routingKey: "alert.CRITICAL.gaia" },
      properties: {
        messageId: "m-2",
        correlationId: "c-2",
        type: "kronos.auth.TokenRevoked",
        contentType: "avro/binary",
        priority: 3,
        timestamp: 1765000000,
        headers: { binary, repeated: ["a", "b"], text: "x" },
      },
    };
    const kafka = toKafka(fromAmqp(original), "t", "key-from-payload");
    expect(kafka.key).toEqual(Buffer.from("key-from-payload"));
    expect(kafka.timestamp).toBe("1765000000000");
    const consumed = fromKafka({
      key: kafka.key as Buffer,
      value: kafka.value,
      timestamp: kafka.timestamp as string,
      headers: kafka.headers as Record<string, Buffer>,
    });
    const back = toAmqp(consumed, "x", original.fields.routingKey, "fallback", undefined);
    expect(back).toMatchObject({
      ...original.properties,
      content: original.content,
      headers: expect.objectContaining(original.properties.headers),
    });
  });

  it("keeps a non-UTF-8 message id as a byte-array header (an AMQP property must be text)", () => {
    const message = toAmqp(fromKafka({ ...record, headers: { "message-id": binary } }), "x", "", "fallback", undefined);
    expect(message.messageId).toBe("fallback");
    expect(message.headers?.["message-id"]).toEqual(binary);
  });
});
