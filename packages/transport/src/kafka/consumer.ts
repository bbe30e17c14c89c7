import { randomBytes } from "node:crypto";
import {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type IMemberAssignment,
  Kafka,
  type KafkaMessage,
} from "kafkajs";
import { createTopic, type TopicOptions } from "../admin/kafka-topics.js";
import { attemptOf, type DeadLetterReason } from "../consume/dead-letter.js";
import type { DeadLetterError, Delivery, DeliveryHandler, RetryOptions, Subscription } from "../consume/delivery.js";
import { describeError, TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { withTimeout } from "../timeout.js";
import { type KafkaConnection, kafkaAdminAccess } from "./connection.js";
import { kafkaCopyHeaders, kafkaHeadersText } from "./headers.js";
import { kafkaLogging } from "./log.js";
import { OffsetTracker } from "./offset-tracker.js";
import { createKafkaPublisher, type KafkaPublisher, type KafkaRecord, kafkaErrorTypes } from "./publisher.js";
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_TIERS_MS,
  deadLetterCopyHeaders,
  deadLetterTopicName,
  KAFKA_RETRY_HEADERS,
  type OriginalRecord,
  originalRecord,
  retryCopyHeaders,
  retryDueAt,
  retryTier,
  retryTopicName,
  validateRetryTiers,
} from "./retry-topics.js";

/** Options of {@link createKafkaSubscription}. */
export interface KafkaSubscriptionOptions {
  readonly topic: string;
  /**
   * Consumer group. With one, offsets are committed (up to the lowest unsettled offset of each partition), so
   * another member or a restart continues where the group left off. Without one, the subscription is an
   * ephemeral tail: a unique throwaway group that never commits and is deleted on close.
   */
  readonly groupId?: string;
  /** Where a group with no committed offsets, or an ephemeral tail, starts. Default "latest". */
  readonly from?: "latest" | "earliest";
  /**
   * Resume exactly: the next offset to read per partition (e.g. from a client's Last-Event-ID). Overrides
   * committed offsets and `from` for those partitions, the first time each is assigned; clamped to what the
   * partition still holds.
   */
  readonly startOffsets?: ReadonlyMap<number, string>;
  /** Most unsettled deliveries at once (≥ 1); at the limit the subscription stops fetching until one is settled. */
  readonly maxInFlight: number;
  /** Kafka client id, and the `consumer` of dead letters written by an ephemeral subscription. */
  readonly consumerName: string;
  /** Attempts before a retry becomes a dead letter with reason `max-attempts`. Default 5. */
  readonly maxAttempts?: number;
  /** Retry tiers in ms, ascending; one retry topic `<topic>.retry.<tier>` each. Default [1000, 5000, 30000, 300000]. */
  readonly retryTiersMs?: readonly number[];
  readonly logger?: TransportLogger;
}

/** A {@link Subscription} on a Kafka topic. */
export interface KafkaSubscription extends Subscription {
  /**
   * After `ready`: the offset each assigned partition of the topic started from (committed offset, `startOffsets`
   * entry, or `from` resolved to a concrete offset), so a client cursor can cover partitions it has not received
   * a message from yet. Partitions revoked in a rebalance are left out.
   */
  startPositions(): ReadonlyMap<number, string>;
}

// Group membership: a member is declared dead after SESSION_TIMEOUT_MS without a heartbeat (Kafka's minimum is
// 6 s by default). A hand-over waits at most SLOT_WAIT_MS for a free slot, heartbeating meanwhile, so heartbeats
// (during such waits, after every batch, and every fetch loop) stay regular.
const SESSION_TIMEOUT_MS = 10_000;
const HEARTBEAT_INTERVAL_MS = 1_000;
const REBALANCE_TIMEOUT_MS = 10_000;
/** Longest a fetch waits for data: the latency of an idle subscription (SSE streams, tests). */
const MAX_WAIT_TIME_MS = 100;
/** Longest a batch waits for a free delivery slot before it gives up and the partitions are paused. */
const SLOT_WAIT_MS = 1000;
/** Settlements within this window share one commit. */
const COMMIT_DEBOUNCE_MS = 100;
const COMMIT_RETRY_MS = 1_000;
/** Bound of `ready`: topic checks, retry-topic creation, joining the group. */
const READY_TIMEOUT_MS = 30_000;
const ADMIN_TIMEOUT_MS = 10_000;
/** Bound of each step of `close()`. */
const CLOSE_STEP_TIMEOUT_MS = 5_000;
/** A delivery whose handler failed and could not be retried is given back after this long. */
const HANDLER_FAILURE_RELEASE_MS = 1_000;

/**
 * Checks {@link KafkaSubscriptionOptions}; throws `INVALID_OPTIONS` naming the topic and the option. Exported for
 * the unit tests.
 */
