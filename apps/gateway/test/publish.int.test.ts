import { randomUUID } from "node:crypto";
import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { AsyncRequestEvent } from "@kronos/events-router";
import { testEndpoints } from "@kronos/testkit";
import type { GetMessage } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { asyncRequest, bearer, criticalAlert, plainClients } from "./publish-helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;
type Clients = Awaited<ReturnType<typeof plainClients>>;

const ALERTS = "kronos.gaia.alerts";
const CRITICAL = "kronos.gaia.critical";
const ROUTER = "kronos.router";

async function getOne(clients: Clients, queue: string, timeoutMs = 5000): Promise<GetMessage> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const message = await clients.channel.get(queue, { noAck: true });
    if (message) return message;
    if (Date.now() > until) throw new Error(`no message on ${queue} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("POST /publish", () => {
  let app: App;
  let clients: Clients;
  let producer: Record<string, string>;
  const serde = new RegistrySerde({ url: testEndpoints().registryUrl });

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), { GATEWAY_PUBLISH_TIMEOUT_MS: "5000" });
    await app.ready();
    clients = await plainClients();
    producer = await bearer("gaia-service", ["produce:kronos.gaia.*", "produce:kronos.router"]);
  });
  afterAll(async () => {
    await clients?.close();
    await app?.close();
  });

  const publish = (body: unknown, headers: Record<string, string> = producer) =>
    app.inject({ method: "POST", url: "/publish", headers, payload: body as object });

  it("Kafka: 202 after the ack, and the record holds the Confluent frame, the Avro payload and the headers", async () => {
    const payload = criticalAlert();
    const before = await clients.endOffsets(ALERTS);
    const response = await publish(
      { topic: ALERTS, payload, headers: { "correlation-id": "corr-1", tenant: "acme" } },
      { ...producer, traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
    );
    expect(response.statusCode, response.body).toBe(202);
    const body = response.json();
    expect(body).toMatchObject({ topic: ALERTS, broker: "kafka" });
    expect(body.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof body.partition).toBe("number");
    expect(await clients.endOffsets(ALERTS)).toBe(before + 1);

    const consumer = clients.kafka.consumer({ groupId: `gw-publish-test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: ALERTS, fromBeginning: false });
    const record = await new Promise<{ value: Buffer; headers: Record<string, string>; key: string }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("record not read")), 20_000);
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            if (partition !== body.partition || message.offset !== body.offset) return;
            clearTimeout(timer);
            const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
            resolve({ value: message.value as Buffer, headers, key: String(message.key) });
          },
        });
        consumer.on(consumer.events.GROUP_JOIN, () => {
          consumer.seek({ topic: ALERTS, partition: body.partition, offset: body.offset });
        });
      },
    ).finally(() => consumer.disconnect());

    expect(record.value[0]).toBe(0);
    const schemaId = record.value.readUInt32BE(1);
    expect(schemaId).toBe(await serde.schemaId(CriticalAlertEvent));
    const decoded = await serde.decode(CriticalAlertEvent, record.value);
    expect(decoded.alertId).toBe(payload.alertId);
    expect(decoded.meta.occurredAt.toISOString()).toBe("2024-05-01T12:00:00.000Z");
    expect(decoded.raisedAt.getTime()).toBe(1714564800000);
    expect(decoded.labels).toEqual({ region: "eu" });
    expect(record.key).toBe(payload.fingerprint); // the manifest's key field
    expect(record.headers).toMatchObject({
      "message-id": body.messageId,
      "event-type": "kronos.gaia.CriticalAlert",
      "content-type": "application/vnd.kronos.avro",
      "correlation-id": "corr-1",
      producer: "gaia-service",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      tenant: "acme",
    });
    expect(Number(record.headers.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    // CloudEvents, Kafka binding, binary mode: the same values again under ce_*.
    expect(record.headers).toMatchObject({
      ce_specversion: "1.0",
      ce_id: body.messageId,
      ce_type: "kronos.gaia.CriticalAlert",
      ce_source: "/kronos/producers/gaia-service",
      ce_time: new Date(Number(record.headers.timestamp)).toISOString(),
      ce_traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    });
  });

  it("RabbitMQ: 202 after the confirm; the message carries the frame, AMQP properties and headers", async () => {
    const key = `alert.test.${randomUUID()}`;
    const queue = await clients.bindQueue(CRITICAL, key);
    const payload = criticalAlert();
    const messageId = randomUUID();
    const response = await publish({ topic: CRITICAL, key, payload, headers: { "message-id": messageId } });
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toEqual({ messageId, topic: CRITICAL, broker: "rabbitmq" });

    const message = await getOne(clients, queue);
    expect(message.properties).toMatchObject({
      messageId,
      type: "kronos.gaia.CriticalAlert",
      contentType: "application/vnd.kronos.avro",
      correlationId: messageId,
      deliveryMode: 2,
    });
    expect(message.properties.headers).toMatchObject({
      producer: "gaia-service",
      "event-type": "kronos.gaia.CriticalAlert",
      // CloudEvents, AMQP binding, binary mode (its JMS-compatible prefix): the same values again.
      cloudEvents_specversion: "1.0",
      cloudEvents_id: messageId,
      cloudEvents_type: "kronos.gaia.CriticalAlert",
      cloudEvents_source: "/kronos/producers/gaia-service",
    });
    expect(message.properties.headers?.cloudEvents_time).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(message.fields.routingKey).toBe(key);
    expect(message.content[0]).toBe(0);
    const decoded = await serde.decode(CriticalAlertEvent, message.content);
    expect(decoded.alertId).toBe(payload.alertId);
  });

  it("RabbitMQ: the default routing key is the manifest's template filled from the payload", async () => {
    const service = `svc-${randomUUID()}`;
    const queue = await clients.bindQueue(CRITICAL, `alert.MAJOR.${service}`);
    const response = await publish({
      topic: CRITICAL,
      payload: criticalAlert({ severity: "MAJOR", sourceService: service }),
    });
    expect(response.statusCode, response.body).toBe(202);
    const message = await getOne(clients, queue);
    expect(message.fields.routingKey).toBe(`alert.MAJOR.${service}`);
  });

  it("422 lists every violation (three here) and writes nothing to either broker", async () => {
    const key = `alert.test.${randomUUID()}`;
    const queue = await clients.bindQueue(CRITICAL, key);
    const invalid = criticalAlert({ severity: "APOCALYPTIC", raisedAt: "yesterday", title: 42 });
    const kafkaBefore = await clients.endOffsets(ALERTS);

    const onKafka = await publish({ topic: ALERTS, payload: invalid });
    const onRabbit = await publish({ topic: CRITICAL, key, payload: invalid });
    for (const response of [onKafka, onRabbit]) {
      expect(response.statusCode, response.body).toBe(422);
      const body = response.json();
      expect(body.code).toBe("VALIDATION_FAILED");
      expect(body.errors).toHaveLength(3);
      expect(body.errors.map((e: { path: string }) => e.path).sort()).toEqual(["raisedAt", "severity", "title"]);
      for (const error of body.errors) expect(error.message).toEqual(expect.any(String));
    }
    const missing = await publish({ topic: ALERTS, payload: { ...invalid, meta: { producer: "gaia" } } });
    expect(missing.json().errors.map((e: { path: string }) => e.path)).toEqual(
      expect.arrayContaining(["meta.eventId", "meta.occurredAt"]),
    );
    expect(await clients.endOffsets(ALERTS)).toBe(kafkaBefore);
    expect(await clients.depth(queue)).toBe(0);
  });

  it("bytes are base64 and conversion problems have paths", async () => {
    const bad = await publish({
      topic: ROUTER,
      event: "kronos.router.AsyncRequest",
      payload: asyncRequest("x", "not base64!"),
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([{ path: "body", message: expect.stringContaining("base64") }]);
  });

  it("403 without produce on the topic; nothing written", async () => {
    const before = await clients.endOffsets(ALERTS);
    const logWriter = await bearer("log-writer", ["produce:kronos.log.*"]);
    const response = await publish({ topic: ALERTS, payload: criticalAlert() }, logWriter);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({
      code: "FORBIDDEN",
      message: 'Principal "log-writer" lacks the right "produce:kronos.gaia.alerts"',
    });
    const anonymous = await app.inject({ method: "POST", url: "/publish", payload: { topic: ALERTS, payload: {} } });
    expect(anonymous.statusCode).toBe(401);
    expect(await clients.endOffsets(ALERTS)).toBe(before);
  });

  it("400/404 for requests that cannot be routed, each with a code", async () => {
    const all = await bearer("all", ["produce:*"]);
    const cases: Array<[unknown, number, string]> = [
      [{ topic: ALERTS, priority: 3, payload: criticalAlert() }, 400, "PRIORITY_NOT_SUPPORTED"],
      [{ topic: CRITICAL, priority: 3, payload: criticalAlert() }, 400, "PRIORITY_NOT_SUPPORTED"],
      [
        { topic: ROUTER, event: "kronos.router.AsyncRequest", priority: 11, payload: asyncRequest("auth") },
        400,
        "PRIORITY_OUT_OF_RANGE",
      ],
      [{ topic: "kronos.nowhere", payload: {} }, 404, "UNKNOWN_TOPIC"],
      [{ topic: "kronos.auth.events", payload: {} }, 400, "EVENT_REQUIRED"],
      [{ topic: ALERTS, event: "kronos.log.LogEntry", payload: {} }, 400, "EVENT_NOT_ON_TOPIC"],
      [{ topic: "kronos.messaging.dead-letters", payload: {} }, 400, "AMBIGUOUS_TOPIC"],
      [{ topic: ALERTS, payload: criticalAlert(), headers: { producer: "me" } }, 400, "RESERVED_HEADER"],
      [{ topic: ALERTS }, 400, "INVALID_REQUEST"],
      [{ topic: ALERTS, payload: criticalAlert(), extra: 1 }, 400, "INVALID_REQUEST"],
    ];
    for (const [body, status, code] of cases) {
      const response = await publish(body, all);
      expect(response.statusCode, `${JSON.stringify(body).slice(0, 80)} → ${response.body}`).toBe(status);
      expect(response.json().code).toBe(code);
    }
  });

  it("priority: a priority queue of the exchange delivers the highest priority first", async () => {
    const service = `prio-${randomUUID()}`;
    const queue = await clients.bindQueue(ROUTER, `request.${service}`, 10);
    const ids: Record<number, string> = {};
    for (const priority of [1, 9, 5]) {
      const response = await publish({
        topic: ROUTER,
        event: "kronos.router.AsyncRequest",
        priority,
        payload: asyncRequest(service),
      });
      expect(response.statusCode, response.body).toBe(202);
      ids[priority] = response.json().messageId;
    }
    const order: string[] = [];
    for (let i = 0; i < 3; i++) order.push(String((await getOne(clients, queue)).properties.messageId));
    expect(order).toEqual([ids[9], ids[5], ids[1]]);
  });

  it("an unroutable RabbitMQ message is 422 UNROUTABLE, not 202", async () => {
    const response = await publish({
      topic: ROUTER,
      event: "kronos.router.AsyncRequest",
      payload: asyncRequest(`nobody-${randomUUID()}`),
    });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json()).toEqual({ code: "UNROUTABLE", message: expect.stringContaining("request.nobody-") });
  });

  it("the decoded RabbitMQ payload keeps bytes and timestamps", async () => {
    const service = `bytes-${randomUUID()}`;
    const queue = await clients.bindQueue(ROUTER, `request.${service}`);
    const payload = asyncRequest(service, Buffer.from("héllo").toString("base64"));
    const response = await publish({ topic: ROUTER, event: "kronos.router.AsyncRequest", payload });
    expect(response.statusCode, response.body).toBe(202);
    const decoded = await serde.decode(AsyncRequestEvent, (await getOne(clients, queue)).content);
    expect(decoded.body.toString()).toBe("héllo");
    expect(decoded.deadline.toISOString()).toBe(payload.deadline);
  });

  it("metrics count publishes by topic, broker and outcome, and validation failures by event", async () => {
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(
      /gateway_publishes_total\{[^}]*topic="kronos.gaia.alerts",broker="kafka",outcome="accepted"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(
      /gateway_publishes_total\{[^}]*topic="kronos.router",broker="rabbitmq",outcome="unroutable"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(/gateway_validation_failures_total\{[^}]*event="kronos.gaia.CriticalAlert"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/gateway_publish_duration_seconds_bucket\{[^}]*broker="kafka"/);
  });
});

describe("POST /publish with RabbitMQ unreachable", () => {
  let app: App;
  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), {
      RABBITMQ_URL: "amqp://guest:guest@127.0.0.1:1",
      GATEWAY_PUBLISH_TIMEOUT_MS: "2000",
    });
    await app.ready();
  }, 30_000);
  afterAll(async () => {
    await app?.close();
  });

  it("answers 503 with Retry-After within the timeout; Kafka still works", async () => {
    const headers = await bearer("gaia-service", ["produce:kronos.gaia.*"]);
    const started = Date.now();
    const response = await app.inject({
      method: "POST",
      url: "/publish",
      headers,
      payload: { topic: CRITICAL, key: "alert.x", payload: criticalAlert() },
    });
    expect(Date.now() - started).toBeLessThan(2500);
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers["retry-after"]).toBe("5");
    // The product's words, never amqplib's (ECONNREFUSED, "Channel closed", ...).
    expect(response.json()).toEqual({
      code: "RABBITMQ_UNAVAILABLE",
      message:
        'RabbitMQ exchange "kronos.gaia.critical" cannot take the message right now: RabbitMQ is not connected or ' +
        "refused the channel; try again later",
    });
    const kafka = await app.inject({
      method: "POST",
      url: "/publish",
      headers,
      payload: { topic: ALERTS, payload: criticalAlert() },
    });
    expect(kafka.statusCode, kafka.body).toBe(202);
  });
});
