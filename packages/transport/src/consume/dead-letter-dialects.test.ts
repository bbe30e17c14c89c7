import { describe, expect, it } from "vitest";
import { type DeadLetterContext, deadLetterHeaders } from "./dead-letter.js";
import { readDeadLetterModel } from "./dead-letter-dialects.js";

const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};

describe("readDeadLetterModel: every dialect in one model", () => {
  it("reads the Kronos format, every field it writes, with the message id", () => {
    const context: DeadLetterContext = {
      reason: "max-attempts",
      errorCode: "MAX_ATTEMPTS",
      error: "gave up after 5 attempts",
      broker: "kafka",
      destination: "orders",
      partition: 2,
      offset: "41",
      eventType: "kronos.shop.OrderPlaced",
      attempts: 5,
      firstFailureMs: 1000,
      lastFailureMs: 5000,
      producer: "shop",
      consumer: "billing",
    };
    // The model's fields are named as the format's context, so the model is the context read back.
    expect(readDeadLetterModel({ ...deadLetterHeaders(context), "message-id": "m-1" })).toEqual({
      dialect: "kronos",
      ...context,
      messageId: "m-1",
    });
  });

  it("reads RabbitMQ's x-death (as amqplib gives it, or as a Delivery's JSON text) and x-delivery-count", () => {
    const xDeath = [
      {
        count: 1,
        reason: "expired",
        queue: "tasks",
        time: { "!": "timestamp", value: 1_700_000_000 },
        exchange: "jobs",
        "routing-keys": ["job.created"],
      },
    ];
    const expected = {
      dialect: "x-death",
      reason: "expired",
      errorCode: "RABBITMQ_EXPIRED",
      error: 'RabbitMQ dead-lettered the message in queue "tasks" (expired)',
      broker: "rabbitmq",
      destination: "jobs",
      queue: "tasks",
      routingKey: "job.created",
      attempts: 1,
      firstFailureMs: 1_700_000_000_000,
      lastFailureMs: 1_700_000_000_000,
      messageId: "m-2",
      eventType: "kronos.jobs.JobCreated",
    };
    const properties = { messageId: "m-2", type: "kronos.jobs.JobCreated" };
    expect(readDeadLetterModel({ "x-death": xDeath }, properties)).toEqual(expected);
    expect(readDeadLetterModel({ "x-death": JSON.stringify(xDeath) }, properties)).toEqual(expected);
    expect(readDeadLetterModel({ "x-death": Buffer.from(JSON.stringify(xDeath)) }, properties)).toEqual(expected);

    const limit = [{ ...xDeath[0], reason: "delivery_limit", count: 1 }];
    expect(readDeadLetterModel({ "x-death": limit, "x-delivery-count": 3 }, properties)).toMatchObject({
      reason: "max-attempts",
      errorCode: "RABBITMQ_DELIVERY_LIMIT",
      deliveryCount: 3,
    });
  });

  it("reads Kafka Connect's __connect.errors.* headers; a converter stage is a decode failure", () => {
    const headers = {
      "__connect.errors.topic": "orders",
      "__connect.errors.partition": "1",
      "__connect.errors.offset": "9000000000",
      "__connect.errors.connector.name": "orders-sink",
      "__connect.errors.task.id": "0",
      "__connect.errors.stage": "VALUE_CONVERTER",
      "__connect.errors.class.name": "io.confluent.connect.avro.AvroConverter",
      "__connect.errors.exception.class.name": "org.apache.kafka.connect.errors.DataException",
      "__connect.errors.exception.message": "Unknown magic byte!",
      "__connect.errors.exception.stacktrace": "org.apache.kafka.connect.errors.DataException: ...",
    };
    expect(readDeadLetterModel(headers)).toEqual({
      dialect: "kafka-connect",
      reason: "decode-failed",
      errorCode: "org.apache.kafka.connect.errors.DataException",
      error: "Unknown magic byte!",
      stackTrace: "org.apache.kafka.connect.errors.DataException: ...",
      broker: "kafka",
      destination: "orders",
      partition: 1,
      offset: "9000000000",
      connector: { name: "orders-sink", taskId: "0", stage: "VALUE_CONVERTER" },
    });
    // Another stage does not say why in Kronos' terms: no reason rather than a guess.
    const sink = readDeadLetterModel({ ...headers, "__connect.errors.stage": "TASK_PUT" });
    expect(sink).not.toHaveProperty("reason");
  });

  it("reads Spring's kafka_dlt-* headers, numbers in big-endian binary, from bytes or exact text", () => {
    const headers = {
      "kafka_dlt-original-topic": Buffer.from("payments"),
      "kafka_dlt-original-partition": int32(3),
      "kafka_dlt-original-offset": int64(200),
      "kafka_dlt-original-timestamp": int64(1_700_000_000_123),
      "kafka_dlt-original-consumer-group": Buffer.from("payments-service"),
      "kafka_dlt-exception-fqcn": Buffer.from("org.springframework.kafka.listener.ListenerExecutionFailedException"),
      "kafka_dlt-exception-cause-fqcn": Buffer.from("java.lang.IllegalStateException"),
      "kafka_dlt-exception-message": Buffer.from("Listener failed; amount < 0"),
      "kafka_dlt-exception-stacktrace": Buffer.from("java.lang.IllegalStateException: amount < 0\n\tat ..."),
    };
    const expected = {
      dialect: "spring",
      errorCode: "org.springframework.kafka.listener.ListenerExecutionFailedException",
      error: "Listener failed; amount < 0",
      errorCause: "java.lang.IllegalStateException",
      stackTrace: "java.lang.IllegalStateException: amount < 0\n\tat ...",
      broker: "kafka",
      destination: "payments",
      partition: 3,
      offset: "200",
      originalTimestampMs: 1_700_000_000_123,
      consumer: "payments-service",
    };
    expect(readDeadLetterModel(headers)).toEqual(expected);

    // A Delivery's text headers: exact when the bytes were valid UTF-8, absent when the decoding lost them.
    const asText = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.toString("utf8")]));
    expect(readDeadLetterModel(asText)).toMatchObject({ partition: 3 });
    expect(readDeadLetterModel(asText)).not.toHaveProperty("offset"); // 200 = 0xC8 alone is not UTF-8
    expect(readDeadLetterModel({ ...asText, "kafka_dlt-original-offset": int64(100).toString("utf8") })).toMatchObject({
      offset: "100",
    });
  });

  it("reads a Delivery's rawHeaders: Spring's binary numbers that are not UTF-8 are there, the last repeated value counts", () => {
    const model = readDeadLetterModel([
      ["kafka_dlt-original-topic", Buffer.from("payments")],
      ["kafka_dlt-original-partition", int32(0x80)],
      ["kafka_dlt-original-offset", int64(1)],
      ["kafka_dlt-original-offset", int64(0xff_ff)],
      ["kafka_dlt-original-timestamp", int64(1_700_000_000_255)],
    ]);
    expect(model).toMatchObject({
      dialect: "spring",
      destination: "payments",
      partition: 128,
      offset: "65535",
      originalTimestampMs: 1_700_000_000_255,
    });
  });

  it("reads a Spring deserialization failure as decode-failed", () => {
    const model = readDeadLetterModel({
      "kafka_dlt-original-topic": "payments",
      "kafka_dlt-exception-fqcn": "org.springframework.kafka.support.serializer.DeserializationException",
    });
    expect(model).toMatchObject({ dialect: "spring", reason: "decode-failed" });
  });

  it("prefers the Kronos headers over x-death when RabbitMQ dead-lettered a Kronos dead letter again", () => {
    const headers = {
      ...deadLetterHeaders({
        reason: "rejected",
        errorCode: "REJECTED",
        error: "no",
        broker: "rabbitmq",
        destination: "jobs",
        attempts: 1,
        firstFailureMs: 1,
        lastFailureMs: 1,
        consumer: "c",
      }),
      "x-death": [{ count: 1, reason: "expired", queue: "jobs.dlq", exchange: "jobs.dlx", "routing-keys": [] }],
    };
    expect(readDeadLetterModel(headers)).toMatchObject({ dialect: "kronos", reason: "rejected" });
  });

  it("is undefined for a message no dialect recognises", () => {
    expect(readDeadLetterModel({ "message-id": "m", "content-type": "application/vnd.kronos+avro" })).toBeUndefined();
  });
});