export function validateSubscriptionOptions(options: KafkaSubscriptionOptions): void {
  const invalid = (message: string) =>
    new TransportError("INVALID_OPTIONS", `Kafka subscription to "${options.topic}": ${message}`);
  if (typeof options.topic !== "string" || !/^[a-zA-Z0-9._-]{1,249}$/.test(options.topic)) {
    throw invalid("topic must be a valid Kafka topic name");
  }
  if (!Number.isSafeInteger(options.maxInFlight) || options.maxInFlight < 1) {
    throw invalid(`maxInFlight must be an integer ≥ 1, got ${String(options.maxInFlight)}`);
  }
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw invalid(`maxAttempts must be an integer ≥ 1, got ${String(options.maxAttempts)}`);
  }
  if (options.groupId !== undefined && options.groupId.length === 0) throw invalid("groupId must not be empty");
  if (options.consumerName.length === 0) throw invalid("consumerName must not be empty");
  if (options.from !== undefined && options.from !== "latest" && options.from !== "earliest") {
    throw invalid(`from must be "latest" or "earliest", got ${JSON.stringify(options.from)}`);
  }
  for (const [partition, offset] of options.startOffsets ?? []) {
    if (!Number.isSafeInteger(partition) || partition < 0 || !/^\d{1,19}$/.test(offset)) {
      throw invalid(`startOffsets must map partitions (≥ 0) to offsets (decimal, ≥ 0), got ${partition} → ${offset}`);
    }
  }
  validateRetryTiers(options.topic, options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS);
}

/** Retry topics already created (or found) per connection, so each is created once per process. */
const ensuredTopics = new WeakMap<KafkaConnection, Map<string, Promise<void>>>();

/** Creates `name` unless it exists ("exists", or exists with other settings: a retry topic works either way). */
function ensureTopic(
  connection: KafkaConnection,
  name: string,
  options: TopicOptions,
  logger: TransportLogger,
): Promise<void> {
  let topics = ensuredTopics.get(connection);
  if (!topics) {
    topics = new Map();
    ensuredTopics.set(connection, topics);
  }
  const known = topics;
  let pending = known.get(name);
  if (!pending) {
    pending = createTopic(connection, name, options).then(
      () => undefined,
      (error: unknown) => {
        if (error instanceof TransportError && error.code === "TOPIC_CONFLICT") {
          logger.info({ topic: name, err: error }, "Kafka topic exists with other settings; using it as it is");
          return;
        }
        known.delete(name);
        throw error;
      },
    );
    known.set(name, pending);
  }
  return pending;
}

/** Whether a kafkajs DeleteGroups error only says the group does not exist (any more). */
function groupNotFound(error: unknown): boolean {
  const groups = (error as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups) || groups.length === 0) return kafkaErrorTypes(error).has("GROUP_ID_NOT_FOUND");
  return groups.every((group) =>
    kafkaErrorTypes((group as { error?: unknown } | null)?.error).has("GROUP_ID_NOT_FOUND"),
  );
}

/** A record handed out: what a delivery, a retry copy and a dead letter are made from. */
interface HeldRecord {
  /** Where it was read: the subscription's topic or one of its retry topics. */
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  /** The headers as text (`kafkaHeadersText` of the raw ones), read once: attempts, retry bookkeeping, delivery. */
  readonly headers: Readonly<Record<string, string>>;
  /** The record as Kafka gave it: deliveries read their body and key from it, copies keep it byte for byte. */
  readonly raw: { readonly key: Buffer | null; readonly value: Buffer | null; readonly headers: IHeaders | undefined };
  readonly attempt: number;
  /** The record on the subscription's topic it stands for (itself, or the original of a retried copy). */
  readonly original: OriginalRecord;
}

interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Where a newly assigned partition starts, and what the group had committed there. */
interface PartitionStart extends TopicPartition {
  readonly offset: string;
  readonly committed: string | undefined;
  /** Taken from `startOffsets` (which then no longer applies to this partition). */
  readonly fromStartOffsets: boolean;
}

const partitionKey = (topic: string, partition: number) => `${partition}\u0000${topic}`;

/**
 * Subscribes to a Kafka topic with per-message settlement (the shared {@link Delivery} interface), out-of-order
 * acks, retry topics and a dead-letter topic. Throws `INVALID_OPTIONS` at once for invalid options; everything
 * else is reported through `ready`.
 *
 * - **Offsets.** One kafkajs consumer, auto-commit off. With a `groupId`, each partition is committed up to its
 *   lowest unsettled offset (acked, or confirmed on a retry or dead-letter topic), at most every 100 ms and on
 *   close: a crash, a member kicked from the group (tulios/kafkajs#1083, #1527) or a reset costs duplicates,
 *   never a skipped message. Partitions revoked in a rebalance are forgotten (their deliveries still settle, but
 *   are no longer committed by this member); partitions kept are sought back to where this member was. A
 *   group's start positions are committed at once, so `from` only matters the first time a group meets a
 *   partition (records published while no member runs are not skipped by a later `from: "latest"`).
 * - **Positions.** Every newly assigned partition is sought explicitly: `startOffsets` (first assignment only),
 *   else the committed offset, else `from` resolved to a concrete offset, each clamped to the partition's
 *   watermarks (so kafkajs never resets an out-of-range offset itself). See {@link KafkaSubscription.startPositions}.
 * - **Backpressure.** Hand-overs never block inside kafkajs' batch callback (a slow handler would get the member
 *   kicked). At `maxInFlight` unsettled deliveries, or after `pause()`, every partition is paused; records fetched
 *   but not handed over are not marked consumed, so the next fetch starts at them again.
 * - **Retries.** `retry()` publishes a copy (acks=all) to `<topic>.retry.<tier>`, the delay rounded up to a tier
 *   (longer delays take the longest tier), then settles the original. The subscription consumes its retry topics
 *   in the same group: copies another group retried are skipped, a copy not due yet pauses its partition until
 *   it is (a timer, no busy loop), a due copy is handed over with `source` and `position` naming the ORIGINAL
 *   record (so `position` can be behind positions already delivered), `attempt` from `x-kronos-attempt`, and
 *   the record timestamp of the original. Settling it commits the retry topic's offset. Every retry topic is
 *   created when the subscription starts (every member of a group must subscribe to the same topics: kafkajs'
 *   group leader assigns only the topics it subscribes to), with the topic's partition count.
 * - **Dead letters.** `deadLetter()`, and `retry()` at `maxAttempts`, publish the original key, value and headers
 *   plus the `x-kronos-dl-*` headers to `<topic>.dlq` (created on first use) and then settle the original.
 * - **Handler failures.** A handler that throws or rejects before settling its delivery gets it retried (shortest
 *   tier, counting an attempt); if that publish fails, it is released a second later.
 * - **`release()`** hands the same record to the handler again (`redelivered: true`), once the subscription is not
 *   paused; it keeps its place in `maxInFlight`.
 *
 * `ready` rejects with `DESTINATION_NOT_FOUND` when the topic does not exist, `KAFKA_UNAVAILABLE` when Kafka cannot
 * be reached or the group not joined within 30 s, `CLOSED` when closed first; the subscription is then closed.
 * Settling after `close()` rejects with `CLOSED`. All members of a group must use the same retry tiers.
 */
