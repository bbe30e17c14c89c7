import { describe, expect, it } from "vitest";
import {
  DEAD_LETTER_HEADERS,
  deadLetterQueueName,
  ORIGINAL_ROUTE_HEADERS,
  RETRY_HEADERS,
  readDeadLetter,
  retryQueueName,
} from "../src/index.js";
import {
  BODY,
  depth,
  inbox,
  management,
  queueWith,
  queueWithOwnDeadLetters,
  send,
  subscribe,
  take,
  topicExchange,
  useAmqpConsumeFixture,
} from "./amqp-consume-fixture.js";
import { rejection } from "./assertions.js";
import { eventually } from "./rabbitmq-management.js";

useAmqpConsumeFixture();

describe("createAmqpSubscription: retries and dead letters (real RabbitMQ)", () => {
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
});
