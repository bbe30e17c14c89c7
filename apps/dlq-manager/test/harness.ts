import { randomBytes } from "node:crypto";
import type { KronosApp } from "@kronos/app-kit";
import { ConfluentRegistryClient, createAvroType, frame } from "@kronos/contracts";
import { testEndpoints } from "@kronos/testkit";
import { buildApp, loadConfig } from "../src/app.js";
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
