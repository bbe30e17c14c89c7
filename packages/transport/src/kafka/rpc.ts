import { randomUUID } from "node:crypto";
import type { Admin, Consumer, Kafka, KafkaMessage } from "kafkajs";
import { createTopic, type TopicOptions } from "../admin/kafka-topics.js";
import type { Delivery } from "../consume/delivery.js";
import { describeError, TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import type { ConsumeMetrics } from "../metrics/consume.js";
import { PendingReplies } from "../pending-replies.js";
import { answerRequest, incomingRequest, type OutgoingReply } from "../rpc/answer.js";
import { RequestsInHand } from "../rpc/in-hand.js";
import type { IncomingRequest, RequestHandler, RequestOptions, RequestReply } from "../rpc/types.js";
import { BOUNDED_RETRIES, kafkaClientFor } from "./client.js";
import type { KafkaConnection } from "./connection.js";
import { createKafkaSubscription, type KafkaSubscription } from "./consumer.js";
import { kafkaHeadersText } from "./headers.js";
import { createKafkaPublisher, type KafkaPublisher, type KafkaRecord } from "./publisher.js";

/** A request to send over Kafka: a record plus the correlation id that pairs it with its reply (default a UUID). */
export interface KafkaRequest extends KafkaRecord {
  readonly correlationId?: string;
}

/** A reply received over Kafka: body, headers as text, and the record's key. */
export interface KafkaReply extends RequestReply {
  readonly key: string | null;
}

/** A request served from a Kafka topic. */
export interface KafkaIncomingRequest extends IncomingRequest {
  /** The request record's key (UTF-8), also the reply's key. */
  readonly key: string | null;
  readonly partition: number;
  readonly offset: string;
}

/** Sends requests over Kafka and waits for their replies on a reply topic. */
export interface KafkaRequester {
  /**
   * Creates the reply topic when missing and joins its consumer group; resolves once a reply written from now on
   * will be seen. {@link request} calls it itself; call it at start so the first request does not wait. Rejects
   * with a {@link TransportError} (`KAFKA_UNAVAILABLE`, `CLOSED`); the next call tries again.
   */
  start(): Promise<void>;
  /**
   * Publishes `record` (acks=all) with the headers `correlation-id` and `reply-to` (the reply topic) and resolves
   * with the first record on the reply topic carrying the same `correlation-id`. Rejects with a
   * {@link TransportError}: `REPLY_TIMEOUT` when no reply came within `timeoutMs` (consumer start and publish
   * included), `INVALID_OPTIONS` when `correlationId` is already waiting for a reply, the publisher's codes
   * (`DESTINATION_NOT_FOUND`, `PUBLISH_REJECTED`, `KAFKA_UNAVAILABLE`, `TIMEOUT`), `KAFKA_UNAVAILABLE` when the
   * reply consumer cannot start, `CLOSED` after {@link close}.
   */
  request(record: KafkaRequest, options: RequestOptions): Promise<KafkaReply>;
  /**
   * Fails the requests still waiting with `CLOSED`, leaves the group (and deletes it when its id was generated),
   * closes the publisher it created. Idempotent; never rejects.
   */
  close(): Promise<void>;
}

/** Options of {@link createKafkaRequester}. */
export interface KafkaRequesterOptions {
  /** The topic replies are read from; created when missing (with {@link replyTopicOptions}). */
  readonly replyTopic: string;
  /**
   * The reply consumer's group. Default: a new one per requester (`kronos-replies-<uuid>`), so every instance of an
   * app reads every reply and keeps those it waits for.
   */
  readonly groupId?: string;
  /**
   * Prefix of the generated group (when {@link groupId} is not given), e.g. the app's own, so that Kafka ACLs granting
   * the app its prefixed groups cover it. Default: `kronos-replies-`.
   */
  readonly groupIdPrefix?: string;
  /** Settings of the reply topic when it is created. Default: retention 1 hour. */
  readonly replyTopicOptions?: TopicOptions;
  /** The publisher requests go out with. Default: one of its own (closed on close). */
  readonly publisher?: KafkaPublisher;
  /** Where the requester and kafkajs log. Default: nowhere. */
  readonly logger?: TransportLogger;
  /** The client id Kafka sees. Default: `kronos-requester`. */
  readonly clientId?: string;
}

/** Runs a responder until closed. */
export interface KafkaResponder {
  /**
   * Resolves once the consumer joined its group and sits at its start position (requests written from now on are
   * served). Rejects with a {@link TransportError} when it could not start: `DESTINATION_NOT_FOUND` (no such
   * topic), `KAFKA_UNAVAILABLE`, `INVALID_OPTIONS`, `CLOSED` (closed first); see `createKafkaSubscription`.
   */
  readonly ready: Promise<void>;
  /**
   * Stops taking requests, waits (at most 5 s) for those in hand (their replies written and offsets settled),
   * closes the subscription (committing what is settled) and the publisher it created. Idempotent; never rejects.
   */
  close(): Promise<void>;
}

/** Options of {@link serveKafkaRequests}. */
export interface KafkaResponderOptions {
  /** The topic of requests. */
  readonly topic: string;
  /** The responder's consumer group (every instance of one service shares it). */
  readonly groupId: string;
  /** Most requests handled at once (the subscription's `maxInFlight`). Default: 32. */
  readonly concurrency?: number;
  /** Where the responder's subscription records its consumer metrics (`createConsumeMetrics`). Default: none. */
  readonly metrics?: ConsumeMetrics;
  /** The publisher replies go out with. Default: one of its own (closed on close). */
  readonly publisher?: KafkaPublisher;
  /** Where the responder and kafkajs log. Default: nowhere. */
  readonly logger?: TransportLogger;
  /** The client id Kafka sees. Default: `kronos-responder`. */
  readonly clientId?: string;
}

const DEFAULT_REPLY_TOPIC_OPTIONS: TopicOptions = { retentionMs: 3_600_000 };
const DEFAULT_CONCURRENCY = 32;
const REPLY_TIMEOUT_MS = 10_000;
/** How long a responder's close waits for the requests in hand. */
const CLOSE_WAIT_MS = 5000;
/**
 * Longest wait of one fetch without records. A record ends the wait at once, so this costs no latency; it bounds
 * how long leaving the group takes (kafkajs lets the fetch in progress finish first; its default is 5 s).
 */
const FETCH_WAIT_MS = 1000;
/** How long a close waits for a consumer start under way (e.g. connecting to a Kafka that is down) to give up. */
const START_WAIT_MS = 1000;

/**
 * The end offset of each partition of `topic` on which `groupId` has committed nothing. A new group that seeks
 * there at its first join reads everything written after this call, where kafkajs' "latest" would be resolved
 * only after the join and miss what was written in between.
 */
async function uncommittedEnds(admin: Admin, groupId: string, topic: string): Promise<Map<number, string>> {
  const ends = await admin.fetchTopicOffsets(topic);
  const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
  const done = new Set((committed[0]?.partitions ?? []).filter((p) => Number(p.offset) >= 0).map((p) => p.partition));
  return new Map(ends.filter((p) => !done.has(p.partition)).map((p) => [p.partition, p.high]));
}

/**
 * Connects `consumer`, subscribes to `topic` and runs it with `run`; resolves after the first join, once the
 * partitions the group had no position on are sought to their end offsets of before the join. The offsets are
 * read with a short-lived admin client of `kafka`: kafkajs' admin clients do not bear concurrent metadata
 * requests well, and the connection's shared one serves topic administration meanwhile. Rejects with `CLOSED` as
 * soon as `stopped()` says so between steps, so a close during the start does not leave a running consumer.
 */
async function startConsumer(
  kafka: Kafka,
  consumer: Consumer,
  groupId: string,
  topic: string,
  run: Parameters<Consumer["run"]>[0],
  stopped: () => boolean,
): Promise<void> {
  const step = <T>(value: T): T => {
    if (stopped()) throw new TransportError("CLOSED", `stopped while starting the consumer of "${topic}"`);
    return value;
  };
  const admin = kafka.admin();
  let ends: Map<number, string>;
  try {
    // Inside the try: a close that comes while connecting must still disconnect the admin client.
    step(await admin.connect());
    ends = step(await uncommittedEnds(admin, groupId, topic));
  } finally {
    await admin.disconnect().catch(() => {});
  }
  step(await consumer.connect());
  step(await consumer.subscribe({ topic, fromBeginning: false }));
  const joined = new Promise<void>((resolve) => {
    const off = consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      off();
      for (const partition of payload.memberAssignment[topic] ?? []) {
        const offset = ends.get(partition);
        if (offset !== undefined) consumer.seek({ topic, partition, offset });
      }
      resolve();
    });
  });
  step(await consumer.run(run));
  await joined;
}

