import { addPrincipal } from "@kronos/app-kit";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { testEndpoints, uniqueName } from "@kronos/testkit";
import { DEAD_LETTER_HEADERS, readDeadLetter } from "@kronos/transport";
import type { GetMessage } from "amqplib";
import { beforeAll, describe, expect, it } from "vitest";
import { alertValue, bearer, criticalAlert } from "./publish-helpers.js";
import { listeningGateway, rabbitSubscribeFixture, until } from "./subscribe-helpers.js";

const CRITICAL = "kronos.gaia.critical";

describe("subscribing to a RabbitMQ queue over SSE", () => {
  const fixture = rabbitSubscribeFixture(CRITICAL, "gw-sub");
  const { alertQueue } = fixture;
  let gateway: typeof fixture.gateway;
  let channel: typeof fixture.channel;
  beforeAll(() => {
    ({ gateway, channel } = fixture);
  });
  const serde = new RegistrySerde({ url: testEndpoints().registryUrl, autoRegister: true });

  const publishAlert = (key: string, overrides: Record<string, unknown> = {}) =>
    gateway.publish({ topic: CRITICAL, key, payload: criticalAlert(overrides) });

  async function depth(queue: string): Promise<number> {
    return (await channel.checkQueue(queue)).messageCount;
  }

  async function getOne(queue: string, timeoutMs = 10_000): Promise<GetMessage> {
    let message: GetMessage | false = false;
    await until(
      async () => {
        message = await channel.get(queue, { noAck: true });
        return message !== false;
      },
      `a message on ${queue}`,
      timeoutMs,
    );
    return message as unknown as GetMessage;
  }

  it("streams the decoded message; an ack removes it from the queue (204), a second ack is 409", async () => {
    const { queue, key } = await alertQueue();
    const stream = await gateway.subscribe(queue);
    expect(stream.status, stream.errorBody).toBe(200);
    expect(stream.headers["content-type"]).toMatch(/^text\/event-stream/);
    const { messageId } = await publishAlert(key, { title: "disk full" });

    const { id, data } = await stream.nextMessage();
    expect(data).toMatchObject({
      messageId,
      event: "kronos.gaia.CriticalAlert",
      key,
      redelivered: false,
      attempt: 1,
      payload: { title: "disk full", severity: "CRITICAL", raisedAt: "2024-05-01T12:00:00.000Z" },
    });
    expect(data.headers.producer).toBe("subscriber");
    expect((await gateway.settle("ack", id)).statusCode).toBe(204);
    const again = await gateway.settle("ack", id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "ALREADY_ACKED" });
    stream.close();
    await until(async () => (await depth(queue)) === 0, "the queue to be empty");
    const unknown = await gateway.settle("ack", "nope.1");
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: "UNKNOWN_HANDLE" });
  });

  it("deliveries are the subscribing identity's: a JWT whose sub equals an API key's principal id cannot settle them", async () => {
    // gateway.auth is a JWT with sub "subscriber"; this API-key principal has the same id.
    const { key: apiKey } = addPrincipal(gateway.app.principals.path, { id: "subscriber", acl: ["consume:*"] });
    const byKey = { "x-api-key": apiKey };
    const { queue, key } = await alertQueue();
    const stream = await gateway.subscribe(queue, {}, byKey);
    expect(stream.status, stream.errorBody).toBe(200);
    await publishAlert(key);
    const { id } = await stream.nextMessage();
    const byJwt = await gateway.settle("ack", id);
    expect(byJwt.statusCode).toBe(403);
    expect(byJwt.json()).toMatchObject({ code: "NOT_YOUR_DELIVERY" });
    const own = await gateway.app.inject({ method: "POST", url: `/ack/${encodeURIComponent(id)}`, headers: byKey });
    expect(own.statusCode, own.body).toBe(204);
    stream.close();

    // And the other way round: the JWT's deliveries are not the API key's.
    const jwtStream = await gateway.subscribe(queue);
    await publishAlert(key);
    const held = await jwtStream.nextMessage();
    const byApiKey = await gateway.app.inject({
      method: "POST",
      url: `/ack/${encodeURIComponent(held.id)}`,
      headers: byKey,
    });
    expect(byApiKey.statusCode).toBe(403);
    expect((await gateway.settle("ack", held.id)).statusCode).toBe(204);
    jwtStream.close();
  });

  it("gives an unacked message back when the client disconnects: the next subscriber gets it redelivered", async () => {
    const { queue, key } = await alertQueue();
    const first = await gateway.subscribe(queue);
    const { messageId } = await publishAlert(key);
    const held = await first.nextMessage();
    first.close();

    const second = await gateway.subscribe(queue);
    const { id, data } = await second.nextMessage();
    expect(data).toMatchObject({ messageId, redelivered: true, attempt: 1 });
    const stale = await gateway.settle("ack", held.id);
    expect(stale.statusCode).toBe(404);
    expect(stale.json()).toMatchObject({ code: "HANDLE_EXPIRED" });
    expect((await gateway.settle("ack", id)).statusCode).toBe(204);
    second.close();
  });

  it("redelivers a message whose lease expired, on the same stream", async () => {
    const { queue, key } = await alertQueue();
    const stream = await gateway.subscribe(queue, { leaseMs: 500 });
    expect(stream.status, stream.errorBody).toBe(200);
    expect(stream.headers["x-kronos-lease-ms"]).toBe("500");
    const { messageId } = await publishAlert(key);
    const first = await stream.nextMessage();
    const started = Date.now();
    const second = await stream.nextMessage();
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(second.data).toMatchObject({ messageId, redelivered: true });
    expect(second.id).not.toBe(first.id);
    expect((await gateway.settle("ack", first.id)).json()).toMatchObject({ code: "HANDLE_EXPIRED" });
    expect((await gateway.settle("ack", second.id)).statusCode).toBe(204);
    stream.close();
  });

  it("retries after the delay with attempt + 1, and the sixth failure lands in the dead-letter queue with every header", async () => {
    const { queue, key } = await alertQueue();
    const stream = await gateway.subscribe(queue);
    const { messageId } = await publishAlert(key);
    let delivery = await stream.nextMessage();
    const original = await channel.get(queue); // nothing else is waiting: the message is held by the gateway
    expect(original).toBe(false);
    for (let attempt = 1; attempt <= 5; attempt++) {
      expect(delivery.data).toMatchObject({ messageId, attempt });
      // Timed from before the settle: the delay starts when the copy is written, during the settle.
      const sent = Date.now();
      const retried = await gateway.settle("retry", delivery.id, { delayMs: 200, reason: `failure ${attempt}` });
      expect(retried.statusCode, retried.body).toBe(202);
      expect(retried.json()).toMatchObject({ messageId, outcome: "retried", attempt });
      delivery = await stream.nextMessage();
      // 200 ms is rounded up to the first retry tier (300 ms).
      expect(Date.now() - sent).toBeGreaterThanOrEqual(300);
      expect(delivery.data.headers["x-kronos-last-error"]).toBe(`failure ${attempt}`);
    }
    expect(delivery.data.attempt).toBe(6);
    const last = await gateway.settle("retry", delivery.id, { reason: "failure 6" });
    expect(last.json()).toMatchObject({ messageId, outcome: "dead-lettered", attempt: 6 });
    stream.close();

    const dead = await getOne(`${queue}.dlq`);
    const info = readDeadLetter(dead.properties.headers ?? {}, dead.properties);
    expect(info).toMatchObject({
      writer: "kronos",
      reason: "max-attempts",
      error: expect.stringMatching(/^failure 6/),
      broker: "rabbitmq",
      destination: CRITICAL,
      queue,
      routingKey: key,
      eventType: "kronos.gaia.CriticalAlert",
      attempts: 6,
      producer: "subscriber",
      messageId,
    });
    expect(info?.firstFailureMs).toBeLessThanOrEqual(info?.lastFailureMs ?? 0);
    expect(dead.properties.headers?.[DEAD_LETTER_HEADERS.consumer]).toBe("gateway:subscriber");
    // The original bytes, untouched: they decode to the published alert.
    expect(await serde.decode(CriticalAlertEvent, dead.content)).toMatchObject({ severity: "CRITICAL" });
    expect(await depth(queue)).toBe(0);
  });

  it("dead-letters a body that cannot be decoded (reason decode-failed) and the stream goes on", async () => {
    const { queue, key } = await alertQueue();
    const stream = await gateway.subscribe(queue);
    const garbage = Buffer.from([0, 0xff, 0xff, 0xff, 0xf0, 1, 2, 3]);
    channel.publish(CRITICAL, key, garbage, { messageId: "garbage-1", type: "kronos.gaia.CriticalAlert" });
    const { messageId } = await publishAlert(key);
    const next = await stream.nextMessage();
    expect(next.data.messageId).toBe(messageId);
    const dead = await getOne(`${queue}.dlq`);
    expect(dead.content.equals(garbage)).toBe(true);
    expect(readDeadLetter(dead.properties.headers ?? {}, dead.properties)).toMatchObject({
      reason: "decode-failed",
      errorCode: "SCHEMA_ID_NOT_FOUND",
      messageId: "garbage-1",
      queue,
    });
    // The comment follows the dead letter's confirm, which can come after the next message went out.
    await until(() => stream.comments.some((line) => line.includes("garbage-1")), "the dead-letter comment", 5000);
    stream.close();
  });

  it("delivers higher priorities first on a priority queue (prefetch 1)", async () => {
    const { queue, key } = await alertQueue({ maxPriority: 10 });
    for (const priority of [1, 9, 5]) {
      const bytes = await serde.encode(CriticalAlertEvent, alertValue(`p${priority}`, "priority test"));
      channel.publish(CRITICAL, key, bytes, { priority, messageId: `p${priority}`, type: "kronos.gaia.CriticalAlert" });
    }
    await until(async () => (await depth(queue)) === 3, "three messages queued");
    const stream = await gateway.subscribe(queue, { prefetch: 1 });
    expect(stream.status, stream.errorBody).toBe(200);
    expect(stream.headers["x-kronos-prefetch"]).toBe("1");
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { id, data } = await stream.nextMessage();
      order.push(String(data.messageId));
      expect((await gateway.settle("ack", id)).statusCode).toBe(204);
    }
    expect(order).toEqual(["p9", "p5", "p1"]);
    stream.close();
  });

  it("filters on key and headers before sending (the others are consumed); idle streams get heartbeats", async () => {
    const { queue, key } = await alertQueue();
    const stream = await gateway.subscribe(queue, { "header.tenant": "acme" });
    await gateway.publish({ topic: CRITICAL, key, payload: criticalAlert(), headers: { tenant: "other" } });
    const { messageId } = await gateway.publish({
      topic: CRITICAL,
      key,
      payload: criticalAlert(),
      headers: { tenant: "acme" },
    });
    const { data } = await stream.nextMessage();
    expect(data.messageId).toBe(messageId);
    expect(stream.pending).toBe(0);
    // An idle stream gets comment heartbeats (GATEWAY_SUBSCRIBE_HEARTBEAT_MS=1000 here).
    await until(() => stream.comments.includes("heartbeat"), "a heartbeat comment", 5000);
    stream.close();
  });

  it("does not count acks toward the principal's rate limit (each needs a delivery the gateway sent)", async () => {
    const limited = await listeningGateway({ GATEWAY_RATE_LIMIT_PER_MINUTE: "4" });
    try {
      const { queue, key } = await alertQueue();
      const stream = await limited.subscribe(queue); // counted: 1 of 4
      expect(stream.status, stream.errorBody).toBe(200);
      for (let i = 0; i < 5; i++) await publishAlert(key); // through the other gateway
      for (const { id } of await stream.messages(5)) expect((await limited.settle("ack", id)).statusCode).toBe(204);
      const whoami = () => limited.app.inject({ url: "/whoami", headers: limited.auth });
      for (let i = 0; i < 3; i++) expect((await whoami()).statusCode).toBe(200); // 2, 3, 4 of 4
      expect((await whoami()).statusCode).toBe(429);
      stream.close();
    } finally {
      await limited.app.close();
    }
  });

  it("answers 404 for a missing queue, 403 without consume, and 400 for Kafka-only parameters", async () => {
    const missing = await gateway.subscribe(uniqueName("gw-none"), { broker: "rabbitmq" });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.errorBody)).toMatchObject({ code: "SOURCE_NOT_FOUND" });
    const { queue } = await alertQueue();
    const forbidden = await gateway.subscribe(queue, {}, await bearer("nobody", ["consume:other.*"]));
    expect(forbidden.status).toBe(403);
    const invalid = await gateway.subscribe(queue, { group: "g1" });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.errorBody)).toMatchObject({ code: "INVALID_QUERY" });
  });
});
