// Shared setup of the subscribe tests: a listening gateway (SSE needs a real socket, not inject) and its clients.

import { RegistrySerde } from "@kronos/contracts";
import { CriticalAlertEvent } from "@kronos/events-gaia";
import { SseClient, testEndpoints, uniqueName } from "@kronos/testkit";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import { type Admin, Kafka, logLevel, type Producer } from "kafkajs";
import { afterAll, beforeAll } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { alertValue, bearer } from "./publish-helpers.js";

/** A gateway listening on a free port, with a principal that may produce to and consume from everything. */
export async function listeningGateway(env: Record<string, string> = {}) {
  const app = await testGateway(tempPrincipalsFile(), {
    GATEWAY_RETRY_TIERS_MS: "300,1000",
    GATEWAY_SUBSCRIBE_HEARTBEAT_MS: "1000",
    ...env,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("the gateway is not listening on TCP");
  const base = `http://127.0.0.1:${address.port}`;
  const auth = await bearer("subscriber", ["produce:*", "consume:*", "admin"]);
  return {
    app,
    base,
    auth,
    /** Opens `GET /subscribe/<source>?<query>` as `auth` (or other headers). */
    subscribe(source: string, query: Record<string, string | number> = {}, headers: Record<string, string> = auth) {
      const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]));
      const suffix = search.size > 0 ? `?${search}` : "";
      return SseClient.open(`${base}/subscribe/${encodeURIComponent(source)}${suffix}`, headers);
    },
    /** `POST /publish` through the gateway; resolves to the 202 body. */
    async publish(body: Record<string, unknown>): Promise<{ messageId: string }> {
      const response = await app.inject({ method: "POST", url: "/publish", headers: auth, payload: body });
      if (response.statusCode !== 202) throw new Error(`publish: ${response.statusCode} ${response.body}`);
      return response.json();
    },
    /** `POST /<action>/<handle>` (ack, retry, reject) with an optional JSON body. */
    settle(action: "ack" | "retry" | "reject", handle: string, body?: Record<string, unknown>) {
      return app.inject({
        method: "POST",
        url: `/${action}/${encodeURIComponent(handle)}`,
        headers: auth,
        ...(body === undefined ? {} : { payload: body }),
      });
    },
  };
}

/** Waits until `condition` holds, polling every 100 ms; throws with `what` after `timeoutMs`. */
export async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type ListeningGateway = Awaited<ReturnType<typeof listeningGateway>>;

/** Writes alerts titled `titles` to partition 0 of `topic`, in order, message id = title, with the gateway's headers. */
export async function writeAlerts(
  producer: Producer,
  serde: RegistrySerde,
  topic: string,
  titles: readonly string[],
  description = "kafka subscribe test",
): Promise<void> {
  const messages = [];
  for (const title of titles) {
    messages.push({
      partition: 0,
      key: title,
      value: await serde.encode(CriticalAlertEvent, alertValue(title, description)),
      headers: { "message-id": title, "event-type": CriticalAlertEvent.name, producer: "kafka-test" },
    });
  }
  await producer.send({ topic, acks: -1, messages });
}

/**
 * Creates a RabbitMQ queue with dead letters through `gateway` (`POST /queues/create`), bound to `exchange` with a key
 * of its own, and records it in `created` for {@link deleteQueues}; its name and key.
 */
export async function createAlertQueue(
  gateway: ListeningGateway,
  exchange: string,
  prefix: string,
  created: string[],
  options: Record<string, unknown> = {},
): Promise<{ queue: string; key: string }> {
  const queue = uniqueName(prefix);
  const key = `test.${queue}`;
  const response = await gateway.app.inject({
    method: "POST",
    url: "/queues/create",
    headers: gateway.auth,
    payload: {
      name: queue,
      broker: "rabbitmq",
      deadLetter: true,
      bindings: [{ exchange, routingKey: key }],
      ...options,
    },
  });
  if (response.statusCode !== 201) throw new Error(`POST /queues/create: ${response.statusCode} ${response.body}`);
  created.push(queue);
  return { queue, key };
}

