import { randomUUID } from "node:crypto";
import { testEndpoints } from "@kronos/testkit";
import amqplib from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { hsToken } from "./helpers.js";

/** A valid `kronos.gaia.CriticalAlert` as JSON, with unique ids; `overrides` replace top-level fields. */
export function criticalAlert(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    meta: {
      eventId: randomUUID(),
      occurredAt: "2024-05-01T12:00:00.000Z",
      producer: "gaia",
      correlationId: null,
      traceparent: null,
    },
    alertId: randomUUID(),
    severity: "CRITICAL",
    sourceService: "auth",
    fingerprint: `fp-${randomUUID()}`,
    title: "Login failures above 50/min",
    description: "Gaia saw 73 failed logins in the last minute.",
    labels: { region: "eu" },
    raisedAt: 1714564800000,
    runbookUrl: null,
    ...overrides,
  };
}

/**
 * A valid `kronos.gaia.CriticalAlert` as the Avro JS value the serde encodes (dates as Date), titled `title`, with
 * fingerprint `fp-<title>` and unique ids.
 */
export function alertValue(title: string, description = "test alert") {
  return {
    meta: { eventId: randomUUID(), occurredAt: new Date(), producer: "test", correlationId: null, traceparent: null },
    alertId: randomUUID(),
    severity: "CRITICAL" as const,
    sourceService: "auth",
    fingerprint: `fp-${title}`,
    title,
    description,
    labels: {},
    raisedAt: new Date(),
    runbookUrl: null,
  };
}

/** A valid `kronos.router.AsyncRequest` for `toService` as JSON. */
export function asyncRequest(toService: string, body = "aGVsbG8="): Record<string, unknown> {
  return {
    meta: {
      eventId: randomUUID(),
      occurredAt: Date.now(),
      producer: "gateway",
      correlationId: null,
      traceparent: null,
    },
    requestId: randomUUID(),
    fromService: "gateway",
    toService,
    operation: "user.get",
    replyTo: `reply.gateway.${randomUUID()}`,
    deadline: new Date(Date.now() + 60_000).toISOString(),
    headers: {},
    contentType: "application/json",
    body,
  };
}

/** `Authorization` header of a JWT principal `sub` with `acl`. */
export async function bearer(sub: string, acl: readonly string[]): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await hsToken(sub, acl)}` };
}

/** Plain clients on the test stack: a kafkajs admin for end offsets, an amqplib channel. */
export async function plainClients() {
  const endpoints = testEndpoints();
  const kafka = new Kafka({
    clientId: `gw-publish-test-${randomUUID()}`,
    brokers: endpoints.kafkaBrokers.split(","),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const connection = await amqplib.connect(endpoints.rabbitmqUrl);
  const channel = await connection.createChannel();
  return {
    kafka,
    admin,
    channel,
    /** Sum of the end offsets of every partition of `topic`. */
    async endOffsets(topic: string): Promise<number> {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high), 0);
    },
    /** A fresh exclusive queue bound to `exchange` with `key` (optionally with a max priority); its name. */
    async bindQueue(exchange: string, key: string, maxPriority?: number): Promise<string> {
      const { queue } = await channel.assertQueue("", {
        exclusive: true,
        autoDelete: true,
        ...(maxPriority === undefined ? {} : { maxPriority }),
      });
      await channel.bindQueue(queue, exchange, key);
      return queue;
    },
    async depth(queue: string): Promise<number> {
      return (await channel.checkQueue(queue)).messageCount;
    },
    async close(): Promise<void> {
      await admin.disconnect();
      await connection.close().catch(() => {});
    },
  };
}

/** A valid `kronos.log.LogEntry` as JSON. */
export function logEntry(): Record<string, unknown> {
  return {
    meta: { eventId: randomUUID(), occurredAt: 0, producer: "gw", correlationId: null, traceparent: null },
    timestamp: 0,
    level: "INFO",
    service: "svc",
    instance: "i-1",
    logger: "main",
    message: "hello",
    attributes: {},
    traceId: null,
    spanId: null,
  };
}
