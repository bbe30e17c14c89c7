import { TestResources, testEndpoints } from "@kronos/testkit";
import { type Channel, type ChannelModel, connect } from "amqplib";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RABBITMQ_QUEUE_MESSAGES, RabbitManagementClient, registerRabbitQueueMetrics } from "../src/index.js";
import { eventually } from "./rabbitmq-management.js";
import { expectScrapeDespiteHang, recordingLogger, scrape, silentServer } from "./scrape.js";

const resources = new TestResources();
const endpoints = testEndpoints();
const management = new RabbitManagementClient({ url: endpoints.rabbitmqManagementUrl });
const busy = resources.queue("queue-metrics-busy");
const empty = resources.queue("queue-metrics-empty");
let plain: ChannelModel;
let consumer: Channel;

const series = (queue: string, state: "ready" | "unacked") => `{queue="${queue}",state="${state}"}`;

beforeAll(async () => {
  plain = await connect(endpoints.rabbitmqUrl);
  const channel = await plain.createConfirmChannel();
  await channel.assertQueue(busy, { durable: false });
  await channel.assertQueue(empty, { durable: false });
  for (let i = 0; i < 5; i++) channel.sendToQueue(busy, Buffer.from(`m${i}`));
  await channel.waitForConfirms();
  await channel.close();
  // A consumer that holds 2 of the 5 without acknowledging them: 3 ready, 2 unacked.
  consumer = await plain.createChannel();
  await consumer.prefetch(2);
  await consumer.consume(busy, () => {}, { noAck: false });
});

afterAll(async () => {
  await plain.close().catch(() => {});
  await resources.cleanup();
});

describe("kronos_rabbitmq_queue_messages (real RabbitMQ)", () => {
  it("reports ready and unacked messages of the named queues, on scrape", async () => {
    const registry = new Registry();
    registerRabbitQueueMetrics(management, { registry, queues: [busy, empty, `${empty}-missing`] });
    // The management API's figures lag the broker by its statistics interval (5 s by default).
    await eventually(async () => {
      expect(await scrape(registry, RABBITMQ_QUEUE_MESSAGES)).toEqual(
        new Map([
          [series(busy, "ready"), 3],
          [series(busy, "unacked"), 2],
          [series(empty, "ready"), 0],
          [series(empty, "unacked"), 0],
        ]),
      );
    });
  });

  it("reports every queue of the vhost when no queues are named", async () => {
    const registry = new Registry();
    registerRabbitQueueMetrics(management, { registry });
    const all = await eventually(async () => {
      const found = await scrape(registry, RABBITMQ_QUEUE_MESSAGES);
      expect(found.get(series(busy, "unacked"))).toBe(2);
      return found;
    });
    expect(all.get(series(empty, "ready"))).toBe(0);
  });

  it("keeps the last values and logs when a read fails; a deleted queue's series go at the next good read", async () => {
    const registry = new Registry();
    const logger = recordingLogger();
    let failing = false;
    const other = resources.queue("queue-metrics-deleted");
    const channel = await plain.createChannel();
    await channel.assertQueue(other, { durable: false });
    registerRabbitQueueMetrics(management, {
      registry,
      logger,
      queues: () => {
        if (failing) throw new Error("queue list unavailable");
        return [busy, other];
      },
    });
    const first = await eventually(async () => {
      const found = await scrape(registry, RABBITMQ_QUEUE_MESSAGES);
      expect(found.get(series(busy, "unacked"))).toBe(2);
      expect(found.get(series(other, "ready"))).toBe(0);
      return found;
    });
    failing = true;
    expect(await scrape(registry, RABBITMQ_QUEUE_MESSAGES)).toEqual(first);
    expect(logger.warnings).toEqual([`${RABBITMQ_QUEUE_MESSAGES}: read failed, kept last values`]);

    failing = false;
    await channel.deleteQueue(other);
    await channel.close();
    const after = await scrape(registry, RABBITMQ_QUEUE_MESSAGES);
    expect([...after.keys()].sort()).toEqual([series(busy, "ready"), series(busy, "unacked")]);
  });

  it("answers the scrape within the time limit when the management API does not answer", async () => {
    const silent = await silentServer();
    try {
      const registry = new Registry();
      const logger = recordingLogger();
      const hanging = new RabbitManagementClient({ url: `http://guest:guest@127.0.0.1:${silent.port}` });
      registerRabbitQueueMetrics(hanging, { registry, queues: [busy], timeoutMs: 300, logger });
      await expectScrapeDespiteHang(registry, RABBITMQ_QUEUE_MESSAGES, logger);
    } finally {
      await silent.close();
    }
  });
});
