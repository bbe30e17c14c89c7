// What the RabbitMQ subscription tests share (amqp-consume*.int.test.ts): a connection manager, plain amqplib
// channels, unique queues and exchanges deleted at the end, and an inbox of deliveries. A test file calls
// useAmqpConsumeFixture() once at its top level.
import { testEndpoints, uniqueName } from "@kronos/testkit";
import { type Channel, type ChannelModel, type ConfirmChannel, connect, type GetMessage, type Options } from "amqplib";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import {
  AmqpConnectionManager,
  type AmqpSubscriptionOptions,
  createAmqpSubscription,
  type Delivery,
  deadLetterExchangeName,
  deadLetterQueueName,
  declareQueue,
  type QueueOptions,
  RabbitManagementClient,
  retryQueueName,
  type Subscription,
} from "../src/index.js";
import { eventually } from "./rabbitmq-management.js";

export const endpoints = testEndpoints();
export const managerName = `transport-consume-test-${process.pid}`;
export const manager = new AmqpConnectionManager({
  url: endpoints.rabbitmqUrl,
  name: managerName,
  reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
});
export const management = new RabbitManagementClient({ url: endpoints.rabbitmqManagementUrl });
// Fast tiers keep the retry tests short; 1000 > 500 proves a delay is rounded up.
export const TIERS = [300, 1000];
export const queues: string[] = [];
export const exchanges: string[] = [];
const subscriptions: Subscription[] = [];
export let plain: ChannelModel;
export let admin: Channel;
export let confirm: ConfirmChannel;

/** Registers the connections' set-up and the clean-up of subscriptions, queues and exchanges. */
export function useAmqpConsumeFixture(): void {
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
}

/** Declares a unique queue with `declareQueue` and registers it and everything derived from it for deletion. */
export async function queueWith(options: QueueOptions = {}): Promise<string> {
  const queue = uniqueName("consume");
  queues.push(queue, deadLetterQueueName(queue), ...TIERS.map((tier) => retryQueueName(queue, tier)));
  exchanges.push(deadLetterExchangeName(queue));
  await declareQueue(manager, queue, options);
  return queue;
}

/** A queue dead-lettering to an exchange and queue of its own names (not the default `<queue>.dlx`/`.dlq`). */
export async function queueWithOwnDeadLetters(): Promise<{ queue: string; dlq: string }> {
  const dlx = uniqueName("consume-custom-dlx");
  exchanges.push(dlx);
  const dlq = uniqueName("consume-custom-dlq");
  queues.push(dlq);
  return { queue: await queueWith({ deadLetter: { exchange: dlx, queue: dlq } }), dlq };
}

/** A unique topic exchange. */
export async function topicExchange(): Promise<string> {
  const exchange = uniqueName("consume-x");
  exchanges.push(exchange);
  await admin.assertExchange(exchange, "topic", { durable: false });
  return exchange;
}

/** Publishes with a raw amqplib confirm channel and waits for the confirm. */
export async function send(exchange: string, routingKey: string, body: Buffer, options: Options.Publish = {}) {
  confirm.publish(exchange, routingKey, body, { persistent: true, ...options });
  await confirm.waitForConfirms();
}

/** The deliveries a subscription hands over, to await one by one. */
export function inbox() {
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

export function subscribe(
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

export async function depth(queue: string): Promise<number> {
  return (await admin.checkQueue(queue)).messageCount;
}

/** Waits for a message in `queue` and takes it (raw basic.get, no ack). */
export async function take(queue: string): Promise<GetMessage> {
  let got: GetMessage | false = false;
  await eventually(async () => {
    got = await admin.get(queue, { noAck: true });
    expect(got).not.toBe(false);
  });
  return got as unknown as GetMessage;
}

// Not valid UTF-8 on purpose: the body must come through byte for byte.
export const BODY = Buffer.from([0, 0, 0, 0, 42, 0xff, 0xfe, 0x80, 0x0a]);
