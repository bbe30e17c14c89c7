import { randomUUID } from "node:crypto";
import { freePort, type ServerProcess } from "@kronos/app-kit/testing";
import type { EventDescriptor } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { LogEntryEvent } from "@kronos/events-log";
import { testEndpoints } from "@kronos/testkit";
import amqplib, { type GetMessage } from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addPrincipal, startGatewayProcess, tempPrincipalsFile } from "./helpers.js";
import { criticalAlert } from "./publish-helpers.js";

// The built gateway, as `npm start` runs it, driven over real HTTP; its messages are read back with plain clients.
const LOG_TOPIC = "kronos.log.entries";
const CRITICAL = "kronos.gaia.critical";
const endpoints = testEndpoints();

/** The id the registry gives the latest version of `subject` (the Confluent-compatible API, no client library). */
async function registryId(subject: string): Promise<number> {
  const response = await fetch(`${endpoints.registryUrl}/subjects/${encodeURIComponent(subject)}/versions/latest`);
  expect(response.status, `registry lookup of ${subject}`).toBe(200);
  return ((await response.json()) as { id: number }).id;
}

/** Checks the Confluent frame (magic 0, the registry's schema id) and returns the decoded Avro body. */
async function unframe<T>(event: EventDescriptor<T>, bytes: Buffer): Promise<T> {
  expect(bytes.length).toBeGreaterThan(5);
  expect(bytes[0]).toBe(0);
  expect(bytes.readUInt32BE(1)).toBe(await registryId(event.subject));
  return event.decode(bytes.subarray(5));
}

function logEntry(service: string): Record<string, unknown> {
  return {
    meta: {
      eventId: randomUUID(),
      occurredAt: "2024-05-01T12:00:00.000Z",
      producer: service,
      correlationId: null,
      traceparent: null,
    },
    timestamp: 1714564800123,
    level: "WARN",
    service,
    instance: "pod-7",
    logger: "e2e.http",
    message: "slow upstream: 812 ms",
    attributes: { route: "/users/:id", status: "200" },
    traceId: null,
    spanId: null,
  };
}

describe("the built gateway, end to end over HTTP", () => {
  let server: ServerProcess;
  let base: string;
  let apiKey: string;
  const principal = `e2e-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    // The key is made the way operators make it: with the principals CLI, into a file of the test's own.
    const principalsFile = tempPrincipalsFile();
    apiKey = addPrincipal(principalsFile, principal, `produce:${LOG_TOPIC},produce:${CRITICAL}`);
    expect(apiKey).toMatch(/^kgw_/);

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = await startGatewayProcess(port, principalsFile);
  });
  afterAll(() => {
    server?.kill("SIGKILL");
  });

  const publish = (body: unknown) =>
    fetch(`${base}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": apiKey },
      body: JSON.stringify(body),
    });

  it("reports every broker connected in /metrics while ready", async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    for (const broker of ["kafka", "rabbitmq", "registry"]) {
      expect(text).toMatch(new RegExp(`^gateway_broker_connected\\{[^}]*broker="${broker}"[^}]*\\} 1$`, "m"));
    }
  });

  it("Kafka: the record at the 202's partition and offset holds the frame, the payload and the headers", async () => {
    const service = `e2e-svc-${randomUUID().slice(0, 8)}`;
    const payload = logEntry(service);
    const response = await publish({ topic: LOG_TOPIC, payload });
    const body = (await response.json()) as { messageId: string; partition: number; offset: string };
    expect(response.status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({ topic: LOG_TOPIC, broker: "kafka", messageId: expect.any(String) });

    const kafka = new Kafka({
      clientId: `gw-e2e-${randomUUID()}`,
      brokers: endpoints.kafkaBrokers.split(","),
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({ groupId: `gw-e2e-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: LOG_TOPIC, fromBeginning: false });
    const record = await new Promise<{ value: Buffer; key: string; headers: Record<string, string> }>(
      (resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("the record was not read within 30 s")), 30_000);
        consumer.on(consumer.events.GROUP_JOIN, () => {
          consumer.seek({ topic: LOG_TOPIC, partition: body.partition, offset: body.offset });
        });
        void consumer.run({
          eachMessage: async ({ partition, message }) => {
            if (partition !== body.partition || message.offset !== body.offset) return;
            clearTimeout(timer);
            const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
            resolve({ value: message.value as Buffer, key: String(message.key), headers });
          },
        });
      },
    ).finally(() => consumer.disconnect());

    const decoded = await unframe(LogEntryEvent, record.value);
    expect(decoded).toEqual({
      ...payload,
      meta: { ...(payload.meta as object), occurredAt: new Date("2024-05-01T12:00:00.000Z") },
      timestamp: new Date(1714564800123),
    });
    expect(record.key).toBe(service); // the manifest's partition key field
    expect(record.headers).toMatchObject({
      "message-id": body.messageId,
      "event-type": "kronos.log.LogEntry",
      "content-type": "application/vnd.kronos.avro",
      producer: principal,
    });
  });

  it("RabbitMQ: the message routed by the manifest's key holds the frame, the payload and the properties", async () => {
    const sourceService = `e2e-${randomUUID().slice(0, 8)}`;
    const connection = await amqplib.connect(endpoints.rabbitmqUrl);
    try {
      const channel = await connection.createChannel();
      const { queue } = await channel.assertQueue("", { exclusive: true, autoDelete: true });
      // The gateway's default routing key is the template alert.{severity}.{sourceService}.
      await channel.bindQueue(queue, CRITICAL, `alert.CRITICAL.${sourceService}`);

      const payload = criticalAlert({ sourceService });
      const response = await publish({ topic: CRITICAL, payload });
      const body = (await response.json()) as { messageId: string };
      expect(response.status, JSON.stringify(body)).toBe(202);
      expect(body).toEqual({ messageId: expect.any(String), topic: CRITICAL, broker: "rabbitmq" });

      let message: GetMessage | false = false;
      for (const until = Date.now() + 10_000; !message && Date.now() < until; ) {
        message = await channel.get(queue, { noAck: true });
        if (!message) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!message) throw new Error(`no message on ${queue} within 10 s`);
      expect(message.fields.exchange).toBe(CRITICAL);
      expect(message.fields.routingKey).toBe(`alert.CRITICAL.${sourceService}`);
      expect(message.properties).toMatchObject({
        messageId: body.messageId,
        type: "kronos.gaia.CriticalAlert",
        contentType: "application/vnd.kronos.avro",
        deliveryMode: 2,
      });
      expect(message.properties.headers).toMatchObject({
        "event-type": "kronos.gaia.CriticalAlert",
        producer: principal,
      });
      const decoded = await unframe(CriticalAlertEvent, message.content);
      expect(decoded).toEqual({
        ...payload,
        meta: { ...(payload.meta as object), occurredAt: new Date("2024-05-01T12:00:00.000Z") },
        raisedAt: new Date(1714564800000),
      });
    } finally {
      await connection.close().catch(() => {});
    }
  });

  it("SIGTERM: the process finishes and exits 0", async () => {
    server.kill("SIGTERM");
    const exit = await server.exited;
    expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
  });
});