export function createKafkaSubscription(
  connection: KafkaConnection,
  options: KafkaSubscriptionOptions,
  handler: DeliveryHandler,
): KafkaSubscription {
  validateSubscriptionOptions(options);
  return new KafkaTopicSubscription(connection, options, handler);
}

class KafkaTopicSubscription implements KafkaSubscription {
  readonly ready: Promise<void>;

  readonly #connection: KafkaConnection;
  readonly #handler: DeliveryHandler;
  readonly #logger: TransportLogger;
  readonly #topic: string;
  readonly #groupId: string | undefined;
  /** The kafkajs group: `groupId`, or the ephemeral id. Also what retried copies name in `x-kronos-retry-for`. */
  readonly #memberOf: string;
  readonly #from: "latest" | "earliest";
  readonly #startOffsets: ReadonlyMap<number, string>;
  readonly #maxInFlight: number;
  readonly #maxAttempts: number;
  readonly #consumerName: string;
  readonly #tiers: readonly number[];
  readonly #retryTopics: readonly string[];

  readonly #tracker = new OffsetTracker();
  #consumer: Consumer | undefined;
  #partitionCount = 1;
  /** Deliveries handed out and not settled (released ones included: they keep their place). */
  #inFlight = 0;
  /** Batches waiting for a free slot (see {@link #slotFreed}). */
  readonly #slotWaiters = new Set<() => void>();
  /** At `maxInFlight` until the unsettled deliveries fall to half of it (see {@link #isSaturated}). */
  #saturated = false;
  #userPaused = false;
  /** True from a group join until its new partitions are positioned: nothing is fetched meanwhile. */
  #positioning = false;
  #generation = 0;
  /** Retry-topic partitions waiting for a copy that is not due yet. */
  readonly #notDue = new Map<string, { topic: string; partition: number; timer: NodeJS.Timeout }>();
  readonly #startPositions = new Map<number, string>();
  readonly #startOffsetsUsed = new Set<number>();
  readonly #redeliveries: HeldRecord[] = [];
  #redeliveryScheduled = false;
  /** Settling operations under way (retry and dead-letter publishes): close waits for them before committing. */
  readonly #operations = new Set<Promise<unknown>>();
  #commitTimer: NodeJS.Timeout | undefined;
  #committing: Promise<void> | undefined;
  #publisher: KafkaPublisher | undefined;
  #closing = false;
  #closed: Promise<void> | undefined;
  readonly #assigned: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };

