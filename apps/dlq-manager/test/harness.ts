import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addPrincipal, type KronosApp } from "@kronos/app-kit";
import { ConfluentRegistryClient, createAvroType, frame } from "@kronos/contracts";
import { testEndpoints } from "@kronos/testkit";
import { deadLetterHeaders } from "@kronos/transport";
import { connect, type GetMessage } from "amqplib";
import { buildApp, loadConfig } from "../src/app.js";
import { storeDeadLetter } from "../src/store/ingest.js";
import type { TestDatabase } from "./database.js";

const endpoints = testEndpoints();

/** The stack's variables for a test app. */
export const stackEnv = {
  KAFKA_BROKERS: endpoints.kafkaBrokers,
  SCHEMA_REGISTRY_URL: endpoints.registryUrl,
  RABBITMQ_URL: endpoints.rabbitmqUrl,
  LOG_LEVEL: process.env.DLQ_TEST_LOG_LEVEL ?? "silent",
  DLQ_MANAGER_PORT: "0",
};

/** The test apps' principals file (`DLQ_MANAGER_PRINCIPALS_FILE`), with the principals below. */
export const principalsFile = join(mkdtempSync(join(tmpdir(), "dlq-principals-")), "principals.json");

/** Adds a principal with `acl` to the test apps' principals file; resolves to the headers of its requests. */
export function principal(id: string, acl: string[]): { "x-api-key": string } {
  return { "x-api-key": addPrincipal(principalsFile, { id, acl }).key };
}

/** The id and headers of an operator holding every dead-letter right and `produce:*`. */
export const OPERATOR = "dlq-operator";
export const asOperator = principal(OPERATOR, ["dlq:read", "dlq:replay", "dlq:discard", "produce:*"]);

/**
 * A dlq-manager on the real stack with a database and a consumer group of its own, reading only the given sources
 * (never the manifest's: those hold other tests' and users' dead letters). Ready and custody started on return.
 */
export async function openApp(
  database: TestDatabase,
  sources: { kafka?: string[]; rabbitmq?: string[]; group?: string },
): Promise<KronosApp> {
  const config = loadConfig({
    ...stackEnv,
    DLQ_DATABASE_URL: database.url,
    DLQ_MANAGER_PRINCIPALS_FILE: principalsFile,
    DLQ_CATALOG_SOURCES: "false",
    DLQ_CONSUMER_GROUP: sources.group ?? `dlq-test-${randomBytes(4).toString("hex")}`,
    DLQ_KAFKA_SOURCES: (sources.kafka ?? []).join(","),
    DLQ_RABBITMQ_SOURCES: (sources.rabbitmq ?? []).join(","),
  });
  const app = await buildApp(config);
  await app.ready();
  await app.custodyStarted;
  return app;
}

/** Polls `probe` every 100 ms until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
}

/** A test event registered in the real registry: its full name, schema id, and framed bytes of any value. */
export interface TestEvent {
  readonly name: string;
  readonly schemaId: number;
  readonly schema: object;
  encode(value: object): Buffer;
  /** Deletes its subject (call in afterAll). */
  cleanup(): Promise<void>;
}

/** Registers a record `kronos.dlqtest.Order<hex>` { id: string, amount: int } under its full name (RecordNameStrategy). */
export async function registerTestEvent(): Promise<TestEvent> {
  const name = `kronos.dlqtest.Order${randomBytes(4).toString("hex")}`;
  const schema = {
    type: "record",
    name,
    fields: [
      { name: "id", type: "string" },
      { name: "amount", type: "int" },
    ],
  };
  const client = new ConfluentRegistryClient({ url: endpoints.registryUrl });
  const schemaId = await client.register(name, JSON.stringify(schema), "BACKWARD");
  const type = createAvroType(schema);
  return {
    name,
    schemaId,
    schema,
    encode: (value) => frame(schemaId, type.toBuffer(value)),
    cleanup: async () => {
      const url = `${endpoints.registryUrl}/subjects/${encodeURIComponent(name)}`;
      await fetch(url, { method: "DELETE" }).catch(() => undefined);
      await fetch(`${url}?permanent=true`, { method: "DELETE" }).catch(() => undefined);
    },
  };
}

/** A dead letter to store as custody would, naming its original destination the way transport's dead letters do. */
export interface SeedOptions {
  readonly broker: "kafka" | "rabbitmq";
  /** Kafka topic, or RabbitMQ exchange ("" for the default exchange). */
  readonly destination: string;
  readonly routingKey?: string;
  readonly body: Buffer;
  readonly messageId: string;
  readonly eventType: string;
  /** Dead-letter source; default `<destination or routing key>.dlq`. */
  readonly source?: string;
}

let seeded = 0;

/** Stores a Kronos dead letter (max-attempts) in `app`'s database; resolves to its id. */
export async function seedDeadLetter(app: KronosApp, options: SeedOptions): Promise<string> {
  seeded += 1;
  const headers = {
    ...deadLetterHeaders({
      reason: "max-attempts",
      errorCode: "MAX_ATTEMPTS",
      error: "consumer gave up",
      broker: options.broker,
      destination: options.destination,
      routingKey: options.routingKey,
      eventType: options.eventType,
      attempts: 5,
      firstFailureMs: 1,
      lastFailureMs: 2,
      consumer: "test",
    }),
    "message-id": options.messageId,
    "event-type": options.eventType,
    "x-kronos-attempt": "5",
  };
  const stored = await storeDeadLetter(app.db, {
    broker: options.broker,
    source: options.source ?? `${options.destination || options.routingKey}.dlq`,
    partition: 0,
    offset: String(seeded),
    body: options.body,
    headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)])),
  });
  return stored.id;
}

/** Takes every message in queue `name`: waits for `expected` of them, then takes what else comes within 300 ms. */
export async function drain(name: string, expected: number, timeoutMs = 20_000): Promise<GetMessage[]> {
  const connection = await connect(stackEnv.RABBITMQ_URL);
  try {
    const channel = await connection.createChannel();
    const messages: GetMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (messages.length < expected && Date.now() < deadline) {
      const message = await channel.get(name, { noAck: true });
      if (message) messages.push(message);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Anything more (a duplicate) within a short while.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (
      let message = await channel.get(name, { noAck: true });
      message;
      message = await channel.get(name, { noAck: true })
    ) {
      messages.push(message);
    }
    return messages;
  } finally {
    await connection.close();
  }
}
