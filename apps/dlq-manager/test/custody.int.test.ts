import type { KronosApp } from "@kronos/app-kit";
import { TestResources } from "@kronos/testkit";
import {
  createAmqpPublisher,
  createAmqpSubscription,
  createKafkaPublisher,
  createKafkaSubscription,
  createTopic,
  deadLetterTopicName,
  declareQueue,
  type Subscription,
} from "@kronos/transport";
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Custody } from "../src/custody/custody.js";
import { createPool } from "../src/db/database.js";
import { TestDatabase } from "./database.js";
import { asOperator, eventually, openApp, registerTestEvent, stackEnv, type TestEvent } from "./harness.js";

// Dead letters of every dialect, written on the real brokers the way their writers write them, arrive in
// PostgreSQL in the one model; custody stores each before it acks or commits, and a second copy is recognised.
const resources = new TestResources();
const database = new TestDatabase();
const kafkaTopic = resources.topic("dlq-custody");
const kafkaDlq = deadLetterTopicName(kafkaTopic);
resources.topic(kafkaDlq);
const foreignDlq = resources.topic("dlq-foreign");
const gatewayQueue = resources.queue("dlq-gw");
const rejectQueue = resources.queue("dlq-reject");
const ttlQueue = resources.queue("dlq-ttl");
const unstoredQueue = resources.queue("dlq-unstored");
const dlqs = [gatewayQueue, rejectQueue, ttlQueue].map((queue) => `${queue}.dlq`);
for (const queue of [gatewayQueue, rejectQueue, ttlQueue]) {
  resources.queue(`${queue}.dlq`);
  resources.exchange(`${queue}.dlx`);
}

let app: KronosApp;
let event: TestEvent;
const subscriptions: Subscription[] = [];

interface Row {
  id: string;
  source: string;
  dialect: string;
  reason: string | null;
  error_code: string | null;
  error_text: string | null;
  destination: string | null;
  routing_key: string | null;
  event_type: string | null;
  schema_id: number | null;
  attempts: number | null;
  body: Buffer;
  headers: Record<string, string>;
  model: Record<string, unknown>;
  state: string;
  seen_count: number;
}

const rowsOf = async (source: string) =>
  (await app.db.query<Row>("SELECT * FROM dead_letters WHERE source = $1 ORDER BY source_offset, id", [source])).rows;
const stored = (source: string, count = 1) =>
  eventually(
    async () => {
      const rows = await rowsOf(source);
      return rows.length >= count ? rows : undefined;
    },
    45_000,
    `${count} dead letter(s) stored from ${source}`,
  );

beforeAll(async () => {
  event = await registerTestEvent();
  // The sources exist before custody starts (transport would create the Kafka one on the first dead letter; a
  // source that does not exist yet is retried every 5 s).
  app = await openApp(database, {});
  await Promise.all([
    createTopic(app.kafka, kafkaTopic, { partitions: 1 }),
    createTopic(app.kafka, kafkaDlq, { partitions: 1 }),
    createTopic(app.kafka, foreignDlq, { partitions: 1 }),
    declareQueue(app.amqp, gatewayQueue, { deadLetter: true }),
    declareQueue(app.amqp, rejectQueue, { deadLetter: true }),
    declareQueue(app.amqp, ttlQueue, { deadLetter: true, messageTtlMs: 50 }),
  ]);
  await app.close();
  app = await openApp(database, { kafka: [kafkaDlq, foreignDlq], rabbitmq: dlqs });
  expect(app.custody.states().every((source) => source.state === "consuming")).toBe(true);
}, 120_000);

afterAll(async () => {
  await Promise.all(subscriptions.map((subscription) => subscription.close()));
  await app?.close();
  await Promise.all([database.drop(), resources.cleanup(), event?.cleanup()]);
});

