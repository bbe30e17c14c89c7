// The local stack really works for the three client libraries the project uses.
import { randomBytes } from "node:crypto";
import { COMPATIBILITY, SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { connect } from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { endpoints, loadSettings } from "../src/index.js";

const stack = endpoints(loadSettings());
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

describe("Kafka", () => {
  const kafka = new Kafka({ clientId: "local-stack-test", brokers: [stack.kafkaBrokers], logLevel: logLevel.NOTHING });
  const topic = unique("stack-test");
  const admin = kafka.admin();

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("creates a topic, produces with acks=all and reads the message back", async () => {
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })).toBe(true);

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const [ack] = await producer.send({ topic, acks: -1, messages: [{ key: "k1", value: "hello kafka" }] });
    await producer.disconnect();
    expect(ack?.errorCode).toBe(0);

    const consumer = kafka.consumer({ groupId: unique("stack-test-group") });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<{ key: string; value: string }>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => resolve({ key: String(message.key), value: String(message.value) }),
      });
    });
    await consumer.disconnect();
    expect(received).toEqual({ key: "k1", value: "hello kafka" });
  });

  it("does not create topics automatically", async () => {
    const producer = kafka.producer({ retry: { retries: 1 } });
    await producer.connect();
    const missing = unique("never-created");
    await expect(producer.send({ topic: missing, messages: [{ value: "x" }] })).rejects.toThrow();
    await producer.disconnect();
    expect(await admin.listTopics()).not.toContain(missing);
  });
});

describe("RabbitMQ", () => {
  it("publishes persistent messages with confirms to a durable queue and consumes them with manual ack", async () => {
    const connection = await connect(stack.rabbitmqUrl);
    const queue = unique("stack-test");
    try {
      const channel = await connection.createConfirmChannel();
      await channel.assertQueue(queue, { durable: true });
      await new Promise<void>((resolve, reject) =>
        channel.sendToQueue(queue, Buffer.from("hello rabbit"), { persistent: true }, (error) =>
          error ? reject(error) : resolve(),
        ),
      );
      const message = await new Promise<{ body: string; persistent: boolean }>((resolve) => {
        void channel.consume(
          queue,
          (delivered) => {
            if (!delivered) return;
            channel.ack(delivered);
            resolve({ body: delivered.content.toString(), persistent: delivered.properties.deliveryMode === 2 });
          },
          { noAck: false },
        );
      });
      expect(message).toEqual({ body: "hello rabbit", persistent: true });
      // Acked: nothing left in the queue.
      const { messageCount } = await channel.checkQueue(queue);
      expect(messageCount).toBe(0);
      await channel.deleteQueue(queue);
      await channel.close();
    } finally {
      await connection.close();
    }
  });
});

describe("Schema registry (Apicurio, Confluent-compatible API)", () => {
  const registry = new SchemaRegistry({ host: stack.registryUrl });
  const subject = unique("kronos.test.Thing");
  const schema = (fields: object[]) =>
    JSON.stringify({ type: "record", name: "Thing", namespace: "kronos.test", fields });

  afterAll(async () => {
    await fetch(`${stack.registryUrl}/subjects/${subject}`, { method: "DELETE" });
    await fetch(`${stack.registryUrl}/subjects/${subject}?permanent=true`, { method: "DELETE" });
  });

  it("registers an Avro schema and reads it back by id; encodes and decodes with it", async () => {
    const v1 = schema([{ name: "id", type: "string" }]);
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: v1 }, { subject });
    expect(id).toBeGreaterThan(0);
    const fetched = JSON.parse(await registry.getSchema(id).then((s) => JSON.stringify(s)));
    expect(fetched).toBeTruthy();
    const encoded = await registry.encode(id, { id: "a-1" });
    expect(encoded[0]).toBe(0);
    expect(encoded.readInt32BE(1)).toBe(id);
    expect(await registry.decode(encoded)).toEqual({ id: "a-1" });
  });

  it("refuses an incompatible change under the global BACKWARD rule", async () => {
    const v1 = schema([{ name: "id", type: "string" }]);
    await registry.register({ type: SchemaType.AVRO, schema: v1 }, { subject });
    const withoutDefault = schema([
      { name: "id", type: "string" },
      { name: "count", type: "int" },
    ]);
    await expect(registry.register({ type: SchemaType.AVRO, schema: withoutDefault }, { subject })).rejects.toThrow(
      /incompatible|409/i,
    );
    // A compatible change (a new field with a default) is accepted.
    const withDefault = schema([
      { name: "id", type: "string" },
      { name: "count", type: "int", default: 0 },
    ]);
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: withDefault },
      { subject, compatibility: COMPATIBILITY.BACKWARD },
    );
    expect(id).toBeGreaterThan(0);
  });
});
