import { testEndpoints, uniqueName } from "@kronos/testkit";
import { type Channel, type ChannelModel, type ConfirmChannel, connect, type GetMessage, type Options } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  AmqpConnectionManager,
  type AmqpSubscriptionOptions,
  createAmqpSubscription,
  DEAD_LETTER_HEADERS,
  type Delivery,
  deadLetterExchangeName,
  deadLetterQueueName,
  declareQueue,
  ORIGINAL_ROUTE_HEADERS,
  type QueueOptions,
  RabbitManagementClient,
  RETRY_HEADERS,
  readDeadLetter,
  retryQueueName,
  type Subscription,
} from "../src/index.js";
import { rejection } from "./assertions.js";
import { brokerConnections, closeOnBroker, eventually } from "./rabbitmq-management.js";

const endpoints = testEndpoints();
const managerName = `transport-consume-test-${process.pid}`;
const manager = new AmqpConnectionManager({
  url: endpoints.rabbitmqUrl,
  name: managerName,
  reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
});
const management = new RabbitManagementClient({ url: endpoints.rabbitmqManagementUrl });
// Fast tiers keep the retry tests short; 1000 > 500 proves a delay is rounded up.
const TIERS = [300, 1000];
const queues: string[] = [];
const exchanges: string[] = [];
const subscriptions: Subscription[] = [];
let plain: ChannelModel;
let admin: Channel;
let confirm: ConfirmChannel;

beforeAll(async () => {
  manager.start();
  expect(await manager.waitForConnection(15_000)).toBe(true);
  plain = await connect(endpoints.rabbitmqUrl);
  plain.on("error", () => {});
  admin = await plain.createChannel();
  admin.on("error", () => {});
  confirm = await plain.createConfirmChannel();
  confirm.on("error", () => {});
});

afterEach(async () => {
  await Promise.all(subscriptions.splice(0).map((subscription) => subscription.close()));
});

afterAll(async () => {
  const cleaner = await plain.createChannel();
  cleaner.on("error", () => {});
  for (const queue of queues) await cleaner.deleteQueue(queue).catch(() => {});
  for (const exchange of exchanges) await cleaner.deleteExchange(exchange).catch(() => {});
  await plain.close().catch(() => {});
  await manager.close();
});

/** Declares a unique queue with `declareQueue` and registers it and everything derived from it for deletion. */
async function queueWith(options: QueueOptions = {}): Promise<string> {
  const queue = uniqueName("consume");
  queues.push(queue, deadLetterQueueName(queue), ...TIERS.map((tier) => retryQueueName(queue, tier)));
  exchanges.push(deadLetterExchangeName(queue));
  await declareQueue(manager, queue, options);
  return queue;
}

/** A queue dead-lettering to an exchange and queue of its own names (not the default `<queue>.dlx`/`.dlq`). */
async function queueWithOwnDeadLetters(): Promise<{ queue: string; dlq: string }> {
  const dlx = uniqueName("consume-custom-dlx");
  exchanges.push(dlx);
  const dlq = uniqueName("consume-custom-dlq");
  queues.push(dlq);
  return { queue: await queueWith({ deadLetter: { exchange: dlx, queue: dlq } }), dlq };
}

/** A unique topic exchange. */
async function topicExchange(): Promise<string> {
  const exchange = uniqueName("consume-x");
  exchanges.push(exchange);
  await admin.assertExchange(exchange, "topic", { durable: false });
  return exchange;
}

/** Publishes with a raw amqplib confirm channel and waits for the confirm. */
async function send(exchange: string, routingKey: string, body: Buffer, options: Options.Publish = {}) {
  confirm.publish(exchange, routingKey, body, { persistent: true, ...options });
  await confirm.waitForConfirms();
}

