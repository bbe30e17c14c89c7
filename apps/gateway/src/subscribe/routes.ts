import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError, typeBoxValidatorCompiler } from "@kronos/app-kit";
import { isContractError } from "@kronos/contracts";
import {
  AMQP_MAX_PREFETCH,
  createAmqpSubscription,
  createConsumeMetrics,
  createKafkaSubscription,
  type Delivery,
  describeError,
  RabbitManagementClient,
  registerKafkaLagMetrics,
  registerRabbitQueueMetrics,
  type Subscription,
  TransportError,
  withTimeout,
} from "@kronos/transport";
import type { FastifyRequest } from "fastify";
import { decodeBody } from "../messages/index.js";
import { checkDestination, checkName } from "../names.js";
import { toHttpError } from "../queues/errors.js";
import { bulkSettleRoutes } from "./bulk-routes.js";
import type { SubscribeConfig } from "./config.js";
import { parseCursor } from "./cursor.js";
import { parseFilter } from "./filters.js";
import { SettleForwarder } from "./forward.js";
import { HandleRegistry, newSubscriptionId } from "./handles.js";
import { createSubscribeMetrics } from "./metrics.js";
import { identityOf, rejectInvalid } from "./request.js";
import {
  ACK_RESPONSES,
  HandleParams,
  RejectBody,
  RetryBody,
  SETTLE_RESPONSES,
  SUBSCRIBE_RESPONSES,
  SubscribeParams,
  SubscribeQuery,
} from "./schemas.js";
import { type DecodedMessage, type DecodeFailure, SubscriptionSession } from "./session.js";
import { Settler } from "./settle.js";
import { resolveSource } from "./source.js";
import { SseStream } from "./sse.js";

/** Options of {@link subscribeRoutes}. */
export interface SubscribeRoutesOptions extends SubscribeConfig {
  /** RabbitMQ management API, to tell queues from topics and to find a queue's dead-letter exchange. */
  readonly rabbitmqManagementUrl: string;
  /** This gateway instance's id: the first part of every handle it issues. */
  readonly instanceId: string;
  /** Set: a settlement of another instance's handle is forwarded to it over this Redis (see forward.ts). */
  readonly redisUrl: string | undefined;
  /** Longest wait for another instance to answer a forwarded settlement, in ms. */
  readonly forwardTimeoutMs: number;
}

/** How long a subscription may take to start (a Kafka group join takes seconds), in ms. */
const READY_TIMEOUT_MS = 30_000;
/** The reconnection delay EventSource clients are told to use, in ms. */
const RECONNECT_MS = 2000;
/** Consumer groups of gateway clients are prefixed, so a client can never join (and steal from) a service's group. */
export const GROUP_PREFIX = "gateway.";

/**
 * Subscribing over HTTP with per-message settlement (each needs a principal; see README.md, "Subscribing"):
 *
 * - `GET /subscribe/:topic` (needs `consume` on the topic or queue): a Server-Sent Events stream of `message`
 *   events, `data` = `{ messageId, event, key, headers, payload, redelivered, attempt }` (Kafka adds `partition`
 *   and `offset`), `id` = the delivery's handle. Query: `broker`, `group`, `from`, `prefetch`, `leaseMs`, `key`,
 *   `header.<name>`; header `Last-Event-ID` resumes a Kafka tail without a group.
 * - `POST /ack/:messageId` → 204. `POST /retry/:messageId` `{ delayMs?, reason? }` → 202 (dead-lettered instead
 *   once the destination's attempts are used up). `POST /reject/:messageId` `{ reason? }` → 202, dead-lettered
 *   with reason `rejected`. Unknown or expired handle 404, settled before 409, another principal's 403.
 * - `POST /settle` (many at once) and `POST /ack-through/:messageId` (cumulative): see bulk-routes.ts.
 *
 * The client's deliveries go back to the broker when their lease expires or the stream closes.
 */
