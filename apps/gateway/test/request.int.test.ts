import { randomUUID } from "node:crypto";
import { RegistrySerde } from "@kronos/contracts";
import { LogEntryEvent } from "@kronos/events-log";
import { AsyncRequestEvent, AsyncResponseEvent } from "@kronos/events-router";
import { TestResources, testEndpoints } from "@kronos/testkit";
import {
  AmqpConnectionManager,
  type AmqpResponder,
  createKafkaConnection,
  type KafkaConnection,
  type KafkaResponder,
  serveAmqpRequests,
  serveKafkaRequests,
} from "@kronos/transport";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { asyncRequest, bearer } from "./publish-helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;

const ROUTER = "kronos.router";
const LOG_TOPIC = "kronos.log.entries";
const REPLY_TOPIC = "kronos.gateway.replies";
const endpoints = testEndpoints();
const resources = new TestResources();
const serde = new RegistrySerde({ url: endpoints.registryUrl, autoRegister: true });

/** A valid `kronos.log.LogEntry` as JSON. */
function logEntry(message: string): Record<string, unknown> {
  return {
    meta: { eventId: randomUUID(), occurredAt: Date.now(), producer: "test", correlationId: null, traceparent: null },
    timestamp: "2024-05-01T12:00:00.000Z",
    level: "INFO",
    service: "request-test",
    instance: "i-1",
    logger: "test",
    message,
    attributes: {},
    traceId: null,
    spanId: null,
  };
}

