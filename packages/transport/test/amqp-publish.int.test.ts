import { type ProxyChunk, startFaultProxy, TestResources, testEndpoints } from "@kronos/testkit";
import { type Channel, type ChannelModel, connect, type GetMessage } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AmqpConnectionManager,
  type AmqpMessage,
  type AmqpPublisher,
  createAmqpPublisher,
  TransportError,
} from "../src/index.js";
import { brokerConnections, closeOnBroker, eventually } from "./rabbitmq-management.js";

const resources = new TestResources();
const { rabbitmqUrl } = testEndpoints();
let plain: ChannelModel;
let admin: Channel;
let manager: AmqpConnectionManager;
let publisher: AmqpPublisher;
const managerName = `transport-publish-test-${process.pid}`;

/** A direct exchange bound to a fresh queue with `routingKey`; returns both names. */
async function boundQueue(routingKey: string, queueArgs: Record<string, unknown> = {}) {
  const exchange = resources.exchange("transport-publish");
  const queue = resources.queue("transport-publish");
  await admin.assertExchange(exchange, "direct", { durable: false, autoDelete: false });
  await admin.assertQueue(queue, { durable: true, arguments: queueArgs });
  await admin.bindQueue(queue, exchange, routingKey);
  return { exchange, queue };
}

function message(exchange: string, routingKey: string, overrides: Partial<AmqpMessage> = {}): AmqpMessage {
  return { exchange, routingKey, content: Buffer.from("hello"), messageId: crypto.randomUUID(), ...overrides };
}

/** Bytes sent up to the broker in `traffic[from..to)`. */
function upBytes(traffic: readonly ProxyChunk[], from: number, to: number): number {
  return traffic.slice(from, to).reduce((sum, chunk) => sum + (chunk.direction === "up" ? chunk.bytes.length : 0), 0);
}

/** Heartbeat frames (type 8, 8 bytes) say nothing about confirms. */
function isHeartbeat(chunk: ProxyChunk): boolean {
  return chunk.bytes.length === 8 && chunk.bytes[0] === 8;
}

async function get(queue: string): Promise<GetMessage | false> {
  return admin.get(queue, { noAck: true });
}

beforeAll(async () => {
  plain = await connect(rabbitmqUrl);
  plain.on("error", () => undefined);
  admin = await plain.createChannel();
  manager = new AmqpConnectionManager({
    url: rabbitmqUrl,
    name: managerName,
    reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
  });
  manager.start();
  expect(await manager.waitForConnection(10_000)).toBe(true);
  publisher = createAmqpPublisher(manager);
});

afterAll(async () => {
  await publisher?.close();
  await manager?.close();
  await resources.cleanup();
  await plain?.close().catch(() => undefined);
});