/**
 * Stops a consumer whose start may still be under way: waits for the start at most {@link START_WAIT_MS} (it
 * gives up at its next step once its owner is closed), then disconnects. Resolves true when it had joined.
 */
async function stopConsumer(consumer: Consumer, ready: Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const joined = await Promise.race([
    ready.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), START_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  await consumer.disconnect().catch(() => {});
  return joined;
}

function asTransportError(error: unknown, what: string): TransportError {
  if (error instanceof TransportError) return error;
  return new TransportError("KAFKA_UNAVAILABLE", `${what}: ${describeError(error)}`, { cause: error });
}

/**
 * Creates a {@link KafkaRequester}: requests go out through a {@link KafkaPublisher} (acks=all), replies are read
 * from `replyTopic` by a consumer of its own group and matched to their requests by `correlation-id`. Replies
 * nobody waits for (late, or for another instance) are dropped. Nothing connects before {@link KafkaRequester.start}
 * or the first request. Never throws.
 */
export function createKafkaRequester(connection: KafkaConnection, options: KafkaRequesterOptions): KafkaRequester {
  const logger = options.logger ?? silentLogger;
  const { replyTopic } = options;
  const generatedGroup = options.groupId === undefined;
  const groupId = options.groupId ?? `${options.groupIdPrefix ?? "kronos-replies-"}${randomUUID()}`;
  const ownPublisher = options.publisher === undefined;
  const publisher =
    options.publisher ?? createKafkaPublisher(connection, { clientId: options.clientId ?? "kronos-requester", logger });
  const kafka = kafkaClientFor(connection, {
    clientId: options.clientId ?? "kronos-requester",
    logger,
    retry: BOUNDED_RETRIES,
  });
  const pending = new PendingReplies<KafkaReply>();
  let consumer: { client: Consumer; ready: Promise<void> } | undefined;
  let topicReady = false;
  let closed = false;

  const onReply = (message: KafkaMessage): void => {
    const headers = kafkaHeadersText(message.headers);
    const correlationId = headers["correlation-id"];
    if (correlationId === undefined || !pending.has(correlationId)) return;
    pending.resolve(correlationId, {
      body: message.value ?? Buffer.alloc(0),
      headers,
      key: message.key?.toString("utf8") ?? null,
    });
  };

  const ensureTopic = async (): Promise<void> => {
    if (topicReady) return;
    try {
      await createTopic(connection, replyTopic, options.replyTopicOptions ?? DEFAULT_REPLY_TOPIC_OPTIONS);
    } catch (error) {
      if (!(error instanceof TransportError && error.code === "TOPIC_CONFLICT")) throw error;
      logger.warn({ err: error, topic: replyTopic }, "the reply topic exists with other settings; used as it is");
    }
    topicReady = true;
  };

  const start = (): Promise<void> => {
    if (closed) return Promise.reject(new TransportError("CLOSED", "the Kafka requester is closed"));
    if (!consumer) {
      const client = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: FETCH_WAIT_MS });
      const ready = (async () => {
        await ensureTopic();
        await startConsumer(
          kafka,
          client,
          groupId,
          replyTopic,
          { eachMessage: async ({ message }) => onReply(message) },
          () => closed,
        );
        logger.info({ topic: replyTopic, groupId }, "reading Kafka replies");
      })().catch((error: unknown) => {
        void client.disconnect().catch(() => {});
        throw asTransportError(error, `could not read Kafka replies from "${replyTopic}"`);
      });
      const current = { client, ready };
      const drop = () => {
        if (consumer !== current) return;
        consumer = undefined;
        void client.disconnect().catch(() => {});
      };
      ready.catch(drop);
      client.on(client.events.CRASH, ({ payload }) => {
        logger.warn({ err: payload.error, restart: payload.restart }, "Kafka reply consumer crashed");
        if (!payload.restart) drop();
      });
      consumer = current;
    }
    return consumer.ready;
  };

  return {
    start,
    request(record, requestOptions) {
      if (closed) return Promise.reject(new TransportError("CLOSED", "the Kafka requester is closed"));
      const correlationId = record.correlationId ?? randomUUID();
      const { timeoutMs } = requestOptions;
      const deadline = performance.now() + timeoutMs;
      return pending.wait(correlationId, {
        context: undefined,
        timeoutMs,
        timeoutError: () =>
          new TransportError(
            "REPLY_TIMEOUT",
            `no reply on Kafka topic "${replyTopic}" to the request sent to "${record.topic}" within ${Math.round(timeoutMs)} ms`,
          ),
        send: () => {
          const { correlationId: _, ...plain } = record;
          start()
            .then(() => {
              if (!pending.has(correlationId)) return undefined;
              return publisher.publish(
                { ...plain, headers: { ...record.headers, "correlation-id": correlationId, "reply-to": replyTopic } },
                { timeoutMs: Math.max(1, deadline - performance.now()) },
              );
            })
            .catch((error: unknown) => pending.reject(correlationId, asTransportError(error, "Kafka request failed")));
        },
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      pending.rejectAll(() => new TransportError("CLOSED", "the Kafka requester was closed"));
      const current = consumer;
      consumer = undefined;
      if (current) {
        const joined = await stopConsumer(current.client, current.ready);
        if (joined && generatedGroup) {
          // A group per requester instance: leave none behind.
          const admin = kafka.admin();
          await admin
            .connect()
            .then(() => admin.deleteGroups([groupId]))
            .catch((error: unknown) => logger.debug({ err: error, groupId }, "could not delete the reply group"))
            .finally(() => admin.disconnect().catch(() => {}));
        }
      }
      if (ownPublisher) await publisher.close();
    },
  };
}

/**
 * Serves the requests of `options.topic` in consumer group `options.groupId` on a Kafka subscription
 * (`createKafkaSubscription` without retry tiers: no retry topics). Each request is handed to `handler` (up to
 * `concurrency` at once) and its reply is written to the topic named by the request's `reply-to` header, with the
 * request's `correlation-id` and key, and the headers `message-id`, `event-type` and `content-type` when the reply
 * has them; then the request is acked (its offset committed once every request before it is settled too). A
 * handler answering `null`, or a request without `reply-to`, gets no reply. A handler that throws, or a reply
 * that cannot be written (within 10 s), is logged and the request skipped (acked: the requester times out). A new
 * group starts at the end of the topic as it is when it first joins (`from: "latest"`, resolved before `ready`
 * resolves and committed at once): requests written before `ready` may be missed. Never throws.
 */
export function serveKafkaRequests(
  connection: KafkaConnection,
  options: KafkaResponderOptions,
  handler: RequestHandler<KafkaIncomingRequest>,
): KafkaResponder {
  const logger = options.logger ?? silentLogger;
  const { topic, groupId } = options;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  const clientId = options.clientId ?? "kronos-responder";
  const ownPublisher = options.publisher === undefined;
  const publisher = options.publisher ?? createKafkaPublisher(connection, { clientId, logger });
  const inHand = new RequestsInHand();

  const replyRecord = (request: KafkaIncomingRequest, replyTo: string, reply: OutgoingReply): KafkaRecord => {
    const headers: Record<string, string> = { ...reply.headers, "message-id": reply.messageId };
    if (reply.correlationId !== undefined) headers["correlation-id"] = reply.correlationId;
    if (reply.type !== undefined) headers["event-type"] = reply.type;
    if (reply.contentType !== undefined) headers["content-type"] = reply.contentType;
    return { topic: replyTo, key: request.key, value: reply.content, headers };
  };

  const serve = async (delivery: Delivery): Promise<void> => {
    const partition = delivery.position?.partition ?? -1;
    const offset = delivery.position?.offset ?? "";
    const request: KafkaIncomingRequest = {
      ...incomingRequest(delivery.body, delivery.headers),
      key: delivery.key ?? null,
      partition,
      offset,
    };
    const where = { topic, partition, offset, correlationId: request.correlationId };
    const answer = await answerRequest(request, handler, logger, where);
    if (answer.outcome === "failed") {
      logger.error({ ...where, err: answer.error }, "request handler failed; the request is skipped");
    } else if (answer.outcome === "reply") {
      try {
        await publisher.publish(replyRecord(request, answer.replyTo, answer.reply), { timeoutMs: REPLY_TIMEOUT_MS });
      } catch (error) {
        logger.error({ ...where, err: error, replyTo: answer.replyTo }, "could not write the reply");
      }
    }
    // Rejects only with CLOSED (the responder is closing: the offset stays uncommitted, the request comes again).
    await delivery.ack().catch((error: unknown) => logger.debug({ ...where, err: error }, "request not acked"));
  };

  let subscription: KafkaSubscription | undefined;
  let ready: Promise<void>;
  try {
    subscription = createKafkaSubscription(
      connection,
      {
        topic,
        groupId,
        from: "latest",
        maxInFlight: concurrency,
        consumerName: clientId,
        retryTiersMs: [],
        ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
        logger,
      },
      (delivery) => inHand.add(serve(delivery)),
    );
    ready = subscription.ready.then(() => logger.info({ topic, groupId }, "serving Kafka requests"));
  } catch (error) {
    // INVALID_OPTIONS (e.g. an empty groupId or a topic name Kafka refuses): reported through `ready`.
    ready = Promise.reject(error);
  }
  // A caller that never awaits `ready` must not get an unhandled rejection.
  ready.catch(() => {});
  let closing: Promise<void> | undefined;

  return {
    ready,
    close() {
      closing ??= (async () => {
        // Requests in hand finish (reply written, offset settled; at most 5 s) before the subscription commits
        // and leaves.
        subscription?.pause();
        await inHand.finished(CLOSE_WAIT_MS);
        await subscription?.close();
        if (ownPublisher) await publisher.close();
      })();
      return closing;
    },
  };
}