/** The deliveries a subscription hands over, to await one by one. */
function inbox() {
  const arrived: Delivery[] = [];
  const waiting: Array<(delivery: Delivery) => void> = [];
  return {
    handler(delivery: Delivery) {
      const waiter = waiting.shift();
      if (waiter) waiter(delivery);
      else arrived.push(delivery);
    },
    arrived,
    next(timeoutMs = 15_000): Promise<Delivery> {
      const ready = arrived.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const waiter = (delivery: Delivery) => {
          clearTimeout(timer);
          resolve(delivery);
        };
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(new Error(`no delivery within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.push(waiter);
      });
    },
  };
}

function subscribe(
  queue: string,
  handler: (delivery: Delivery) => void,
  options: Partial<AmqpSubscriptionOptions> = {},
) {
  const subscription = createAmqpSubscription(
    manager,
    { queue, prefetch: 10, consumerName: "consume-test", retryTiersMs: TIERS, ...options },
    handler,
  );
  subscriptions.push(subscription);
  return subscription;
}

async function depth(queue: string): Promise<number> {
  return (await admin.checkQueue(queue)).messageCount;
}

/** Waits for a message in `queue` and takes it (raw basic.get, no ack). */
async function take(queue: string): Promise<GetMessage> {
  let got: GetMessage | false = false;
  await eventually(async () => {
    got = await admin.get(queue, { noAck: true });
    expect(got).not.toBe(false);
  });
  return got as unknown as GetMessage;
}

// Not valid UTF-8 on purpose: the body must come through byte for byte.
const BODY = Buffer.from([0, 0, 0, 0, 42, 0xff, 0xfe, 0x80, 0x0a]);

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

  it("retry: the message comes back after its tier (rounded up) with attempt 2 and the reason", async () => {
    const exchange = await topicExchange();
    const queue = await queueWith({ bindings: [{ exchange, routingKey: "#" }] });
    await send(exchange, "orders.created", BODY, { messageId: "m-retry", headers: { producer: "svc-orders" } });
    const box = inbox();
    subscribe(queue, box.handler, { management });
    const first = await box.next();
    const started = Date.now();
    expect(await first.retry({ delayMs: 500, reason: "downstream busy" })).toBe("retried");
    const again = await box.next();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1000 - 10); // the 1000 ms tier, not 500 ms
    expect(again.body.equals(BODY)).toBe(true);
    expect(again).toMatchObject({ messageId: "m-retry", attempt: 2, redelivered: false, key: "orders.created" });
    expect(again.headers).toMatchObject({
      [RETRY_HEADERS.lastError]: "downstream busy",
      [RETRY_HEADERS.attempt]: "2",
      [ORIGINAL_ROUTE_HEADERS.exchange]: exchange,
      producer: "svc-orders",
    });
    // The delay queue was declared lazily as planQueue declares it.
    const retryQueue = await management.getQueue(retryQueueName(queue, 1000));
    expect(retryQueue?.arguments).toMatchObject({
      "x-message-ttl": 1000,
      "x-dead-letter-exchange": "",
      "x-dead-letter-routing-key": queue,
    });
    await again.ack();
    expect(await depth(queue)).toBe(0);
  });

  it("the retry after maxAttempts lands in the DLQ with every dead-letter header and the original body", async () => {
    const exchange = await topicExchange();
    const queue = await queueWith({ deadLetter: true, bindings: [{ exchange, routingKey: "#" }] });
    await send(exchange, "orders.created", BODY, {
      messageId: "m-dl",
      type: "kronos.orders.Created",
      headers: { producer: "svc-orders" },
    });
    const box = inbox();
    subscribe(queue, box.handler, { management, maxAttempts: 3 });
    const outcomes: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const delivery = await box.next();
      expect(delivery.attempt).toBe(attempt);
      if (attempt > 1) {
        // Only this trip's expiry from the delay queue: the copy left the earlier history out.
        expect(JSON.parse(delivery.headers["x-death"] ?? "[]")).toMatchObject([
          { queue: retryQueueName(queue, 300), reason: "expired", count: 1 },
        ]);
      }
      outcomes.push(await delivery.retry({ delayMs: 0, reason: `failure ${attempt}` }));
    }
    expect(outcomes).toEqual(["retried", "retried", "dead-lettered"]);
    const dead = await take(deadLetterQueueName(queue));
    expect(dead.content.equals(BODY)).toBe(true);
    const info = readDeadLetter(dead.properties.headers ?? {}, dead.properties);
    expect(info).toMatchObject({
      writer: "kronos",
      reason: "max-attempts",
      errorCode: "CLIENT_RETRY",
      broker: "rabbitmq",
      destination: exchange,
      queue,
      routingKey: "orders.created",
      eventType: "kronos.orders.Created",
      attempts: 3,
      producer: "svc-orders",
      consumer: "consume-test",
      messageId: "m-dl",
    });
    expect(info?.error).toContain("failure 3");
    expect(info?.firstFailureMs).toBeLessThanOrEqual(info?.lastFailureMs ?? 0);
    expect(info?.lastFailureMs).toBeGreaterThan(Date.now() - 60_000);
    expect(Object.values(DEAD_LETTER_HEADERS).filter((name) => !(name in (dead.properties.headers ?? {})))).toEqual([
      DEAD_LETTER_HEADERS.partition,
      DEAD_LETTER_HEADERS.offset,
    ]);
    // The dead letter was acked away: nothing is left on the queue or its delay queue.
    expect(await depth(queue)).toBe(0);
    expect(await depth(retryQueueName(queue, 300))).toBe(0);
  });

  it("deadLetter goes to the queue's configured DLX, found through the management API", async () => {
    const { queue, dlq: customDlq } = await queueWithOwnDeadLetters();
    await send("", queue, BODY, { messageId: "m-decode" });
    const box = inbox();
    subscribe(queue, box.handler, { management });
    const delivery = await box.next();
    await delivery.deadLetter("decode-failed", { code: "DECODE_FAILED", message: "unknown schema id 42" });
    const dead = await take(customDlq);
    expect(dead.content.equals(BODY)).toBe(true);
    expect(readDeadLetter(dead.properties.headers ?? {}, dead.properties)).toMatchObject({
      reason: "decode-failed",
      errorCode: "DECODE_FAILED",
      error: "unknown schema id 42",
      queue,
      destination: "",
      routingKey: queue,
      attempts: 1,
      messageId: "m-decode",
    });
    expect(await depth(queue)).toBe(0);
    // The default layout was not used.
    expect(await management.getQueue(deadLetterQueueName(queue))).toBeUndefined();
  });

  it('deadLetter "queue-policy": nack without requeue to the queue\'s own DLX (x-death), the channel stays usable', async () => {
    const { queue, dlq: ownDlq } = await queueWithOwnDeadLetters();
    const box = inbox();
    subscribe(queue, box.handler, { deadLetter: "queue-policy", retryTiersMs: [] });
    await send("", queue, BODY, { messageId: "m-policy-1" });
    const first = await box.next();
    await first.deadLetter("rejected", { code: "REJECTED", message: "no" });
    expect((await rejection(first.ack())).code).toBe("ALREADY_SETTLED");
    const dead = await take(ownDlq);
    expect(dead.content.equals(BODY)).toBe(true);
    expect(readDeadLetter(dead.properties.headers ?? {}, dead.properties)).toMatchObject({
      writer: "x-death",
      reason: "rejected",
      queue,
      messageId: "m-policy-1",
    });
    // Without retry tiers, retry() dead-letters the same way; the channel was not broken by a second settle.
    await send("", queue, BODY, { messageId: "m-policy-2" });
    const second = await box.next();
    expect(await second.retry({ delayMs: 0 })).toBe("dead-lettered");
    expect((await take(ownDlq)).properties.messageId).toBe("m-policy-2");
    await send("", queue, BODY, { messageId: "m-policy-3" });
    const third = await box.next();
    expect(third).toMatchObject({ messageId: "m-policy-3", redelivered: false });
    await third.ack();
    await eventually(async () => expect(await depth(queue)).toBe(0), 5000);
    // Neither the default dead-letter layout nor a delay queue was declared.
    expect(await management.getQueue(deadLetterQueueName(queue))).toBeUndefined();
    expect(await management.getQueue(retryQueueName(queue, 300))).toBeUndefined();
  });

  it("deadLetter declares and uses <queue>.dlx → <queue>.dlq when the queue has no DLX", async () => {
    const queue = await queueWith({ type: "quorum" });
    await send("", queue, BODY, { messageId: "m-no-dlx" });
    const box = inbox();
    subscribe(queue, box.handler, { management });
    const delivery = await box.next();
    await delivery.deadLetter("decode-failed", { code: "DECODE_FAILED", message: "bad frame" });
    const dead = await take(deadLetterQueueName(queue));
    expect(dead.content.equals(BODY)).toBe(true);
    expect(readDeadLetter(dead.properties.headers ?? {})?.reason).toBe("decode-failed");
    // Declared like declareQueue would: of the source queue's type.
    expect((await management.getQueue(deadLetterQueueName(queue)))?.type).toBe("quorum");
  });

  it("an unroutable dead letter fails the call and leaves the original unacked", async () => {
    const queue = await queueWith();
    const nowhere = await topicExchange();
    await send("", queue, BODY, { messageId: "m-unroutable" });
    const box = inbox();
    subscribe(queue, box.handler, { deadLetter: { exchange: nowhere, routingKey: "nobody.listens" } });
    const delivery = await box.next();
    const error = await rejection(delivery.deadLetter("rejected", { code: "REJECTED", message: "no" }));
    expect(error.code).toBe("UNROUTABLE");
    // Still unsettled: it can be released and comes back.
    await delivery.release();
    const again = await box.next();
    expect(again).toMatchObject({ messageId: "m-unroutable", redelivered: true });
    await again.ack();
  });

  it("a queue with a TTL and deadLetter dead-letters by itself; readDeadLetter says expired", async () => {
    const queue = await queueWith({ messageTtlMs: 100, deadLetter: true });
    await send("", queue, BODY, { messageId: "m-ttl", headers: { producer: "svc-orders" } });
    const dead = await take(deadLetterQueueName(queue));
    expect(dead.content.equals(BODY)).toBe(true);
    expect(readDeadLetter(dead.properties.headers ?? {}, dead.properties)).toMatchObject({
      writer: "x-death",
      reason: "expired",
      queue,
      attempts: 1,
      producer: "svc-orders",
      messageId: "m-ttl",
    });
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
