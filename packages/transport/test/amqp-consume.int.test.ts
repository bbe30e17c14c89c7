import { uniqueName } from "@kronos/testkit";
import { describe, expect, it } from "vitest";
import { declareQueue } from "../src/index.js";
import {
  admin,
  BODY,
  depth,
  inbox,
  management,
  manager,
  managerName,
  queueWith,
  send,
  subscribe,
  topicExchange,
  useAmqpConsumeFixture,
} from "./amqp-consume-fixture.js";
import { rejection } from "./assertions.js";
import { brokerConnections, closeOnBroker, eventually } from "./rabbitmq-management.js";

useAmqpConsumeFixture();

describe("createAmqpSubscription (real RabbitMQ)", () => {
  it("hands over a delivery with its headers as text; ack removes it from the queue", async () => {
    const exchange = await topicExchange();
    const queue = await queueWith({ bindings: [{ exchange, routingKey: "orders.#" }] });
    await send(exchange, "orders.created", BODY, {
      messageId: "m-1",
      correlationId: "c-1",
      type: "kronos.orders.Created",
      contentType: "application/vnd.kronos.avro",
      replyTo: "replies",
      timestamp: 1_700_000_000,
      headers: { producer: "svc-orders", "event-type": "kronos.orders.Created", count: 3, raw: Buffer.from("r") },
    });
    const box = inbox();
    const subscription = subscribe(queue, box.handler);
    await subscription.ready;
    const delivery = await box.next();
    expect(delivery).toMatchObject({
      broker: "rabbitmq",
      source: queue,
      messageId: "m-1",
      eventType: "kronos.orders.Created",
      key: "orders.created",
      redelivered: false,
      attempt: 1,
      position: undefined,
      timestampMs: 1_700_000_000_000,
    });
    expect(delivery.body.equals(BODY)).toBe(true);
    expect(delivery.headers).toEqual({
      "message-id": "m-1",
      "correlation-id": "c-1",
      "event-type": "kronos.orders.Created",
      "content-type": "application/vnd.kronos.avro",
      "reply-to": "replies",
      timestamp: "1700000000000",
      producer: "svc-orders",
      count: "3",
      raw: "r",
    });
    await delivery.ack();
    // Closing requeues whatever is unacked: an empty queue afterwards proves the ack reached the broker.
    await subscription.close();
    expect(await depth(queue)).toBe(0);
    const info = await management.getQueue(queue);
    expect(info?.consumers).toBe(0);
  });

  it("rawHeaders keeps a byte-array header byte for byte; amqp holds the typed header table as it came", async () => {
    const exchange = await topicExchange();
    const queue = await queueWith({ bindings: [{ exchange, routingKey: "orders.#" }] });
    const bytes = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff]);
    await send(exchange, "orders.created", BODY, { messageId: "m-raw", headers: { bytes, count: 3, note: "héllo" } });
    const box = inbox();
    const subscription = subscribe(queue, box.handler);
    await subscription.ready;
    const delivery = await box.next();
    expect(delivery.rawHeaders).toEqual([
      ["bytes", bytes],
      ["count", Buffer.from("3")],
      ["note", Buffer.from("héllo")],
      ["message-id", Buffer.from("m-raw")],
    ]);
    expect(delivery.rawKey).toBeNull();
    expect(delivery.amqp?.properties.headers).toEqual({ bytes, count: 3, note: "héllo" });
    await delivery.ack();
    await subscription.close();
  });

  it("a CloudEvent from outside Kronos (AMQP binding, binary mode) is named by its cloudEvents_id and _type", async () => {
    const queue = await queueWith();
    await send("", queue, BODY, {
      headers: {
        cloudEvents_specversion: "1.0",
        cloudEvents_id: "ce-1",
        cloudEvents_type: "com.example.Thing",
        cloudEvents_source: "/elsewhere",
      },
    });
    const box = inbox();
    await subscribe(queue, box.handler).ready;
    const delivery = await box.next();
    expect(delivery).toMatchObject({ messageId: "ce-1", eventType: "com.example.Thing" });
    await delivery.ack();
  });

  it("rejects a second settle of the same delivery with ALREADY_SETTLED", async () => {
    const queue = await queueWith();
    await send("", queue, BODY);
    const box = inbox();
    await subscribe(queue, box.handler).ready;
    const delivery = await box.next();
    await delivery.ack();
    expect(await rejection(delivery.ack())).toMatchObject({ code: "ALREADY_SETTLED", retriable: false });
    expect((await rejection(delivery.release())).code).toBe("ALREADY_SETTLED");
    expect((await rejection(delivery.retry({ delayMs: 0 }))).code).toBe("ALREADY_SETTLED");
  });

  it("rejects ready with DESTINATION_NOT_FOUND for a queue that does not exist", async () => {
    const missing = uniqueName("consume-missing");
    const subscription = subscribe(missing, () => {});
    const error = await rejection(subscription.ready);
    expect(error.code).toBe("DESTINATION_NOT_FOUND");
    expect(error.message).toContain(missing);
    await subscription.close();
  });

  it("gives unsettled deliveries back on close: a new subscription gets them with redelivered", async () => {
    const queue = await queueWith();
    await send("", queue, BODY, { messageId: "m-close" });
    const first = inbox();
    const subscription = subscribe(queue, first.handler);
    const held = await first.next();
    expect(held.redelivered).toBe(false);
    await subscription.close();
    await subscription.close(); // idempotent
    // Its channel is gone (the broker requeued it): a retry would only make a duplicate, an ack is a no-op.
    expect(await rejection(held.retry({ delayMs: 0 }))).toMatchObject({ code: "RABBITMQ_UNAVAILABLE" });
    await expect(held.ack()).resolves.toBeUndefined();
    const second = inbox();
    subscribe(queue, second.handler);
    const again = await second.next();
    expect(again).toMatchObject({ messageId: "m-close", redelivered: true, attempt: 1 });
    await again.ack();
  });

  it("release requeues the delivery: it comes back with redelivered", async () => {
    const queue = await queueWith();
    await send("", queue, BODY, { messageId: "m-release" });
    const box = inbox();
    subscribe(queue, box.handler);
    const first = await box.next();
    await first.release();
    const again = await box.next();
    expect(again).toMatchObject({ messageId: "m-release", redelivered: true, attempt: 1 });
    await again.ack();
  });

  it("delivers a priority queue's messages highest priority first (prefetch 1)", async () => {
    const queue = await queueWith({ maxPriority: 10 });
    for (const priority of [1, 9, 5]) await send("", queue, Buffer.from(String(priority)), { priority });
    const box = inbox();
    subscribe(queue, box.handler, { prefetch: 1 });
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const delivery = await box.next();
      order.push(delivery.body.toString());
      await delivery.ack();
    }
    expect(order).toEqual(["9", "5", "1"]);
  });

  it("pause keeps deliveries back until resume", async () => {
    const queue = await queueWith();
    const box = inbox();
    const subscription = subscribe(queue, box.handler);
    await subscription.ready;
    subscription.pause();
    await send("", queue, Buffer.from("a"));
    await send("", queue, Buffer.from("b"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(box.arrived).toHaveLength(0);
    subscription.resume();
    const received = [await box.next(), await box.next()];
    expect(received.map((delivery) => delivery.body.toString())).toEqual(["a", "b"]);
    await Promise.all(received.map((delivery) => delivery.ack()));
  });

  it("consumes again after the connection is lost; deliveries of the old channel settle as no-ops", async () => {
    const queue = await queueWith();
    await send("", queue, BODY, { messageId: "m-reconnect" });
    const box = inbox();
    const subscription = subscribe(queue, box.handler);
    const held = await box.next();
    // The management API lists a new connection after a few seconds.
    let connections: string[] = [];
    await eventually(async () => {
      connections = await brokerConnections(managerName);
      expect(connections).toHaveLength(1);
    });
    await closeOnBroker(connections[0] as string);
    const again = await box.next(30_000);
    expect(again).toMatchObject({ messageId: "m-reconnect", redelivered: true });
    await expect(held.ack()).resolves.toBeUndefined();
    expect((await rejection(held.retry({ delayMs: 0 }))).code).toBe("ALREADY_SETTLED");
    await again.ack();
    await subscription.close();
    expect(await depth(queue)).toBe(0);
  });

  it("consumes again when the server cancelled the consumer (queue deleted, then declared again)", async () => {
    const queue = await queueWith();
    const box = inbox();
    const subscription = subscribe(queue, box.handler);
    await subscription.ready;
    await admin.deleteQueue(queue);
    await declareQueue(manager, queue, {});
    await eventually(async () => {
      expect((await admin.checkQueue(queue)).consumerCount).toBe(1);
    });
    await send("", queue, BODY, { messageId: "m-cancelled" });
    const delivery = await box.next();
    expect(delivery.messageId).toBe("m-cancelled");
    await delivery.ack();
  });
});