describe("custody on the real brokers and PostgreSQL", () => {
  it("stores a Kafka dead letter written by transport after the retries ran out (as the gateway's are)", async () => {
    const body = event.encode({ id: "k-1", amount: 5 });
    const subscription = createKafkaSubscription(
      app.kafka,
      {
        topic: kafkaTopic,
        groupId: `${kafkaTopic}-consumer`,
        from: "earliest",
        maxInFlight: 1,
        consumerName: "billing",
        maxAttempts: 1,
      },
      async (delivery) => {
        await delivery.retry({ delayMs: 1, reason: "billing is down" });
      },
    );
    subscriptions.push(subscription);
    await subscription.ready;
    const publisher = createKafkaPublisher(app.kafka);
    await publisher.publish({
      topic: kafkaTopic,
      key: "k-1",
      value: body,
      headers: { "message-id": "k-1", "event-type": event.name, "content-type": "application/vnd.kronos+avro" },
    });
    await publisher.close();

    const [row] = await stored(kafkaDlq);
    expect(row).toMatchObject({
      dialect: "kronos",
      reason: "max-attempts",
      destination: kafkaTopic,
      event_type: event.name,
      schema_id: event.schemaId,
      attempts: 1,
      state: "new",
      seen_count: 1,
    });
    expect(row?.error_code).toBeTruthy();
    expect(row?.body.equals(body)).toBe(true);
    expect(Buffer.from(row?.headers["message-id"] ?? "", "base64").toString()).toBe("k-1");
    const found = await app.inject({
      method: "GET",
      url: "/dead-letters?payloadPath=id&payloadValue=k-1",
      headers: asOperator,
    });
    expect(found.json().items.map((item: { id: string }) => item.id)).toEqual([row?.id]);
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toContain(`dlq_custody_stored_total{source="${kafkaDlq}",app="dlq-manager"} 1`);
  });

  it("stores a RabbitMQ dead letter written by transport after the retries ran out", async () => {
    const body = event.encode({ id: "r-1", amount: 7 });
    const subscription = createAmqpSubscription(
      app.amqp,
      { queue: gatewayQueue, prefetch: 1, consumerName: "shipping", maxAttempts: 1 },
      async (delivery) => {
        await delivery.retry({ delayMs: 1, reason: "shipping is down" });
      },
    );
    subscriptions.push(subscription);
    await subscription.ready;
    const publisher = createAmqpPublisher(app.amqp);
    await publisher.publish({
      exchange: "",
      routingKey: gatewayQueue,
      content: body,
      messageId: "r-1",
      type: event.name,
      contentType: "application/vnd.kronos+avro",
    });
    await publisher.close();

    const [row] = await stored(`${gatewayQueue}.dlq`);
    expect(row).toMatchObject({
      dialect: "kronos",
      reason: "max-attempts",
      destination: "",
      routing_key: gatewayQueue,
      event_type: event.name,
      schema_id: event.schemaId,
      attempts: 1,
    });
    expect(row?.body.equals(body)).toBe(true);
  });

  it("stores what RabbitMQ dead-lettered itself: a reject and a TTL expiry (x-death)", async () => {
    const connection = await connect(stackEnv.RABBITMQ_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish("", rejectQueue, Buffer.from("refused"), { messageId: "rej-1", persistent: true });
      channel.publish("", ttlQueue, Buffer.from("too late"), { messageId: "ttl-1", persistent: true });
      await channel.waitForConfirms();
      await channel.consume(rejectQueue, (message) => {
        if (message) channel.nack(message, false, false);
      });
      const [rejected] = await stored(`${rejectQueue}.dlq`);
      expect(rejected).toMatchObject({
        dialect: "x-death",
        reason: "rejected",
        error_code: "RABBITMQ_REJECTED",
        destination: "",
        routing_key: rejectQueue,
      });
      expect(rejected?.model).toMatchObject({ queue: rejectQueue, messageId: "rej-1", attempts: 1 });
      const [expired] = await stored(`${ttlQueue}.dlq`);
      expect(expired).toMatchObject({ dialect: "x-death", reason: "expired", error_code: "RABBITMQ_EXPIRED" });
      expect(expired?.model).toMatchObject({ queue: ttlQueue, messageId: "ttl-1" });
      expect(expired?.body.toString()).toBe("too late");
    } finally {
      await connection.close();
    }
  });

  it("stores Kafka Connect's and Spring's dead letters written by a plain producer, headers byte for byte", async () => {
    const publisher = createKafkaPublisher(app.kafka);
    const partition = Buffer.alloc(4);
    partition.writeInt32BE(2);
    const offset = Buffer.alloc(8);
    offset.writeBigInt64BE(77n);
    await publisher.publishMany([
      {
        topic: foreignDlq,
        value: Buffer.from('{"id":1}'),
        headers: {
          "__connect.errors.topic": "orders",
          "__connect.errors.partition": "0",
          "__connect.errors.offset": "12",
          "__connect.errors.connector.name": "orders-sink",
          "__connect.errors.task.id": "0",
          "__connect.errors.stage": "VALUE_CONVERTER",
          "__connect.errors.exception.class.name": "org.apache.kafka.connect.errors.DataException",
          "__connect.errors.exception.message": "Unknown magic byte!",
        },
      },
      {
        topic: foreignDlq,
        value: Buffer.from('{"id":2}'),
        headers: {
          "kafka_dlt-original-topic": "payments",
          "kafka_dlt-original-partition": partition,
          "kafka_dlt-original-offset": offset,
          "kafka_dlt-original-consumer-group": "payments-service",
          "kafka_dlt-exception-fqcn": "org.springframework.kafka.listener.ListenerExecutionFailedException",
          "kafka_dlt-exception-message": "amount < 0",
        },
      },
    ]);
    await publisher.close();

    const [connect, spring] = await stored(foreignDlq, 2);
    expect(connect).toMatchObject({
      dialect: "kafka-connect",
      reason: "decode-failed",
      error_code: "org.apache.kafka.connect.errors.DataException",
      error_text: "Unknown magic byte!",
      destination: "orders",
      schema_id: null,
    });
    expect(connect?.model).toMatchObject({ partition: 0, offset: "12", connector: { name: "orders-sink" } });
    expect(spring).toMatchObject({
      dialect: "spring",
      reason: null,
      error_code: "org.springframework.kafka.listener.ListenerExecutionFailedException",
      destination: "payments",
    });
    expect(spring?.model).toMatchObject({ partition: 2, offset: "77", consumer: "payments-service" });
    expect(Buffer.from(spring?.headers["kafka_dlt-original-offset"] ?? "", "base64").equals(offset)).toBe(true);
  });

  it("recognises a dead letter handed over again after a crash between store and commit: one row, seen twice", async () => {
    const group = `dlq-test-replayed-${Date.now()}`;
    // A second manager in a new group reads the same topic from the start, as after a crash before any commit.
    const second = await openApp(database, { kafka: [kafkaDlq], group });
    try {
      await eventually(
        async () => {
          const rows = await rowsOf(kafkaDlq);
          return rows.length === 1 && rows[0]?.seen_count === 2 ? rows : undefined;
        },
        45_000,
        "the same dead letter seen twice",
      );
    } finally {
      await second.close();
    }
  });

  it("does not ack a dead letter it could not store: it stays in the queue", async () => {
    await declareQueue(app.amqp, unstoredQueue, {});
    const unreachable = createPool("postgres://postgres@127.0.0.1:1/nowhere");
    const connection = await connect(stackEnv.RABBITMQ_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish("", unstoredQueue, Buffer.from("keep me"), { messageId: "keep-1", persistent: true });
      await channel.waitForConfirms();
      let failures = 0;
      const log = app.log;
      const counting = { ...log, error: () => void failures++ } as unknown as typeof log;
      const watched = new Custody({
        kafka: app.kafka,
        amqp: app.amqp,
        pool: unreachable,
        group: "dlq-test-unstored",
        logger: counting,
        storeRetryMs: 50,
      });
      await watched.start({ kafka: [], rabbitmq: [unstoredQueue] });
      await eventually(async () => (failures >= 3 ? true : undefined), 30_000, "three failed stores");
      await watched.close();
      const message = await eventually(
        async () => (await channel.get(unstoredQueue)) || undefined,
        10_000,
        "the message",
      );
      expect(message.content.toString()).toBe("keep me");
      channel.ack(message);
    } finally {
      await connection.close();
      await unreachable.end();
    }
  });
});
