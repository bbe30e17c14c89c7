import { randomUUID } from "node:crypto";
import { RegistrySerde } from "@kronos/contracts";
import { testEndpoints, uniqueName } from "@kronos/testkit";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import { Redis } from "ioredis";
import { type Admin, Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { bearer, criticalAlert } from "./publish-helpers.js";
import {
  createAlertQueue,
  deleteQueues,
  deleteTopics,
  listeningGateway,
  until,
  writeAlerts,
} from "./subscribe-helpers.js";

const REDIS_URL = "redis://127.0.0.1:6379";
const CRITICAL = "kronos.gaia.critical";

// Two gateway instances sharing REDIS_URL, as behind a load balancer that is not sticky: a client subscribes through
// A and settles through B; B forwards each settlement to A, which holds the delivery.
describe("two gateway instances sharing Redis", () => {
  let a: Awaited<ReturnType<typeof listeningGateway>>;
  let b: Awaited<ReturnType<typeof listeningGateway>>;
  let admin: Admin;
  let producer: Producer;
  let connection: ChannelModel;
  let channel: Channel;
  const idA = `a${randomUUID().slice(0, 8)}`;
  const idB = `b${randomUUID().slice(0, 8)}`;
  const kafka = new Kafka({
    clientId: "gw-instances-test",
    brokers: testEndpoints().kafkaBrokers.split(","),
    logLevel: logLevel.NOTHING,
  });
  const serde = new RegistrySerde({ url: testEndpoints().registryUrl, autoRegister: true });
  const topics: string[] = [];
  const queues: string[] = [];
  const env = {
    REDIS_URL,
    GATEWAY_MAX_ATTEMPTS: "1",
    GATEWAY_FORWARD_TIMEOUT_MS: "800",
  };

  beforeAll(async () => {
    a = await listeningGateway({ ...env, GATEWAY_INSTANCE_ID: idA });
    b = await listeningGateway({ ...env, GATEWAY_INSTANCE_ID: idB });
    connection = await amqplib.connect(testEndpoints().rabbitmqUrl);
    channel = await connection.createChannel();
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer();
    await producer.connect();
  });
  afterAll(async () => {
    if (channel) await deleteQueues(channel, queues);
    await connection?.close().catch(() => {});
    await a?.app.close();
    await b?.app.close();
    await deleteTopics(admin, topics);
    await producer?.disconnect();
    await admin?.disconnect();
  });

  const write = (name: string, titles: string[]) => writeAlerts(producer, serde, name, titles, "two instances test");

  it("Kafka: subscribed through A, acked, retried and rejected through B; the acked records are committed", async () => {
    const name = uniqueName("gw-inst-k");
    await admin.createTopics({ topics: [{ topic: name, numPartitions: 1 }], waitForLeaders: true });
    topics.push(name);
    const group = uniqueName("grp");
    const stream = await a.subscribe(name, { group, from: "earliest" });
    expect(stream.status, stream.errorBody).toBe(200);
    await write(name, ["k1", "k2", "k3"]);
    const first = await stream.nextMessage(30_000);
    const second = await stream.nextMessage(30_000);
    const third = await stream.nextMessage(30_000);
    expect(first.id.startsWith(`${idA}.`)).toBe(true);

    expect((await b.settle("ack", first.id)).statusCode).toBe(204);
    const retried = await b.settle("retry", second.id, { delayMs: 300, reason: "later" });
    expect(retried.statusCode, retried.body).toBe(202);
    expect(retried.json()).toMatchObject({ outcome: "retried", messageId: "k2", attempt: 1 });
    const again = await stream.nextMessage(30_000);
    expect(again.data).toMatchObject({ messageId: "k2", attempt: 2 });
    // The owner's answers come back as they are: a second ack of the same handle is the owner's 409.
    const twice = await b.settle("ack", first.id);
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ code: "ALREADY_ACKED" });
    const rejected = await b.settle("reject", third.id, { reason: "bad" });
    expect(rejected.json()).toMatchObject({ outcome: "dead-lettered", messageId: "k3" });
    expect((await b.settle("ack", again.id)).statusCode).toBe(204);
    stream.close();
    const forwarded = (await b.app.inject({ url: "/metrics" })).body;
    expect(forwarded).toMatch(/gateway_forwarded_settlements_total\{result="answered"[^}]*\} [5-9]/);
    const served = (await a.app.inject({ url: "/metrics" })).body;
    expect(served).toMatch(/gateway_forwarded_settlements_total\{result="served"[^}]*\} [5-9]/);

    // Everything was settled through B: the group's next member (on B) starts after k3 and sees only k4.
    const next = await b.subscribe(name, { group, from: "earliest" });
    expect(next.status, next.errorBody).toBe(200);
    await write(name, ["k4"]);
    const fresh = await next.nextMessage(30_000);
    expect(fresh.data).toMatchObject({ messageId: "k4" });
    expect((await a.settle("ack", fresh.id)).statusCode).toBe(204);
    next.close();
  });

  it("RabbitMQ: subscribed through A, acked, retried and rejected through B; another principal gets the owner's 403", async () => {
    const { queue, key } = await createAlertQueue(a, CRITICAL, "gw-inst-r", queues);
    const stream = await a.subscribe(queue);
    expect(stream.status, stream.errorBody).toBe(200);
    await a.publish({ topic: CRITICAL, key, payload: criticalAlert({ title: "r1" }) });
    await a.publish({ topic: CRITICAL, key, payload: criticalAlert({ title: "r2" }) });
    const first = await stream.nextMessage();
    const second = await stream.nextMessage();

    const stranger = await b.app.inject({
      method: "POST",
      url: `/ack/${encodeURIComponent(first.id)}`,
      headers: await bearer(`stranger-${randomUUID()}`, ["consume:*"]),
    });
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json()).toMatchObject({ code: "NOT_YOUR_DELIVERY" });

    expect((await b.settle("ack", first.id)).statusCode).toBe(204);
    const retried = await b.settle("retry", second.id, { delayMs: 300 });
    expect(retried.json()).toMatchObject({ outcome: "retried", attempt: 1 });
    const again = await stream.nextMessage(15_000);
    expect(again.data).toMatchObject({ payload: { title: "r2" }, attempt: 2 });
    const rejected = await b.settle("reject", again.id, { reason: "bad" });
    expect(rejected.json()).toMatchObject({ outcome: "dead-lettered" });
    stream.close();

    // Settled, not redelivered: the queue is empty and its dead letters hold the rejected one.
    const depth = async (name: string) => (await channel.checkQueue(name)).messageCount;
    await until(async () => (await depth(queue)) === 0, "the queue to be empty", 20_000);
    await until(async () => (await depth(`${queue}.dlq`)) === 1, "one dead letter", 20_000);
  });

  it("POST /settle and POST /ack-through through B settle A's deliveries, each item as A answers it", async () => {
    const { queue, key } = await createAlertQueue(a, CRITICAL, "gw-inst-b", queues);
    const stream = await a.subscribe(queue);
    expect(stream.status, stream.errorBody).toBe(200);
    for (let i = 0; i < 5; i++) await a.publish({ topic: CRITICAL, key, payload: criticalAlert({ title: `b${i}` }) });
    const held = [];
    for (let i = 0; i < 5; i++) held.push(await stream.nextMessage());
    const [m0, m1, m2, m3, m4] = held.map((message) => message.id) as [string, string, string, string, string];

    const bulk = await b.app.inject({
      method: "POST",
      url: "/settle",
      headers: b.auth,
      payload: {
        items: [
          { handle: m0, action: "ack" },
          { handle: m1, action: "reject", reason: "bad" },
          { handle: m0, action: "ack" },
          { handle: "gone1234.0123456789abcdef.1", action: "ack" },
        ],
      },
    });
    expect(bulk.statusCode, bulk.body).toBe(200);
    expect(bulk.json()).toMatchObject({
      succeeded: 2,
      failed: 2,
      results: [
        { handle: m0, status: 204 },
        { handle: m1, status: 202, outcome: "dead-lettered" },
        { handle: m0, status: 409, code: "ALREADY_ACKED" },
        { status: 404, code: "UNKNOWN_HANDLE" },
      ],
    });
    const through = await b.app.inject({
      method: "POST",
      url: `/ack-through/${encodeURIComponent(m3)}`,
      headers: b.auth,
    });
    expect(through.statusCode, through.body).toBe(200);
    expect(through.json()).toEqual({ acked: 2, handles: [m3, m2] });
    expect((await b.settle("ack", m4)).statusCode).toBe(204);
    stream.close();
    await until(async () => (await channel.checkQueue(queue)).messageCount === 0, "the queue to be empty", 20_000);
  });

  it("shares the per-principal rate limit: half the budget spent on C, half on D, the next request is 429", async () => {
    const limits = { REDIS_URL, GATEWAY_RATE_LIMIT_PER_MINUTE: "6", GATEWAY_RATE_LIMIT_SYNC_MS: "20" };
    const c = await testGateway(tempPrincipalsFile(), limits);
    const d = await testGateway(tempPrincipalsFile(), limits);
    try {
      const sub = `limited-${randomUUID()}`;
      const headers = await bearer(sub, ["consume:*"]);
      // Aligned one-minute windows: start right after one begins, so the six requests share it.
      const intoWindow = Date.now() % 60_000;
      if (intoWindow > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - intoWindow + 100));
      for (const gateway of [c, c, c, d, d, d]) {
        const response = await gateway.inject({ url: "/whoami", headers });
        expect(response.statusCode, response.body).toBe(200);
      }
      // Each instance counts in memory and syncs every 20 ms: wait until Redis holds all six, then five intervals
      // more, so both have read the total back.
      const redis = new Redis(REDIS_URL);
      try {
        await until(async () => {
          const keys = await redis.keys(`kronos:gateway:ratelimit:*${sub}*`);
          const values = keys.length === 0 ? [] : await redis.mget(keys);
          return values.reduce((sum, value) => sum + Number(value ?? 0), 0) === 6;
        }, "the six requests in Redis");
      } finally {
        redis.disconnect();
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      const over = await c.inject({ url: "/whoami", headers });
      expect(over.statusCode).toBe(429);
      expect(over.json()).toMatchObject({ code: "RATE_LIMITED" });
      expect(Number(over.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect((await d.inject({ url: "/whoami", headers })).statusCode).toBe(429);
    } finally {
      await c.close();
      await d.close();
    }
  });

  it("a handle of an instance that is not running is 404 UNKNOWN_HANDLE at once", async () => {
    const started = Date.now();
    const response = await b.settle("ack", "gone1234.0123456789abcdef.1");
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: "UNKNOWN_HANDLE" });
    expect(response.json().message).toMatch(/instance "gone1234".*not running/);
    expect(Date.now() - started).toBeLessThan(800);
  });

  it("an instance that listens but never answers: 404 HANDLE_EXPIRED after GATEWAY_FORWARD_TIMEOUT_MS, never a hang", async () => {
    const mute = new Redis(REDIS_URL);
    try {
      await mute.subscribe("kronos:gateway:settle:mute1234");
      const started = Date.now();
      const response = await b.settle("retry", "mute1234.0123456789abcdef.1", {});
      const waited = Date.now() - started;
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: "HANDLE_EXPIRED" });
      expect(response.json().message).toMatch(/did not answer within 800 ms/);
      expect(waited).toBeGreaterThanOrEqual(750);
      expect(waited).toBeLessThan(3000);
    } finally {
      mute.disconnect();
    }
  });
});