describe("AmqpPublisher (real RabbitMQ)", () => {
  it("delivers a persistent message with its headers, id and properties once confirmed", async () => {
    const { exchange, queue } = await boundQueue("orders.created", { "x-max-priority": 5 });
    const sent = message(exchange, "orders.created", {
      content: Buffer.from([0, 0, 0, 0, 1, 0xff]),
      headers: { "kronos-event": "kronos.orders.Created", traceparent: "00-abc-def-01" },
      contentType: "application/vnd.kronos+avro",
      correlationId: "corr-1",
      replyTo: "replies",
      priority: 3,
      timestamp: 1_700_000_000,
      type: "kronos.orders.Created",
    });
    await publisher.publish(sent);
    // Confirmed means enqueued: the message is there without waiting.
    const got = await get(queue);
    expect(got).not.toBe(false);
    const { content, properties } = got as GetMessage;
    expect(content).toEqual(sent.content);
    expect(properties).toMatchObject({
      deliveryMode: 2,
      messageId: sent.messageId,
      headers: { "kronos-event": "kronos.orders.Created", traceparent: "00-abc-def-01" },
      contentType: "application/vnd.kronos+avro",
      correlationId: "corr-1",
      replyTo: "replies",
      priority: 3,
      timestamp: 1_700_000_000,
      type: "kronos.orders.Created",
    });
  });

  it("rejects an unroutable message with UNROUTABLE and puts it in no queue", async () => {
    const { exchange, queue } = await boundQueue("bound.key");
    const error = await publisher.publish(message(exchange, "nobody.listens")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "UNROUTABLE", retriable: false });
    expect((error as Error).message).toContain("nobody.listens");
    expect(await get(queue)).toBe(false);
    // The same channel keeps working: a routable message right after is confirmed.
    await publisher.publish(message(exchange, "bound.key"));
    expect(await get(queue)).not.toBe(false);
  });

  it("matches returns to their own publishes among concurrent ones", async () => {
    const { exchange, queue } = await boundQueue("good");
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) => publisher.publish(message(exchange, i % 2 === 0 ? "good" : "bad"))),
    );
    results.forEach((result, i) => {
      if (i % 2 === 0) expect(result.status).toBe("fulfilled");
      else expect(result).toMatchObject({ status: "rejected", reason: { code: "UNROUTABLE" } });
    });
    const depth = await admin.checkQueue(queue);
    expect(depth.messageCount).toBe(25);
  });

  it("rejects with NACKED (retriable) what a full reject-publish queue refuses", async () => {
    const { exchange, queue } = await boundQueue("full", { "x-max-length": 1, "x-overflow": "reject-publish" });
    await publisher.publish(message(exchange, "full", { content: Buffer.from("first") }));
    const error = await publisher.publish(message(exchange, "full")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "NACKED", retriable: true });
    expect((await admin.checkQueue(queue)).messageCount).toBe(1);
  });

  it("rejects a missing exchange with DESTINATION_NOT_FOUND, republishes the others, and keeps publishing", async () => {
    const { exchange, queue } = await boundQueue("k");
    const missing = resources.exchange("transport-publish-missing");
    const others = Array.from({ length: 20 }, () => publisher.publish(message(exchange, "k")));
    const bad = publisher.publish(message(missing, "k")).catch((e: unknown) => e);
    const after = Array.from({ length: 20 }, () => publisher.publish(message(exchange, "k")));
    const error = await bad;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "DESTINATION_NOT_FOUND", retriable: false });
    expect((error as Error).message).toContain(missing);
    // The messages in flight on the closed channel for a good exchange are not failed.
    await Promise.all([...others, ...after]);
    await publisher.publish(message(exchange, "k"));
    const depth = await admin.checkQueue(queue);
    expect(depth.messageCount).toBeGreaterThanOrEqual(41);
  });

  it("pipelines confirms: many publishes are on the wire before the first confirm comes back", async () => {
    // Through a proxy that records the traffic in arrival order (not a timing measure: a machine under load can
    // slow everything alike). A publisher that waited for each confirm would have one publish on the wire at a time.
    const proxy = await startFaultProxy({ target: rabbitmqUrl, record: true });
    const proxied = new AmqpConnectionManager({ url: proxy.via(rabbitmqUrl), name: `${managerName}-proxied` });
    proxied.start();
    const through = createAmqpPublisher(proxied);
    try {
      expect(await proxied.waitForConnection(10_000)).toBe(true);
      const { exchange, queue } = await boundQueue("fast");
      await through.publish(message(exchange, "fast")); // opens the confirm channel
      // The bytes of one publish (method, header and body frames), measured on a single one.
      let mark = proxy.traffic.length;
      await through.publish(message(exchange, "fast"));
      const onePublish = upBytes(proxy.traffic, mark, proxy.traffic.length);
      mark = proxy.traffic.length;
      await through.publishMany(Array.from({ length: 500 }, () => message(exchange, "fast")));
      const firstConfirm = proxy.traffic.findIndex(
        (chunk, i) => i >= mark && chunk.direction === "down" && !isHeartbeat(chunk),
      );
      expect(firstConfirm).toBeGreaterThan(mark);
      expect(upBytes(proxy.traffic, mark, firstConfirm) / onePublish).toBeGreaterThan(50);
      expect((await admin.checkQueue(queue)).messageCount).toBe(502);
    } finally {
      await through.close();
      await proxied.close();
      await proxy.close();
    }
  });

  it("delivers the highest priority first on a priority queue", async () => {
    const { exchange, queue } = await boundQueue("prio", { "x-max-priority": 9 });
    const priorities = [1, 5, 0, 9, 3, 7];
    await publisher.publishMany(
      priorities.map((priority) => message(exchange, "prio", { priority, content: Buffer.from(String(priority)) })),
    );
    const order: number[] = [];
    for (let got = await get(queue); got; got = await get(queue)) order.push(Number(got.content.toString()));
    expect(order).toEqual([9, 7, 5, 3, 1, 0]);
  });

  it("rejects a message amqplib cannot encode with PUBLISH_REJECTED, and keeps the channel", async () => {
    const { exchange, queue } = await boundQueue("enc");
    const error = await publisher.publish(message(exchange, "enc", { priority: 300 })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "PUBLISH_REJECTED", retriable: false });
    await publisher.publish(message(exchange, "enc"));
    expect((await admin.checkQueue(queue)).messageCount).toBe(1);
  });

  it("bounds every publish by its timeout", async () => {
    // Through a proxy that stops passing the broker's answers: the confirm never comes (a timeout of 0 against a
    // live broker raced the confirm, and lost only most of the time).
    const { exchange } = await boundQueue("t");
    const proxy = await startFaultProxy({ target: rabbitmqUrl });
    const proxied = new AmqpConnectionManager({ url: proxy.via(rabbitmqUrl), name: `${managerName}-frozen` });
    proxied.start();
    const through = createAmqpPublisher(proxied);
    try {
      expect(await proxied.waitForConnection(10_000)).toBe(true);
      await through.publish(message(exchange, "t")); // opens the confirm channel
      proxy.freeze("down");
      const started = Date.now();
      const error = await through.publish(message(exchange, "t"), { timeoutMs: 300 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ code: "TIMEOUT", retriable: true });
      expect((error as Error).message).toContain("within 300 ms");
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    } finally {
      proxy.thaw();
      await through.close();
      await proxied.close();
      await proxy.close();
    }
  });

  it("rejects with RABBITMQ_UNAVAILABLE when the connection drops, then publishes again after reconnection", async () => {
    const { exchange, queue } = await boundQueue("r");
    let connections: string[] = [];
    await eventually(async () => {
      connections = await brokerConnections(managerName);
      expect(connections).toHaveLength(1);
    });
    const first = manager.connection();
    const inFlight = Array.from({ length: 200 }, () =>
      publisher.publish(message(exchange, "r", { content: Buffer.alloc(10_000) })).then(
        () => "confirmed",
        (error: unknown) => error,
      ),
    );
    await closeOnBroker(connections[0] as string);
    const outcomes = await Promise.all(inFlight);
    // Publishing while the manager reconnects fails fast and retriably, never hangs: publish until one fails.
    const deadline = Date.now() + 10_000;
    let during: unknown = "confirmed";
    while (during === "confirmed" && Date.now() < deadline) {
      during = await publisher.publish(message(exchange, "r"), { timeoutMs: 5000 }).then(
        () => "confirmed",
        (error: unknown) => error,
      );
    }
    const failures = [...outcomes, during].filter((o) => o !== "confirmed");
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(TransportError);
      expect(failure).toMatchObject({ code: "RABBITMQ_UNAVAILABLE", retriable: true });
    }
    await eventually(() => {
      expect(manager.state).toBe("connected");
      expect(manager.connection()).not.toBe(first);
    });
    const before = (await admin.checkQueue(queue)).messageCount;
    await publisher.publish(message(exchange, "r"));
    expect((await admin.checkQueue(queue)).messageCount).toBe(before + 1);
    // Every publish that was confirmed is in the queue.
    expect(before).toBeGreaterThanOrEqual(outcomes.filter((o) => o === "confirmed").length);
  });

  it("refuses publishes after close", async () => {
    const p = createAmqpPublisher(manager);
    await p.close();
    await expect(p.publish(message("amq.direct", "x"))).rejects.toMatchObject({ code: "CLOSED" });
  });
});
