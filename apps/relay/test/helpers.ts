import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addPrincipal, type KronosApp } from "@kronos/app-kit";
import type { RelayRoute } from "@kronos/catalog";
import { RegistrySerde } from "@kronos/contracts";
import { TokenRevokedEvent } from "@kronos/events-auth";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { type Channel, type ChannelModel, type ConsumeMessage, connect, type Options } from "amqplib";
import { type Admin, type IHeaders, Kafka, type KafkaMessage, logLevel, type Producer } from "kafkajs";
import { afterAll, afterEach } from "vitest";
import { buildApp, loadConfig } from "../src/app.js";

export const endpoints = testEndpoints();
export const serde = new RegistrySerde({ url: endpoints.registryUrl, autoRegister: true });

/** The test relays' principals file: an operator with `admin`, and a reader with every right but `admin`. */
const principalsFile = join(mkdtempSync(join(tmpdir(), "relay-principals-")), "principals.json");
const adminKey = addPrincipal(principalsFile, { id: "relay-operator", acl: ["admin"] }).key;
const readerKey = addPrincipal(principalsFile, {
  id: "relay-reader",
  acl: ["produce:*", "consume:*", "dlq:read", "dlq:replay", "dlq:discard"],
}).key;
/** Headers of a request by a principal with the `admin` right. */
export const asAdmin = { "x-api-key": adminKey };
/** Headers of a request by a principal without the `admin` right. */
export const asReader = { "x-api-key": readerKey };

/** What `GET /routes` answers, the routes' counters as a reader (any principal) sees them. */
export async function routesOf(
  app: KronosApp,
): Promise<
  Array<{ id: string; counters: { relayed: number; deduped: number; looped: number; deadLettered: number } }>
> {
  return (await app.inject({ url: "/routes", headers: asReader })).json();
}

/** Builds and starts a relay running `routes`, resolving once every route runs. */
export async function startRelay(routes: RelayRoute[], env: Record<string, string> = {}): Promise<KronosApp> {
  const config = loadConfig({
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    SCHEMA_REGISTRY_URL: endpoints.registryUrl,
    RABBITMQ_URL: endpoints.rabbitmqUrl,
    RABBITMQ_MANAGEMENT_URL: endpoints.rabbitmqManagementUrl,
    LOG_LEVEL: process.env.RELAY_TEST_LOG_LEVEL ?? "silent",
    RELAY_PORT: "0",
    RELAY_BACKOFF_MS: "200",
    RELAY_MAX_BACKOFF_MS: "1000",
    RELAY_PRINCIPALS_FILE: principalsFile,
    ...env,
  });
  const app = await buildApp(config, { routes });
  await app.ready();
  await app.relayStarted;
  return app;
}

/**
 * One test file's fresh names (`resources`), raw broker access (`brokers`) and `relay(...)`, which starts a relay
 * closed after each test; everything is cleaned up after the file.
 */
export function relayTestContext() {
  const resources = new TestResources();
  const brokers = new Brokers();
  const apps: KronosApp[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await brokers.close();
    await resources.cleanup();
  });
  const relay = async (...args: Parameters<typeof startRelay>): Promise<KronosApp> => {
    const app = await startRelay(...args);
    apps.push(app);
    return app;
  };
  /**
   * A RabbitMQ → Kafka route of TokenRevoked events between test-owned places named after `name`: a fanout exchange,
   * the relay's queue (with its `.dlq`/`.dlx`), a one-partition topic already being read; the relay started.
   */
  const securityToAudit = async (name: string) => {
    const exchange = resources.exchange(name);
    const queue = resources.queue(`${name}-q`);
    resources.queue(`${queue}.dlq`);
    resources.exchange(`${queue}.dlx`);
    const topic = resources.topic(`${name}-audit`);
    await brokers.createTopic(topic, 1);
    await brokers.exchange(exchange, "fanout");
    const records = await brokers.readTopic(topic);
    const app = await relay([
      toKafkaRoute(`${name}-${randomUUID()}`, exchange, queue, topic, ["kronos.auth.TokenRevoked"]),
    ]);
    return { exchange, queue, topic, records, app };
  };
  return { resources, brokers, relay, securityToAudit };
}

/** A Kafka → RabbitMQ route for CriticalAlerts between test-owned places. */
export function alertRoute(id: string, topic: string, exchange: string, options: Partial<RelayRoute> = {}): RelayRoute {
  return {
    id,
    from: { broker: "kafka", channel: "test", topic, consumerGroup: `${id}-group` },
    to: { broker: "rabbitmq", channel: "test", exchange, routingKey: null },
    events: ["kronos.gaia.CriticalAlert"],
    dedup: { by: "message-id" },
    dedupWindowMs: 600_000,
    priority: { field: "severity", values: { CRITICAL: 9, MAJOR: 6 } },
    ...options,
  };
}