export const subscribeRoutes: FastifyPluginAsyncTypebox<SubscribeRoutesOptions> = async (app, options) => {
  const { events: eventsByName, managed: sources } = app.contracts;
  // An https management API is trusted with the AMQP connection's CA bundle (RABBITMQ_SSL_CA_FILE).
  const management = new RabbitManagementClient({
    url: options.rabbitmqManagementUrl,
    caFile: app.config.rabbitmq.tls?.caFile,
  });
  const logger = app.log.child({ component: "subscribe" });
  const handles: HandleRegistry = new HandleRegistry({
    instanceId: options.instanceId,
    shared: options.redisUrl !== undefined,
    onExpired: (held) => metrics.settled(held.delivery.broker, "lease_expired"),
    onReleaseError: (held, error) =>
      logger.warn({ err: error, handle: held.handle }, "could not give back an expired delivery; its broker will"),
  });
  const metrics = createSubscribeMetrics(app.metrics.registry, () => handles.size);
  // The transport's consumer metrics (deliveries, settlements, retries, dead letters, in flight) per subscription.
  const consumeMetrics = createConsumeMetrics(app.metrics.registry);
  // The broker-side view, read at scrape time: lag of the groups streamed now, depth of the manifest's queues.
  const streamedGroups = new Map<string, number>();
  registerKafkaLagMetrics(app.kafka, {
    registry: app.metrics.registry,
    groups: () => [...streamedGroups.keys()],
    logger,
  });
  registerRabbitQueueMetrics(management, {
    registry: app.metrics.registry,
    queues: () => [...sources.rabbitmq],
    logger,
  });
  const sessions = new Set<SubscriptionSession>();
  // Open streams would keep the server from closing: end them first (the broker gets their deliveries back).
  app.addHook("preClose", async () => {
    await Promise.all([...sessions].map((session) => session.close()));
  });
  app.setValidatorCompiler(typeBoxValidatorCompiler);

  async function decode(delivery: Delivery): Promise<DecodedMessage> {
    try {
      // A delivery whose event the gateway does not know is named by its writer schema, not its header.
      const known = delivery.eventType !== undefined && eventsByName.has(delivery.eventType);
      const eventType = known ? delivery.eventType : undefined;
      const { event, value } = await decodeBody(app.publishers.serde, eventsByName, delivery.body, eventType);
      return { event, payload: value };
    } catch (error) {
      const failure: DecodeFailure = isContractError(error)
        ? { code: error.code, message: error.message, retriable: error.retriable }
        : { code: "DECODE_FAILED", message: describeError(error), retriable: false };
      throw failure;
    }
  }

  app.get(
    "/subscribe/:topic",
    {
      attachValidation: true,
      schema: {
        tags: ["subscribe"],
        operationId: "subscribe",
        summary: "Stream a queue or topic as Server-Sent Events",
        params: SubscribeParams,
        querystring: SubscribeQuery,
        response: SUBSCRIBE_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      const { topic } = request.params;
      const query = request.query;
      checkName(topic, query.broker);
      const principal = app.authorize(request, "consume", topic);
      if (sessions.size >= options.maxSubscriptions) {
        reply.header("retry-after", "5");
        throw new HttpError(503, "TOO_MANY_SUBSCRIPTIONS", `this gateway serves ${options.maxSubscriptions} streams`);
      }
      const filter = parseFilter(query);
      const source = await resolveSource(topic, query.broker, sources, management);
      // Kafka refuses more names than RabbitMQ; the internal topics (offsets, the registry's) are never streamed.
      checkDestination(source.name, source.broker);
      if (source.broker === "rabbitmq" && (query.group !== undefined || query.from !== undefined)) {
        throw new HttpError(
          400,
          "INVALID_QUERY",
          `"${topic}" is a RabbitMQ queue: group and from apply to Kafka topics`,
        );
      }
      // RabbitMQ holds at most AMQP_MAX_PREFETCH unacked deliveries a channel, whatever the setting allows.
      const prefetch = Math.min(
        query.prefetch === undefined ? options.prefetch : Number(query.prefetch),
        options.maxPrefetch,
        source.broker === "rabbitmq" ? AMQP_MAX_PREFETCH : Number.MAX_SAFE_INTEGER,
      );
      const leaseMs = Math.min(
        query.leaseMs === undefined ? options.leaseMs : Number(query.leaseMs),
        options.maxLeaseMs,
      );
      const tail = source.broker === "kafka" && query.group === undefined;
      const startOffsets = tail ? lastEventCursor(request.headers["last-event-id"]) : undefined;

      const id = newSubscriptionId(options.instanceId);
      const session = new SubscriptionSession(
        { id, identity: principal.identity, source, leaseMs, filter, withCursor: tail },
        { handles, decode, metrics, logger },
      );
      const common = {
        consumerName: `gateway:${principal.id}`,
        // The transport counts deliveries; the setting counts retries (5 retries: the sixth failure dead-letters).
        maxAttempts: (options.maxAttemptsByDestination.get(source.name) ?? options.maxAttempts) + 1,
        retryTiersMs: options.retryTiersMs,
        metrics: consumeMetrics,
        logger,
      };
      let startPositions: (() => ReadonlyMap<number, string>) | undefined;
      let subscription: Subscription;
      if (source.broker === "rabbitmq") {
        subscription = createAmqpSubscription(
          app.amqp,
          { ...common, queue: source.name, prefetch, management },
          session.handle,
        );
      } else {
        const kafka = createKafkaSubscription(
          app.kafka,
          {
            ...common,
            topic: source.name,
            maxInFlight: prefetch,
            from: query.from ?? "latest",
            ...(query.group === undefined ? {} : { groupId: `${GROUP_PREFIX}${query.group}` }),
            ...(startOffsets === undefined ? {} : { startOffsets }),
          },
          session.handle,
        );
        startPositions = () => kafka.startPositions();
        subscription = kafka;
      }
      session.attach(subscription);
      try {
        await withTimeout(subscription.ready, READY_TIMEOUT_MS, `starting the subscription to "${topic}"`);
      } catch (error) {
        await session.close();
        throw subscribeError(error, topic, source.broker, reply);
      }

      reply.hijack();
      const stream = new SseStream(reply.raw, {
        heartbeatMs: options.heartbeatMs,
        reconnectMs: RECONNECT_MS,
        headers: {
          "x-content-type-options": "nosniff",
          "x-kronos-subscription": id,
          "x-kronos-broker": source.broker,
          "x-kronos-prefetch": String(prefetch),
          "x-kronos-lease-ms": String(leaseMs),
        },
      });
      sessions.add(session);
      metrics.subscriptionOpened(source.broker);
      const groupId =
        source.broker === "kafka" && query.group !== undefined ? `${GROUP_PREFIX}${query.group}` : undefined;
      if (groupId !== undefined) streamedGroups.set(groupId, (streamedGroups.get(groupId) ?? 0) + 1);
      stream.onClose(() => {
        sessions.delete(session);
        metrics.subscriptionClosed(source.broker);
        if (groupId === undefined) return;
        const left = (streamedGroups.get(groupId) ?? 1) - 1;
        if (left > 0) streamedGroups.set(groupId, left);
        else streamedGroups.delete(groupId);
      });
      session.start(stream, tail ? new Map([...(startPositions?.() ?? []), ...(startOffsets ?? [])]) : undefined);
      request.log.info(
        { subscription: id, source, principal: principal.id, prefetch, leaseMs, group: query.group },
        "subscription opened",
      );
    },
  );

  const settler = new Settler({
    handles,
    metrics,
    logger,
    defaultRetryDelayMs: options.retryTiersMs[0] ?? 1000,
    instanceId: options.instanceId,
    ...(options.redisUrl === undefined
      ? {}
      : {
          forwarder: new SettleForwarder({
            redisUrl: options.redisUrl,
            instanceId: options.instanceId,
            timeoutMs: options.forwardTimeoutMs,
            logger,
            registry: app.metrics.registry,
          }),
        }),
  });
  app.addHook("onReady", () => settler.start());
  app.addHook("onClose", () => settler.close());
  await app.register(bulkSettleRoutes, { settler, metrics, maxSettleItems: options.maxSettleItems });

  /** Before the body is read: the handle must be open and the caller's (404, 409, 403 otherwise). */
  async function ownHandle(request: FastifyRequest): Promise<void> {
    const { messageId } = request.params as { messageId?: string };
    if (messageId !== undefined) settler.check(identityOf(request), messageId);
  }

  app.post(
    "/ack/:messageId",
    {
      attachValidation: true,
      config: { principalRateLimit: false },
      onRequest: ownHandle,
      schema: {
        tags: ["subscribe"],
        operationId: "ackDelivery",
        summary: "Acknowledge a delivery",
        params: HandleParams,
        response: ACK_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      await settler.ack(identityOf(request), request.params.messageId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    "/retry/:messageId",
    {
      attachValidation: true,
      config: { principalRateLimit: false },
      onRequest: ownHandle,
      schema: {
        tags: ["subscribe"],
        operationId: "retryDelivery",
        summary: "Deliver a message again after a delay (dead letters once its attempts are used up)",
        params: HandleParams,
        body: RetryBody,
        response: SETTLE_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      const { delayMs, reason } = request.body ?? {};
      const settled = await settler.retry(identityOf(request), {
        handle: request.params.messageId,
        ...(delayMs === undefined ? {} : { delayMs }),
        ...(reason === undefined ? {} : { reason }),
      });
      return reply.code(202).send(settled);
    },
  );

  app.post(
    "/reject/:messageId",
    {
      attachValidation: true,
      config: { principalRateLimit: false },
      onRequest: ownHandle,
      schema: {
        tags: ["subscribe"],
        operationId: "rejectDelivery",
        summary: "Send a delivery to its dead letters (reason rejected)",
        params: HandleParams,
        body: RejectBody,
        response: SETTLE_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      const reason = request.body?.reason;
      const settled = await settler.reject(identityOf(request), {
        handle: request.params.messageId,
        ...(reason === undefined ? {} : { reason }),
      });
      return reply.code(202).send(settled);
    },
  );
};

function lastEventCursor(header: string | string[] | undefined): Map<number, string> | undefined {
  if (typeof header !== "string" || header === "") return undefined;
  try {
    return parseCursor(header);
  } catch (error) {
    throw new HttpError(400, "INVALID_LAST_EVENT_ID", `Last-Event-ID: ${(error as Error).message}`);
  }
}

function subscribeError(
  error: unknown,
  topic: string,
  broker: "kafka" | "rabbitmq",
  reply: Parameters<typeof toHttpError>[1],
): unknown {
  if (error instanceof TransportError && error.code === "DESTINATION_NOT_FOUND") {
    const what = broker === "kafka" ? "Kafka topic" : "RabbitMQ queue";
    return new HttpError(
      404,
      "SOURCE_NOT_FOUND",
      `no ${what} "${topic}"${broker === "kafka" ? " (nor a RabbitMQ queue: create one with POST /queues/create)" : ""}`,
    );
  }
  return toHttpError(error, reply);
}