  constructor(connection: KafkaConnection, options: KafkaSubscriptionOptions, handler: DeliveryHandler) {
    this.#connection = connection;
    this.#handler = handler;
    this.#logger = options.logger ?? silentLogger;
    this.#topic = options.topic;
    this.#groupId = options.groupId;
    this.#consumerName = options.consumerName;
    this.#memberOf = options.groupId ?? `${options.consumerName}.ephemeral.${randomBytes(8).toString("hex")}`;
    this.#from = options.from ?? "latest";
    this.#startOffsets = new Map(options.startOffsets ?? []);
    this.#maxInFlight = options.maxInFlight;
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.#tiers = validateRetryTiers(options.topic, options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS);
    this.#retryTopics = this.#tiers.map((tier) => retryTopicName(options.topic, tier));

    let resolve = () => {};
    let reject: (error: Error) => void = () => {};
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    promise.catch(() => {});
    this.#assigned = { promise, resolve, reject };

    const what = `Kafka subscription to "${this.#topic}" (group "${this.#memberOf}")`;
    this.ready = withTimeout(this.#start(), READY_TIMEOUT_MS, what).catch(async (error: unknown) => {
      const failure = this.#startFailure(what, error);
      if (!this.#closing) {
        this.#logger.warn({ err: failure, topic: this.#topic, group: this.#memberOf }, "Kafka subscription failed");
      }
      await this.close();
      throw failure;
    });
    // Callers may never look at `ready` (and learn about failures from their handler not being called): a
    // rejection must not crash the process as unhandled.
    this.ready.catch(() => {});
  }

  startPositions(): ReadonlyMap<number, string> {
    return new Map([...this.#startPositions].sort(([a], [b]) => a - b));
  }

  pause(): void {
    this.#userPaused = true;
    this.#applyPauses();
  }

  resume(): void {
    this.#userPaused = false;
    this.#wakeSlotWaiters();
    this.#applyPauses();
    this.#scheduleRedelivery();
  }

  close(): Promise<void> {
    this.#wakeSlotWaiters();
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  // ---- starting ------------------------------------------------------------------------------------------------

  #startFailure(what: string, error: unknown): TransportError {
    if (error instanceof TransportError) {
      if (error.code !== "TIMEOUT") return error;
      return new TransportError("KAFKA_UNAVAILABLE", `${what}: not consuming after ${READY_TIMEOUT_MS} ms`, {
        cause: error,
      });
    }
    const code = kafkaErrorTypes(error).has("UNKNOWN_TOPIC_OR_PARTITION")
      ? "DESTINATION_NOT_FOUND"
      : "KAFKA_UNAVAILABLE";
    return new TransportError(code, `${what} failed: ${describeError(error)}`, { cause: error });
  }

  #checkOpen(): void {
    if (this.#closing) throw new TransportError("CLOSED", `the Kafka subscription to "${this.#topic}" was closed`);
  }

  async #start(): Promise<void> {
    this.#partitionCount = await this.#withAdmin(`Kafka metadata of topic "${this.#topic}"`, async (admin) => {
      if (!(await admin.listTopics()).includes(this.#topic)) {
        throw new TransportError(
          "DESTINATION_NOT_FOUND",
          `Kafka topic "${this.#topic}" does not exist (on ${this.#connection.brokers.join(",")}): create it before subscribing`,
        );
      }
      const metadata = await admin.fetchTopicMetadata({ topics: [this.#topic] });
      return Math.max(1, metadata.topics[0]?.partitions.length ?? 1);
    });
    this.#checkOpen();
    await Promise.all(
      this.#retryTopics.map((name) =>
        ensureTopic(this.#connection, name, { partitions: this.#partitionCount }, this.#logger),
      ),
    );
    this.#checkOpen();

    const kafka = new Kafka({
      clientId: this.#consumerName,
      brokers: [...this.#connection.brokers],
      connectionTimeout: 1000,
      requestTimeout: 10_000,
      ...kafkaLogging(this.#logger),
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    const consumer = kafka.consumer({
      groupId: this.#memberOf,
      sessionTimeout: SESSION_TIMEOUT_MS,
      rebalanceTimeout: REBALANCE_TIMEOUT_MS,
      heartbeatInterval: HEARTBEAT_INTERVAL_MS,
      maxWaitTimeInMs: MAX_WAIT_TIME_MS,
      allowAutoTopicCreation: false,
      // kafkajs restarts a crashed consumer (rejoining the group) unless told not to: never after close.
      retry: {
        retries: 5,
        initialRetryTime: 100,
        maxRetryTime: 2000,
        restartOnFailure: async () => !this.#closing,
      },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.#onGroupJoin(event.payload.memberAssignment));
    consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
      for (const { topic, partitions } of event.payload.topics) {
        for (const { partition, offset } of partitions) this.#tracker.committed(topic, partition, String(offset));
      }
    });
    // Best effort: commit what is settled before the partitions move (the next owner then repeats less).
    consumer.on(consumer.events.REBALANCING, () => void this.#commit());
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      const fields = { err: error, topic: this.#topic, group: this.#memberOf, restart };
      if (restart) this.#logger.warn(fields, "Kafka consumer crashed; kafkajs restarts it");
      else if (!this.#closing) this.#logger.error(fields, "Kafka consumer crashed for good; close the subscription");
      if (!restart) this.#assigned.reject(error);
    });

    // close() may have disconnected the consumer while it was connecting: disconnect again, so nothing connected
    // after that stays open.
    const checkStillOpen = async () => {
      if (!this.#closing) return;
      await consumer.disconnect().catch(() => {});
      this.#checkOpen();
    };
    await consumer.connect();
    await checkStillOpen();
    await consumer.subscribe({ topics: [this.#topic], fromBeginning: this.#from === "earliest" });
    await consumer.subscribe({ topics: [...this.#retryTopics], fromBeginning: this.#groupId !== undefined });
    await checkStillOpen();
    consumer
      .run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => this.#eachBatch(payload),
      })
      .catch((error: unknown) => this.#assigned.reject(error instanceof Error ? error : new Error(String(error))));
    await this.#assigned.promise;
  }

  /** Runs `operation` with the connection's admin client, bounded; failures other than ours → KAFKA_UNAVAILABLE. */
  async #withAdmin<T>(what: string, operation: (admin: Admin) => Promise<T>): Promise<T> {
    const access = kafkaAdminAccess(this.#connection);
    try {
      return await withTimeout(
        access.admin().then((admin) => operation(admin)),
        ADMIN_TIMEOUT_MS,
        what,
      );
    } catch (error) {
      if (error instanceof TransportError && error.code !== "TIMEOUT" && error.code !== "KAFKA_UNAVAILABLE")
        throw error;
      // An admin client that failed or hung is not trusted again (tulios/kafkajs#919, #979).
      await access.reset();
      if (error instanceof TransportError && error.code === "KAFKA_UNAVAILABLE") throw error;
      throw new TransportError("KAFKA_UNAVAILABLE", `${what} failed: ${describeError(error)}`, { cause: error });
    }
  }

  // ---- assignment ----------------------------------------------------------------------------------------------

  /**
   * A (re)join: forget revoked partitions, seek kept ones back to where this member was (kafkajs would restart
   * them from the committed offset, or for an ephemeral group from `from` again, skipping what was fetched), and
   * position new ones. Runs synchronously inside kafkajs' join, before its first fetch, so pausing here holds
   * every fetch until the new partitions are sought.
   */
  #onGroupJoin(assignment: IMemberAssignment): void {
    if (this.#closing) {
      // A join that completed during close (kafkajs cannot stop a join in progress): leave again.
      void this.#consumer?.disconnect().catch(() => {});
      return;
    }
    const generation = ++this.#generation;
    this.#positioning = true;
    this.#applyPauses();
    const current = new Set<string>();
    const fresh: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        current.add(partitionKey(topic, partition));
        const position = this.#tracker.position(topic, partition);
        if (position === undefined) fresh.push({ topic, partition });
        else this.#seek(topic, partition, position);
      }
    }
    for (const { topic, partition } of this.#tracker.assigned()) {
      if (current.has(partitionKey(topic, partition))) continue;
      this.#tracker.revoke(topic, partition);
      if (topic === this.#topic) this.#startPositions.delete(partition);
      this.#stopWaiting(topic, partition);
    }
    this.#logger.debug(
      { topic: this.#topic, group: this.#memberOf, assignment, fresh: fresh.length },
      "Kafka subscription assigned",
    );
    void this.#position(generation, fresh);
  }

  /** Positions newly assigned partitions (retrying until it works or a newer join supersedes it). */
  async #position(generation: number, fresh: TopicPartition[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const starts = fresh.length === 0 ? [] : await this.#startsOf(fresh);
        if (generation !== this.#generation || this.#closing) return;
        for (const start of starts) {
          this.#tracker.assign(start.topic, start.partition, start.offset, start.committed);
          this.#seek(start.topic, start.partition, start.offset);
          if (start.topic === this.#topic) this.#startPositions.set(start.partition, start.offset);
          if (start.fromStartOffsets) this.#startOffsetsUsed.add(start.partition);
        }
        this.#positioning = false;
        this.#applyPauses();
        this.#scheduleCommit();
        this.#assigned.resolve();
        return;
      } catch (error) {
        if (generation !== this.#generation || this.#closing) return;
        this.#logger.warn(
          { err: error, topic: this.#topic, group: this.#memberOf, attempt },
          "Kafka subscription could not position its partitions; trying again",
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * attempt)).unref());
      }
    }
  }

  /**
   * Where each new partition starts: `startOffsets` (first assignment of a topic partition), the group's committed
   * offset, else the default (topic: `from`; retry topics: earliest for a group, whose copies must not be missed
   * after a crash, latest for an ephemeral subscription, which only wants its own new copies); clamped to the
   * partition's low/high watermarks.
   */
  async #startsOf(fresh: TopicPartition[]): Promise<PartitionStart[]> {
    const topics = [...new Set(fresh.map((tp) => tp.topic))];
    const groupId = this.#groupId;
    return this.#withAdmin(`Kafka offsets of "${this.#topic}" for group "${this.#memberOf}"`, async (admin) => {
      const [committed, watermarks] = await Promise.all([
        groupId === undefined ? Promise.resolve([]) : admin.fetchOffsets({ groupId, topics }),
        Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))),
      ]);
      return fresh.map(({ topic, partition }) => {
        const marks = watermarks.find((w) => w.topic === topic)?.offsets.find((p) => p.partition === partition);
        const low = BigInt(marks?.low ?? "0");
        const high = BigInt(marks?.high ?? "0");
        const stored = committed.find((c) => c.topic === topic)?.partitions.find((p) => p.partition === partition);
        const committedOffset = stored !== undefined && /^\d+$/.test(stored.offset) ? stored.offset : undefined;
        const requested = topic === this.#topic ? this.#startOffsets.get(partition) : undefined;
        const fromStartOffsets = requested !== undefined && !this.#startOffsetsUsed.has(partition);
        let start: bigint;
        if (fromStartOffsets) start = BigInt(requested);
        else if (committedOffset !== undefined) start = BigInt(committedOffset);
        else if (topic === this.#topic) start = this.#from === "earliest" ? low : high;
        else start = groupId === undefined ? high : low;
        if (start < low) start = low;
        if (start > high) start = high;
        return { topic, partition, offset: start.toString(), committed: committedOffset, fromStartOffsets };
      });
    });
  }

  #seek(topic: string, partition: number, offset: string): void {
    try {
      this.#consumer?.seek({ topic, partition, offset });
    } catch (error) {
      this.#logger.debug({ err: error, topic, partition }, "Kafka seek skipped: the consumer is not running");
    }
  }

  /**
   * Pauses or resumes the partitions as the state says: everything while closing, positioning, paused by the
   * caller or at `maxInFlight`; otherwise only retry partitions waiting for a copy to be due. Idempotent, so it
   * is simply called after every change (and after a crash restart, which forgets kafkajs' pauses).
   */
  #applyPauses(): void {
    const consumer = this.#consumer;
    if (!consumer) return;
    const topics = [this.#topic, ...this.#retryTopics].map((topic) => ({ topic }));
    const everything = this.#closing || this.#positioning || this.#userPaused || this.#isSaturated();
    try {
      if (everything) {
        consumer.pause(topics);
        return;
      }
      consumer.resume(topics);
      const waiting = new Map<string, number[]>();
      for (const { topic, partition } of this.#notDue.values())
        waiting.set(topic, [...(waiting.get(topic) ?? []), partition]);
      if (waiting.size > 0) consumer.pause([...waiting].map(([topic, partitions]) => ({ topic, partitions })));
    } catch (error) {
      // kafkajs refuses pause/resume while the consumer is not running (before a run, between a crash and its
      // restart); the next join applies the state again.
      this.#logger.debug({ err: error, topic: this.#topic }, "Kafka pause/resume skipped: the consumer is not running");
    }
  }

  /**
   * True from the moment `maxInFlight` deliveries are unsettled until only half of them (rounded down) are.
   * Resuming at every freed slot would cost a whole fetch per record: a fetched batch is cut where the limit is
   * reached and the rest fetched again later, so each resume must leave room for many records.
   */
  #isSaturated(): boolean {
    if (this.#inFlight >= this.#maxInFlight) this.#saturated = true;
    else if (this.#inFlight <= Math.floor(this.#maxInFlight / 2)) this.#saturated = false;
    return this.#saturated;
  }

  /** Holds a retry partition until its next copy is due. */
  #waitUntilDue(topic: string, partition: number, dueAtMs: number): void {
    const key = partitionKey(topic, partition);
    if (this.#notDue.has(key)) return;
    const timer = setTimeout(
      () => {
        this.#notDue.delete(key);
        this.#applyPauses();
      },
      Math.max(0, dueAtMs - Date.now()) + 1,
    );
    timer.unref();
    this.#notDue.set(key, { topic, partition, timer });
    this.#applyPauses();
  }

  #stopWaiting(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const waiting = this.#notDue.get(key);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.#notDue.delete(key);
  }

  // ---- consuming -----------------------------------------------------------------------------------------------

  /**
   * kafkajs' batch callback. Hands records over in offset order and returns as soon as one cannot be (paused, at
   * `maxInFlight`, not due, positioning, closing): auto-resolve is off, so only the records handed over (or
   * skipped) are marked consumed and the next fetch of the partition starts at the first one left. (No explicit
   * seek: a seek pending when the partition is revoked stays in kafkajs and would apply if it came back later.)
   */
  async #eachBatch({ batch, resolveOffset, isRunning, isStale, heartbeat }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const fromRetryTopic = topic !== this.#topic;
    for (const message of batch.messages) {
      if (this.#closing || this.#positioning || !isRunning() || isStale()) return;
      const status = this.#tracker.classify(topic, partition, message.offset);
      if (status === "unassigned") return;
      if (status === "seen") {
        resolveOffset(message.offset);
        continue;
      }
      if (this.#notDue.has(partitionKey(topic, partition))) return;
      const record = this.#recordOf(topic, partition, message);
      if (fromRetryTopic) {
        if (record.headers[KAFKA_RETRY_HEADERS.retryFor] !== this.#memberOf) {
          // Another group's copy: nothing to do, settled at once.
          this.#tracker.hand(topic, partition, message.offset);
          if (this.#tracker.settle(topic, partition, message.offset)) this.#scheduleCommit();
          resolveOffset(message.offset);
          continue;
        }
        const dueAt = retryDueAt(record.headers);
        if (dueAt !== undefined && dueAt > Date.now()) {
          this.#waitUntilDue(topic, partition, dueAt);
          return;
        }
      }
      if (this.#userPaused || this.#isSaturated()) {
        // Wait a little for room with the batch in hand: returning would drop the rest of the fetched batch and
        // cost a refetch (and kafkajs' idle wait) for every few records.
        if (!(await this.#slotFreed(isRunning, isStale, heartbeat))) {
          this.#applyPauses();
          return;
        }
        if (this.#closing || this.#positioning) return;
      }
      this.#tracker.hand(topic, partition, message.offset);
      this.#inFlight++;
      resolveOffset(message.offset);
      if (this.#inFlight >= this.#maxInFlight) this.#applyPauses();
      this.#deliver(record, false);
    }
  }

  #recordOf(topic: string, partition: number, message: KafkaMessage): HeldRecord {
    const headers = kafkaHeadersText(message.headers);
    const timestamp = Number(message.timestamp);
    const read = {
      topic,
      partition,
      offset: message.offset,
      timestampMs: message.timestamp !== undefined && Number.isFinite(timestamp) ? timestamp : undefined,
    };
    return {
      topic,
      partition,
      offset: message.offset,
      headers,
      raw: { key: message.key, value: message.value, headers: message.headers },
      attempt: attemptOf(headers),
      original: topic === this.#topic ? read : originalRecord(headers, { ...read, topic: this.#topic }),
    };
  }

  /** Calls the handler; never awaits it (see the class TSDoc for what a failure does). */
  #deliver(record: HeldRecord, redelivered: boolean): void {
    const delivery = this.#delivery(record, redelivered);
    try {
      const result: unknown = this.#handler(delivery);
      if (result instanceof Promise) result.catch((error: unknown) => this.#handlerFailed(delivery, error));
    } catch (error) {
      this.#handlerFailed(delivery, error);
    }
  }

  #handlerFailed(delivery: Delivery, error: unknown): void {
    this.#logger.warn(
      { err: error, topic: this.#topic, position: delivery.position, attempt: delivery.attempt },
      "Kafka subscription handler failed; retrying the delivery",
    );
    delivery.retry({ delayMs: 0, reason: `handler failed: ${describeError(error)}` }).catch((retryError: unknown) => {
      const code = retryError instanceof TransportError ? retryError.code : undefined;
      if (code === "ALREADY_SETTLED" || code === "CLOSED") return;
      this.#logger.error(
        { err: retryError, topic: this.#topic, position: delivery.position },
        "Kafka subscription could not retry a failed delivery; releasing it shortly",
      );
      setTimeout(() => void delivery.release().catch(() => {}), HANDLER_FAILURE_RELEASE_MS).unref();
    });
  }

  #delivery(record: HeldRecord, redelivered: boolean): Delivery {
    let state: "open" | "settling" | "settled" = "open";
    const settle = <T>(what: string, operation: () => Promise<T>): Promise<T> => {
      if (this.#closing) {
        return Promise.reject(
          new TransportError("CLOSED", `cannot ${what}: the Kafka subscription to "${this.#topic}" is closed`),
        );
      }
      if (state !== "open") {
        return Promise.reject(
          new TransportError(
            "ALREADY_SETTLED",
            `cannot ${what}: the delivery ${record.topic}[${record.partition}]@${record.offset} was settled already`,
          ),
        );
      }
      state = "settling";
      const work = operation().then(
        (result) => {
          state = "settled";
          return result;
        },
        (error: unknown) => {
          state = "open";
          throw error;
        },
      );
      const tracked = work.catch(() => {});
      this.#operations.add(tracked);
      void tracked.finally(() => this.#operations.delete(tracked));
      return work;
    };
    return {
      broker: "kafka",
      source: record.original.topic,
      body: record.raw.value ?? Buffer.alloc(0),
      headers: record.headers,
      messageId: record.headers["message-id"],
      eventType: record.headers["event-type"],
      key: record.raw.key?.toString("utf8"),
      redelivered,
      attempt: record.attempt,
      position: { partition: record.original.partition, offset: record.original.offset },
      timestampMs: record.original.timestampMs,
      ack: () => settle("ack", async () => this.#settled(record)),
      release: () => settle("release", async () => this.#release(record)),
      retry: (options: RetryOptions) => settle("retry", () => this.#retry(record, options)),
      deadLetter: (reason: DeadLetterReason, error: DeadLetterError) =>
        settle("dead-letter", async () => {
          await this.#publishDeadLetter(record, reason, error);
          this.#settled(record);
        }),
    };
  }

  /**
   * Resolves true as soon as deliveries may go on (the caller has not paused, and the unsettled deliveries fell to
   * half of `maxInFlight`, as for resuming a fetch: see {@link #isSaturated}), false after {@link SLOT_WAIT_MS} or
   * when the batch goes stale (rebalance, stop). Heartbeats while it waits, so the member is never taken for dead;
   * bounded, so a rebalance is never held up for long. The same threshold as fetching, so whether a record comes
   * from the batch in hand or from a new fetch, the handler sees the same pattern.
   */
  async #slotFreed(isRunning: () => boolean, isStale: () => boolean, heartbeat: () => Promise<void>): Promise<boolean> {
    const deadline = Date.now() + SLOT_WAIT_MS;
    while (this.#userPaused || this.#isSaturated()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.#closing || this.#positioning || !isRunning() || isStale()) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, HEARTBEAT_INTERVAL_MS));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#slotWaiters.add(done);
      });
      try {
        await heartbeat();
      } catch {
        return false; // a rebalance is under way: give the batch up, its records are fetched again
      }
    }
    return true;
  }

  #wakeSlotWaiters(): void {
    for (const wake of this.#slotWaiters) wake();
    this.#slotWaiters.clear();
  }

  /** A delivery is done with: free its place, let the committable offset move. */
  #settled(record: HeldRecord): void {
    this.#inFlight--;
    this.#wakeSlotWaiters();
    if (this.#tracker.settle(record.topic, record.partition, record.offset)) this.#scheduleCommit();
    this.#applyPauses();
  }

  #release(record: HeldRecord): void {
    this.#redeliveries.push(record);
    this.#scheduleRedelivery();
  }

  #scheduleRedelivery(): void {
    if (this.#redeliveryScheduled || this.#redeliveries.length === 0) return;
    this.#redeliveryScheduled = true;
    // Not from inside release(): the handler gets the record again on a fresh stack, after release resolved.
    setImmediate(() => {
      this.#redeliveryScheduled = false;
      while (!this.#closing && !this.#userPaused && this.#redeliveries.length > 0) {
        const record = this.#redeliveries.shift() as HeldRecord;
        if (!this.#tracker.isUnsettled(record.topic, record.partition, record.offset)) {
          // Its partition was revoked: the member that has it now delivers it from the committed offset.
          this.#inFlight--;
          this.#applyPauses();
          continue;
        }
        this.#deliver(record, true);
      }
    });
  }

  async #retry(record: HeldRecord, options: RetryOptions): Promise<"retried" | "dead-lettered"> {
    if (!Number.isFinite(options.delayMs) || options.delayMs < 0) {
      throw new TransportError("INVALID_OPTIONS", `retry delayMs must be a number ≥ 0, got ${String(options.delayMs)}`);
    }
    const reason = options.reason ?? `retry requested at attempt ${record.attempt}`;
    const error = { code: "CLIENT_RETRY", message: reason };
    if (record.attempt >= this.#maxAttempts) {
      await this.#publishDeadLetter(record, "max-attempts", error);
      this.#settled(record);
      return "dead-lettered";
    }
    const tier = retryTier(options.delayMs, this.#tiers);
    const now = Date.now();
    const headers = retryCopyHeaders({
      headers: record.headers,
      attempt: record.attempt,
      error,
      nowMs: now,
      dueAtMs: now + tier,
      retryFor: this.#memberOf,
      original: record.original,
    });
    await this.#publish(retryTopicName(this.#topic, tier), record, headers, { partitions: this.#partitionCount });
    this.#settled(record);
    return "retried";
  }

  async #publishDeadLetter(record: HeldRecord, reason: DeadLetterReason, error: DeadLetterError): Promise<void> {
    const headers = deadLetterCopyHeaders({
      headers: record.headers,
      reason,
      error,
      attempt: record.attempt,
      original: record.original,
      consumer: this.#groupId ?? this.#consumerName,
      nowMs: Date.now(),
    });
    await this.#publish(deadLetterTopicName(this.#topic), record, headers, {});
  }

  /**
   * Publishes a copy of `record` with acks=all, creating the topic on first use: the same key and value bytes (a
   * tombstone stays one), the headers as `headers` says, each unchanged one with its original bytes.
   */
  async #publish(
    topic: string,
    record: HeldRecord,
    headers: Record<string, string>,
    topicOptions: TopicOptions,
  ): Promise<void> {
    this.#publisher ??= createKafkaPublisher(this.#connection, {
      clientId: `${this.#consumerName}-retry`,
      logger: this.#logger,
    });
    const publisher = this.#publisher;
    const copy: KafkaRecord = {
      topic,
      key: record.raw.key,
      value: record.raw.value,
      headers: kafkaCopyHeaders(record.raw.headers, record.headers, headers),
    };
    await ensureTopic(this.#connection, topic, topicOptions, this.#logger);
    try {
      await publisher.publish(copy);
    } catch (error) {
      if (!(error instanceof TransportError && error.code === "DESTINATION_NOT_FOUND")) throw error;
      // Deleted since it was created (or found): create it again, once.
      ensuredTopics.get(this.#connection)?.delete(topic);
      await ensureTopic(this.#connection, topic, topicOptions, this.#logger);
      await publisher.publish(copy);
    }
  }

  // ---- committing ----------------------------------------------------------------------------------------------

  #scheduleCommit(delayMs = COMMIT_DEBOUNCE_MS): void {
    if (this.#groupId === undefined || this.#closing || this.#commitTimer) return;
    this.#commitTimer = setTimeout(() => {
      this.#commitTimer = undefined;
      void this.#commit();
    }, delayMs);
    this.#commitTimer.unref();
  }

  /**
   * Commits every partition whose committable offset moved (a group only). kafkajs confirms through its
   * COMMIT_OFFSETS event, which updates the tracker; whatever is still due afterwards (a failure, a consumer
   * between crash and restart, settlements meanwhile) is tried again.
   */
  #commit(): Promise<void> {
    const consumer = this.#consumer;
    if (this.#groupId === undefined || !consumer) return Promise.resolve();
    if (this.#committing) return this.#committing;
    const due = this.#tracker.dueCommits();
    if (due.length === 0) return Promise.resolve();
    const committing = (async () => {
      try {
        await consumer.commitOffsets(due.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
      } catch (error) {
        this.#logger.warn({ err: error, topic: this.#topic, group: this.#memberOf }, "Kafka offset commit failed");
      }
    })();
    this.#committing = committing.finally(() => {
      this.#committing = undefined;
      const still = this.#tracker.dueCommits();
      if (still.length === 0) return;
      const failed = due.some((d) =>
        still.some((s) => s.topic === d.topic && s.partition === d.partition && s.offset === d.offset),
      );
      this.#scheduleCommit(failed ? COMMIT_RETRY_MS : COMMIT_DEBOUNCE_MS);
    });
    return this.#committing;
  }

  // ---- closing -------------------------------------------------------------------------------------------------

  async #shutdown(): Promise<void> {
    this.#closing = true;
    this.#assigned.reject(new TransportError("CLOSED", `the Kafka subscription to "${this.#topic}" was closed`));
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    for (const { topic, partition } of [...this.#notDue.values()]) this.#stopWaiting(topic, partition);
    this.#applyPauses();
    const bounded = (work: Promise<unknown>, what: string) =>
      withTimeout(work, CLOSE_STEP_TIMEOUT_MS, what).catch((error: unknown) =>
        this.#logger.warn(
          { err: error, topic: this.#topic, group: this.#memberOf },
          `Kafka subscription close: ${what}`,
        ),
      );
    // Retries and dead letters under way settle their originals once confirmed: wait, then commit them too.
    await bounded(Promise.all([...this.#operations]), "waiting for settlements under way");
    if (this.#groupId !== undefined) {
      await bounded(
        (async () => {
          for (let round = 0; round < 3 && this.#tracker.dueCommits().length > 0; round++) {
            await this.#committing;
            await this.#commit();
          }
        })(),
        "committing offsets",
      );
    }
    const consumer = this.#consumer;
    if (consumer) await bounded(consumer.disconnect(), "disconnecting the consumer");
    await this.#publisher?.close();
    if (this.#groupId === undefined && consumer) {
      await bounded(
        this.#withAdmin(`deleting Kafka consumer group "${this.#memberOf}"`, async (admin) => {
          try {
            await admin.deleteGroups([this.#memberOf]);
          } catch (error) {
            // Kafka drops an empty group without offsets by itself: "not found" is the usual answer.
            if (!groupNotFound(error)) throw error;
          }
        }),
        "deleting the ephemeral group",
      );
    }
  }
}