/** A RabbitMQ → Kafka route from a relay queue bound to `exchange` into `topic`. */
export function toKafkaRoute(id: string, exchange: string, queue: string, topic: string, events: string[]): RelayRoute {
  return {
    id,
    from: { broker: "rabbitmq", channel: "test", exchange, queue, bindingKeys: ["#"] },
    to: { broker: "kafka", channel: "test", topic },
    events,
    dedup: { by: "message-id" },
    dedupWindowMs: 600_000,
    priority: null,
  };
}

/** A framed CriticalAlert with a fresh id and fingerprint. */
export async function alertBytes(fingerprint = randomUUID()): Promise<Buffer> {
  const now = new Date();
  return serde.encode(CriticalAlertEvent, {
    meta: { eventId: randomUUID(), occurredAt: now, producer: "gaia", correlationId: null, traceparent: null },
    alertId: randomUUID(),
    severity: "CRITICAL",
    sourceService: "billing",
    fingerprint,
    title: "Error rate above 5%",
    description: "5xx ratio 7% over 5 minutes",
    labels: { rule: "error-rate" },
    raisedAt: now,
    runbookUrl: null,
  });
}

/** A framed TokenRevoked for `userId`. */
export async function tokenRevokedBytes(userId = randomUUID()): Promise<Buffer> {
  const now = new Date();
  return serde.encode(TokenRevokedEvent, {
    meta: { eventId: randomUUID(), occurredAt: now, producer: "auth", correlationId: null, traceparent: null },
    tokenId: randomUUID(),
    userId,
    tokenType: "ACCESS",
    revokedBy: null,
    reason: "logout everywhere",
    expiresAt: now,
  });
}

/** The test's side of the brokers: raw producers and readers, created on demand, closed by {@link close}. */
export class Brokers {
  readonly kafka = new Kafka({ brokers: [endpoints.kafkaBrokers], clientId: "relay-test", logLevel: logLevel.NOTHING });
  #producer: Producer | undefined;
  #admin: Admin | undefined;
  #amqp: ChannelModel | undefined;
  #channel: Channel | undefined;
  readonly #closers: Array<() => Promise<unknown>> = [];

  async admin(): Promise<Admin> {
    if (!this.#admin) {
      this.#admin = this.kafka.admin();
      await this.#admin.connect();
    }
    return this.#admin;
  }

  async createTopic(topic: string, partitions = 3): Promise<void> {
    await (await this.admin()).createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  }

  async produce(
    topic: string,
    messages: Array<{ key?: Buffer | null; value: Buffer; headers?: IHeaders }>,
  ): Promise<void> {
    if (!this.#producer) {
      this.#producer = this.kafka.producer({ idempotent: true });
      await this.#producer.connect();
    }
    // A topic just created may not be in every broker's metadata yet: try again a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#producer.send({ topic, acks: -1, messages });
        return;
      } catch (error) {
        if (attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
  }

  /** Reads every record of `topic` (from the start, a group of its own) into the returned list as they come. */
  async readTopic(topic: string): Promise<KafkaMessage[]> {
    const seen: KafkaMessage[] = [];
    const consumer = this.kafka.consumer({ groupId: `relay-test-${randomUUID()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    this.#closers.push(() => consumer.disconnect());
    // The topic may be created at this moment (a dead-letter topic, by the relay's first dead letter), and not be
    // in the broker's metadata yet: try again a few times, as produce does.
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        break;
      } catch (error) {
        if (attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
    return seen;
  }

  async channel(): Promise<Channel> {
    if (!this.#channel) {
      this.#amqp = await connect(endpoints.rabbitmqUrl);
      this.#channel = await this.#amqp.createChannel();
    }
    return this.#channel;
  }

  async exchange(name: string, type: "topic" | "fanout" = "topic"): Promise<void> {
    await (await this.channel()).assertExchange(name, type, { durable: true });
  }

  /** Declares `queue` bound to `exchange` with `#` and collects what arrives in it (acked) into the returned list. */
  async readQueue(exchange: string, queue: string): Promise<ConsumeMessage[]> {
    const channel = await this.channel();
    await channel.assertQueue(queue, { durable: true, arguments: { "x-max-priority": 10 } });
    await channel.bindQueue(queue, exchange, "#");
    return this.consume(queue);
  }

  /** Collects what arrives in the existing `queue` (acked) into the returned list. */
  async consume(queue: string): Promise<ConsumeMessage[]> {
    const channel = await this.channel();
    const seen: ConsumeMessage[] = [];
    await channel.consume(queue, (message) => {
      if (message) {
        seen.push(message);
        channel.ack(message);
      }
    });
    return seen;
  }

  async publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    (await this.channel()).publish(exchange, routingKey, content, { persistent: true, ...options });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#closers.map((close) => close()));
    await this.#producer?.disconnect().catch(() => {});
    await this.#admin?.disconnect().catch(() => {});
    await this.#amqp?.close().catch(() => {});
  }
}

/** Resolves once `condition()` holds, checking every 50 ms; rejects with `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The text of a Kafka header value (the last one when repeated). */
export function text(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === undefined ? undefined : last.toString();
}
