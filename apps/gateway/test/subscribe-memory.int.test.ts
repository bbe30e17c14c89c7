import { randomUUID } from "node:crypto";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { testEndpoints, uniqueName } from "@kronos/testkit";
import amqplib from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listeningGateway, until } from "./subscribe-helpers.js";

const WAITING = 50_000;
const PREFETCH = 200;

// A client that reads nothing while 50,000 messages wait: the gateway must hold at most its prefetch, not the queue.
describe("a subscriber that stops reading", () => {
  let gateway: Awaited<ReturnType<typeof listeningGateway>>;
  const queue = uniqueName("gw-slow");
  const serde = new RegistrySerde({ url: testEndpoints().registryUrl, autoRegister: true });

  beforeAll(async () => {
    gateway = await listeningGateway();
  });
  afterAll(async () => {
    await gateway?.app.close();
    const connection = await amqplib.connect(testEndpoints().rabbitmqUrl);
    const channel = await connection.createChannel();
    await channel.deleteQueue(queue).catch(() => {});
    await connection.close();
  });

  it(`keeps gateway memory bounded while ${WAITING} messages wait`, async () => {
    const connection = await amqplib.connect(testEndpoints().rabbitmqUrl);
    const channel = await connection.createConfirmChannel();
    await channel.assertQueue(queue, { durable: false });
    const body = await serde.encode(CriticalAlertEvent, {
      meta: { eventId: randomUUID(), occurredAt: new Date(), producer: "test", correlationId: null, traceparent: null },
      alertId: randomUUID(),
      severity: "CRITICAL",
      sourceService: "auth",
      fingerprint: "slow",
      title: "slow reader",
      description: "x".repeat(512),
      labels: {},
      raisedAt: new Date(),
      runbookUrl: null,
    });
    for (let i = 0; i < WAITING; i++) {
      channel.sendToQueue(queue, body, { messageId: `slow-${i}`, type: CriticalAlertEvent.name });
      if (i % 5000 === 4999) await channel.waitForConfirms();
    }
    await channel.waitForConfirms();
    global.gc?.();
    const before = process.memoryUsage().rss;

    const stream = await gateway.subscribe(queue, { prefetch: PREFETCH });
    expect(stream.status, stream.errorBody).toBe(200);
    stream.pause();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const metrics = (await gateway.app.inject({ url: "/metrics" })).body;
    const held = Number(/^gateway_deliveries_held(?:\{[^}]*\})? (\d+)/m.exec(metrics)?.[1]);
    const waiting = (await channel.checkQueue(queue)).messageCount;
    const grownMb = (process.memoryUsage().rss - before) / 2 ** 20;
    console.log(`slow reader: held ${held}, still queued ${waiting}, RSS grew ${grownMb.toFixed(1)} MiB`);
    expect(held).toBeLessThanOrEqual(PREFETCH);
    expect(waiting).toBeGreaterThanOrEqual(WAITING - PREFETCH);
    expect(grownMb).toBeLessThan(64);

    // Reading again drains at the client's pace; closing gives the held ones back.
    stream.resume();
    await stream.messages(10);
    stream.close();
    await until(async () => (await channel.checkQueue(queue)).messageCount === WAITING, "everything back in the queue");
    await connection.close();
  });
});