describe("POST /request", () => {
  let app: App;
  let client: Record<string, string>;
  let plain: ChannelModel;
  let channel: Channel;
  let manager: AmqpConnectionManager;
  let kafka: KafkaConnection;
  const responders: Array<AmqpResponder | KafkaResponder> = [];
  // Every request the responders saw, by correlation id: proves what was (not) sent.
  const seen = new Set<string>();
  // Services (routing keys request.<service>) with a queue and a responder, and one with a queue and none.
  const service = `echo-${randomUUID()}`;
  const garbage = `garbage-${randomUUID()}`;
  const silent = `silent-${randomUUID()}`;

  /** A queue of `kronos.router` bound with `request.<toService>`. */
  async function routerQueue(toService: string): Promise<string> {
    const queue = resources.queue("gw-request");
    await channel.assertQueue(queue, { durable: false });
    await channel.bindQueue(queue, ROUTER, `request.${toService}`);
    return queue;
  }

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile());
    await app.ready();
    client = await bearer("router-client", [`produce:${ROUTER}`, `produce:${LOG_TOPIC}`]);
    plain = await amqplib.connect(endpoints.rabbitmqUrl);
    plain.on("error", () => {});
    channel = await plain.createChannel();
    manager = new AmqpConnectionManager({ url: endpoints.rabbitmqUrl, name: "gw-request-test-responder" });
    manager.start();
    kafka = createKafkaConnection({ brokers: endpoints.kafkaBrokers.split(","), clientId: "gw-request-test" });

    // The router's contract: AsyncRequest in, AsyncResponse out, the request's body echoed after "pong:".
    const echo = serveAmqpRequests(manager, { queue: await routerQueue(service), prefetch: 64 }, async (request) => {
      if (request.correlationId !== undefined) seen.add(request.correlationId);
      const asked = await serde.decode(AsyncRequestEvent, request.body);
      const response = await serde.encode(AsyncResponseEvent, {
        meta: {
          eventId: randomUUID(),
          occurredAt: new Date(),
          producer: asked.toService,
          correlationId: null,
          traceparent: null,
        },
        requestId: asked.requestId,
        fromService: asked.toService,
        toService: asked.fromService,
        replyTo: request.replyTo ?? "",
        status: "OK",
        errorCode: null,
        errorMessage: null,
        contentType: "text/plain",
        body: Buffer.concat([Buffer.from("pong:"), asked.body]),
        durationMillis: 1,
      });
      return { content: response, type: AsyncResponseEvent.name, headers: { served: "yes" } };
    });
    // Answers with bytes that are no Avro at all.
    const bad = serveAmqpRequests(manager, { queue: await routerQueue(garbage) }, async () => ({
      content: Buffer.from("not avro"),
      type: AsyncResponseEvent.name,
    }));
    await routerQueue(silent);
    // A LogEntry echo on a manifest topic; the gateway's own publishes without reply-to are left alone.
    const logEcho = serveKafkaRequests(
      kafka,
      { topic: LOG_TOPIC, groupId: resources.topic("gw-request-responder") },
      async (request) => {
        if (request.replyTo === undefined) return null;
        if (request.correlationId !== undefined) seen.add(request.correlationId);
        if (request.headers["no-answer"] === "1") return null;
        const entry = await serde.decode(LogEntryEvent, request.body);
        const reply = await serde.encode(LogEntryEvent, {
          ...entry,
          level: "DEBUG",
          message: `echo: ${entry.message}`,
        });
        return { content: reply, type: LogEntryEvent.name };
      },
    );
    responders.push(echo, bad, logEcho);
    await Promise.all(responders.map((r) => r.ready));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(responders.map((r) => r.close()));
    await app?.close();
    await manager?.close();
    await kafka?.close();
    await resources.cleanup();
    await plain?.close().catch(() => {});
  });

  const send = (body: unknown, headers: Record<string, string> = client) =>
    app.inject({ method: "POST", url: "/request", headers, payload: body as object });

  it("RabbitMQ: 200 with the AsyncResponse decoded to JSON, through kronos.router and direct reply-to", async () => {
    const payload = asyncRequest(service, Buffer.from("ping").toString("base64"));
    const response = await send({ topic: ROUTER, event: AsyncRequestEvent.name, payload, timeoutMs: 5000 });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.messageId).toMatch(/^[0-9a-f-]{36}$/);
    // Default correlation id: the message id.
    expect(body.correlationId).toBe(body.messageId);
    expect(body.reply.event).toBe("kronos.router.AsyncResponse");
    expect(body.reply.headers).toMatchObject({
      "correlation-id": body.correlationId,
      "event-type": "kronos.router.AsyncResponse",
      served: "yes",
    });
    expect(body.reply.payload).toMatchObject({
      requestId: payload.requestId,
      fromService: service,
      toService: "gateway",
      status: "OK",
      errorCode: null,
      contentType: "text/plain",
      body: Buffer.from("pong:ping").toString("base64"),
      durationMillis: 1,
    });
    expect(body.reply.payload.meta.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T.*Z$/);
    expect(seen.has(body.correlationId)).toBe(true);
  });

  it("Kafka: 200 with the reply read from the gateway's reply topic (created at start)", async () => {
    const correlationId = `kafka-${randomUUID()}`;
    const response = await send({
      topic: LOG_TOPIC,
      payload: logEntry("hello"),
      headers: { "correlation-id": correlationId },
      timeoutMs: 10_000,
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.correlationId).toBe(correlationId);
    expect(body.reply.event).toBe("kronos.log.LogEntry");
    expect(body.reply.headers["correlation-id"]).toBe(correlationId);
    expect(body.reply.payload).toMatchObject({ level: "DEBUG", message: "echo: hello", service: "request-test" });
    expect(body.reply.payload.timestamp).toBe("2024-05-01T12:00:00.000Z");
    expect(await kafkaTopics()).toContain(REPLY_TOPIC);
  }, 30_000);

  it("504 REPLY_TIMEOUT when nobody answers in time, on either broker", async () => {
    const started = Date.now();
    const onRabbit = await send({
      topic: ROUTER,
      event: AsyncRequestEvent.name,
      payload: asyncRequest(silent),
      timeoutMs: 500,
    });
    expect(onRabbit.statusCode, onRabbit.body).toBe(504);
    expect(onRabbit.json()).toEqual({ code: "REPLY_TIMEOUT", message: expect.stringContaining("500 ms") });
    expect(Date.now() - started).toBeLessThan(500 + 1500);

    const correlationId = `quiet-${randomUUID()}`;
    const onKafka = await send({
      topic: LOG_TOPIC,
      payload: logEntry("anyone?"),
      headers: { "correlation-id": correlationId, "no-answer": "1" },
      timeoutMs: 1000,
    });
    expect(onKafka.statusCode, onKafka.body).toBe(504);
    expect(onKafka.json().code).toBe("REPLY_TIMEOUT");
    // It was sent (the responder saw it), just not answered.
    expect(seen.has(correlationId)).toBe(true);
  }, 20_000);

  it("100 concurrent requests on each broker each get their own reply", async () => {
    const numbers = Array.from({ length: 100 }, (_, i) => i);
    const [rabbit, kafkaAnswers] = await Promise.all([
      Promise.all(
        numbers.map((n) =>
          send({
            topic: ROUTER,
            event: AsyncRequestEvent.name,
            payload: asyncRequest(service, Buffer.from(`n=${n}`).toString("base64")),
            timeoutMs: 20_000,
          }),
        ),
      ),
      Promise.all(numbers.map((n) => send({ topic: LOG_TOPIC, payload: logEntry(`n=${n}`), timeoutMs: 20_000 }))),
    ]);
    for (const [n, response] of rabbit.entries()) {
      expect(response.statusCode, response.body).toBe(200);
      expect(Buffer.from(response.json().reply.payload.body, "base64").toString()).toBe(`pong:n=${n}`);
    }
    for (const [n, response] of kafkaAnswers.entries()) {
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json().reply.payload.message).toBe(`echo: n=${n}`);
    }
  }, 60_000);

  it("403 without produce on the topic; nothing sent", async () => {
    const correlationId = `forbidden-${randomUUID()}`;
    const logWriter = await bearer("log-writer", ["produce:kronos.log.*"]);
    const response = await send(
      {
        topic: ROUTER,
        event: AsyncRequestEvent.name,
        payload: asyncRequest(service),
        headers: { "correlation-id": correlationId },
      },
      logWriter,
    );
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({
      code: "FORBIDDEN",
      message: 'Principal "log-writer" lacks the right "produce:kronos.router"',
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.has(correlationId)).toBe(false);
  });

  it("422 VALIDATION_FAILED on an invalid payload, on either broker; nothing sent", async () => {
    const queue = await routerQueue(`invalid-${randomUUID()}`);
    const onRabbit = await send({
      topic: ROUTER,
      event: AsyncRequestEvent.name,
      payload: { ...asyncRequest(`invalid-${randomUUID()}`), deadline: "tomorrow", body: "not base64!" },
    });
    expect(onRabbit.statusCode, onRabbit.body).toBe(422);
    expect(onRabbit.json().code).toBe("VALIDATION_FAILED");
    expect(
      onRabbit
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(["body", "deadline"]);
    const correlationId = `invalid-${randomUUID()}`;
    const onKafka = await send({
      topic: LOG_TOPIC,
      payload: { ...logEntry("x"), level: "LOUD" },
      headers: { "correlation-id": correlationId },
    });
    expect(onKafka.statusCode, onKafka.body).toBe(422);
    expect(onKafka.json().errors).toEqual([{ path: "level", message: expect.any(String) }]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(seen.has(correlationId)).toBe(false);
    expect((await channel.checkQueue(queue)).messageCount).toBe(0);
  });

  it("422 UNROUTABLE at once when no queue takes the request", async () => {
    const started = Date.now();
    const response = await send({
      topic: ROUTER,
      event: AsyncRequestEvent.name,
      payload: asyncRequest(`nobody-${randomUUID()}`),
      timeoutMs: 10_000,
    });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json()).toEqual({ code: "UNROUTABLE", message: expect.stringContaining("request.nobody-") });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("502 REPLY_DECODE_FAILED when the reply is not Avro in the Confluent frame", async () => {
    const response = await send({ topic: ROUTER, event: AsyncRequestEvent.name, payload: asyncRequest(garbage) });
    expect(response.statusCode, response.body).toBe(502);
    expect(response.json()).toEqual({ code: "REPLY_DECODE_FAILED", message: expect.any(String) });
  });

  it("409 when a request with the same correlation id is still waiting; 400 for timeoutMs above the cap", async () => {
    const correlationId = `dup-${randomUUID()}`;
    const request = () =>
      send({
        topic: ROUTER,
        event: AsyncRequestEvent.name,
        payload: asyncRequest(silent),
        headers: { "correlation-id": correlationId },
        timeoutMs: 500,
      });
    const statuses = (await Promise.all([request(), request()])).map((r) => r.statusCode).sort();
    expect(statuses).toEqual([409, 504]);
    const tooLong = await send({ topic: ROUTER, event: AsyncRequestEvent.name, payload: {}, timeoutMs: 60_001 });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().code).toBe("INVALID_REQUEST");
  });

  it("metrics count requests by topic, broker and outcome, with a latency histogram", async () => {
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(
      /gateway_requests_total\{[^}]*topic="kronos.router",broker="rabbitmq",outcome="answered"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(
      /gateway_requests_total\{[^}]*topic="kronos.log.entries",broker="kafka",outcome="answered"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(/gateway_requests_total\{[^}]*broker="rabbitmq",outcome="no_reply"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/gateway_requests_total\{[^}]*outcome="invalid"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/gateway_requests_total\{[^}]*outcome="bad_reply"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/gateway_request_duration_seconds_bucket\{[^}]*broker="kafka",outcome="answered"/);
  });
});

/** The topics of the local Kafka. */
async function kafkaTopics(): Promise<string[]> {
  const admin = new Kafka({ brokers: endpoints.kafkaBrokers.split(","), logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}