/** Deletes each of `queues` with its retry queues, dead letters and dead-letter exchange. */
export async function deleteQueues(channel: Channel, queues: readonly string[]): Promise<void> {
  for (const queue of queues) {
    for (const name of [queue, `${queue}.dlq`, `${queue}.retry.300`, `${queue}.retry.1000`]) {
      await channel.deleteQueue(name).catch(() => {});
    }
    await channel.deleteExchange(`${queue}.dlx`).catch(() => {});
  }
}

/** Deletes each of `topics` that exists, with its retry and dead-letter topics. */
export async function deleteTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  const existing = new Set(await admin.listTopics());
  const doomed = topics
    .flatMap((t) => [t, `${t}.dlq`, `${t}.retry.300`, `${t}.retry.1000`])
    .filter((t) => existing.has(t));
  if (doomed.length > 0) await admin.deleteTopics({ topics: doomed }).catch(() => {});
}

/**
 * The Kafka side of a subscribe test file, set up in its `beforeAll` and torn down in its `afterAll` (call it inside
 * the `describe`): a listening gateway (`env` on top of the defaults), a plain kafkajs admin and producer, a serde
 * that registers, and `topics`, whose topics (with their retry and dead-letter topics) are deleted at the end.
 */
export function kafkaSubscribeFixture(clientId: string, env: Record<string, string> = { GATEWAY_MAX_ATTEMPTS: "1" }) {
  const kafka = new Kafka({ clientId, brokers: testEndpoints().kafkaBrokers.split(","), logLevel: logLevel.NOTHING });
  const fixture = {
    kafka,
    serde: new RegistrySerde({ url: testEndpoints().registryUrl, autoRegister: true }),
    topics: [] as string[],
    gateway: undefined as unknown as ListeningGateway,
    admin: kafka.admin(),
    producer: kafka.producer(),
  };
  beforeAll(async () => {
    fixture.gateway = await listeningGateway(env);
    await fixture.admin.connect();
    await fixture.producer.connect();
  });
  afterAll(async () => {
    await fixture.gateway?.app.close();
    await deleteTopics(fixture.admin, fixture.topics);
    await fixture.producer.disconnect();
    await fixture.admin.disconnect();
  });
  return fixture;
}

/**
 * The RabbitMQ side of a subscribe test file, set up in its `beforeAll` and torn down in its `afterAll` (call it
 * inside the `describe`): a listening gateway (`env` on top of the defaults), a plain amqplib channel, and
 * `alertQueue`, which creates a queue with dead letters through the gateway, bound to `exchange` with a key of its
 * own (the queue, its retry queues, dead letters and dead-letter exchange are deleted at the end).
 */
export function rabbitSubscribeFixture(exchange: string, prefix: string, env: Record<string, string> = {}) {
  const created: string[] = [];
  const fixture = {
    gateway: undefined as unknown as ListeningGateway,
    connection: undefined as unknown as ChannelModel,
    channel: undefined as unknown as Channel,
    /** A new queue bound to the exchange (`options` go into the `POST /queues/create` body); its name and key. */
    alertQueue(options: Record<string, unknown> = {}): Promise<{ queue: string; key: string }> {
      return createAlertQueue(fixture.gateway, exchange, prefix, created, options);
    },
  };
  beforeAll(async () => {
    fixture.gateway = await listeningGateway(env);
    fixture.connection = await amqplib.connect(testEndpoints().rabbitmqUrl);
    fixture.channel = await fixture.connection.createChannel();
  });
  afterAll(async () => {
    if (fixture.channel) await deleteQueues(fixture.channel, created);
    await fixture.connection?.close().catch(() => {});
    await fixture.gateway?.app.close();
  });
  return fixture;
}
