import { randomBytes } from "node:crypto";
import type { Admin, Consumer, EachBatchPayload } from "kafkajs";
import type { DeliveryHandler, Subscription } from "../consume/delivery.js";
import type { ConsumePolicy } from "../consume/policy.js";
import { TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { type ConsumeRecorder, NO_CONSUME_METRICS } from "../metrics/consume.js";
import { withTimeout } from "../timeout.js";
import { kafkaClientFor, kafkaClientOptionsFor } from "./client.js";
import type { KafkaConnection } from "./connection.js";
import { ensureTopic, groupNotFound, startFailure, withConsumerAdmin } from "./consumer-admin.js";
import { PartitionAssignment } from "./consumer-assignment.js";
import { OffsetCommitter } from "./consumer-commits.js";
import { KafkaDeliveries } from "./consumer-deliveries.js";
import { FlowControl, HEARTBEAT_INTERVAL_MS } from "./consumer-flow.js";
import { type KafkaSubscriptionOptions, validateSubscriptionOptions } from "./consumer-options.js";
import { heldRecord, KafkaCopies } from "./consumer-settlement.js";
import { OffsetTracker } from "./offset-tracker.js";
import { KAFKA_RETRY_HEADERS, retryDueAt, retryTopicName } from "./retry-topics.js";

export { type KafkaSubscriptionOptions, validateSubscriptionOptions } from "./consumer-options.js";

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
// 6 s by default); heartbeats every HEARTBEAT_INTERVAL_MS (see consumer-flow.ts).
const SESSION_TIMEOUT_MS = 10_000;
const REBALANCE_TIMEOUT_MS = 10_000;
/** Longest a fetch waits for data: the latency of an idle subscription (SSE streams, tests). */
const MAX_WAIT_TIME_MS = 100;
/** Bound of `ready`: topic checks, retry-topic creation, joining the group. */
const READY_TIMEOUT_MS = 30_000;
/** Bound of each step of `close()`. */
const CLOSE_STEP_TIMEOUT_MS = 5_000;

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
 * - **Positions.** Every newly assigned partition is sought explicitly (`PartitionAssignment`): `startOffsets`
 *   (first assignment only), else the committed offset, else `from`, clamped to the partition's watermarks.
 * - **Backpressure.** Never blocks inside kafkajs' batch callback (`FlowControl`): at `maxInFlight` or after
 *   `pause()` every partition is paused; records fetched but not handed over are fetched again.
 * - **Retries.** `retry()` publishes a copy (acks=all) to `<topic>.retry.<tier>`, the delay rounded up to a tier
 *   (longer delays take the longest tier), then settles the original. The subscription consumes its retry topics
 *   in the same group: copies another group retried are skipped, a copy not due yet pauses its partition until
 *   it is (a timer, no busy loop), a due copy is handed over with `source` and `position` naming the ORIGINAL
 *   record (so `position` can be behind positions already delivered), `attempt` from `x-kronos-attempt`, and
 *   the record timestamp of the original. Settling it commits the retry topic's offset. Every retry topic is
 *   created when the subscription starts (every member of a group must subscribe to the same topics: kafkajs'
 *   group leader assigns only the topics it subscribes to), with the topic's partition count. With
 *   `retryTiersMs: []` there are none: no retry topic is created or consumed, and `retry()` dead-letters at once
 *   (reason `max-attempts`: the policy allows one attempt).
 * - **Dead letters.** `deadLetter()`, and `retry()` at `maxAttempts`, publish the original key, value and headers
 *   plus the `x-kronos-dl-*` headers to `<topic>.dlq` (created on first use) and then settle the original.
 * - **Settling** follows the shared consume policy (`consume/policy.ts`, `consume/settlement.ts`): the same
 *   tiers, codes, max-attempts decision, lease (`leaseMs`) and handler-failure rule as RabbitMQ. A handler that
 *   throws or rejects before settling its delivery gets it retried (shortest tier, code `HANDLER_FAILED`,
 *   counting an attempt); if that publish fails, it is released a second later. `metrics` records deliveries,
 *   settlements, retries, dead letters and the records held.
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
  const policy = validateSubscriptionOptions(options);
  return new KafkaTopicSubscription(connection, options, policy, handler);
}

class KafkaTopicSubscription implements KafkaSubscription {
  readonly ready: Promise<void>;

  readonly #connection: KafkaConnection;
  readonly #logger: TransportLogger;
  readonly #topic: string;
  readonly #groupId: string | undefined;
  /** The kafkajs group: `groupId`, or the ephemeral id. Also what retried copies name in `x-kronos-retry-for`. */
  readonly #memberOf: string;
  readonly #from: "latest" | "earliest";
  readonly #consumerName: string;
  readonly #retryTopics: readonly string[];

  readonly #tracker = new OffsetTracker();
  readonly #flow: FlowControl;
  readonly #committer: OffsetCommitter;
  readonly #assignment: PartitionAssignment;
  readonly #copies: KafkaCopies;
  readonly #recorder: ConsumeRecorder;
  readonly #deliveries: KafkaDeliveries;
  #consumer: Consumer | undefined;
  #partitionCount = 1;
  #closing = false;
  #closed: Promise<void> | undefined;
  readonly #assigned: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void };

  constructor(
    connection: KafkaConnection,
    options: KafkaSubscriptionOptions,
    policy: ConsumePolicy,
    handler: DeliveryHandler,
  ) {
    this.#connection = connection;
    this.#logger = options.logger ?? silentLogger;
    this.#topic = options.topic;
    this.#groupId = options.groupId;
    this.#consumerName = options.consumerName;
    this.#memberOf = options.groupId ?? `${options.consumerName}.ephemeral.${randomBytes(8).toString("hex")}`;
    this.#from = options.from ?? "latest";
    this.#retryTopics = policy.retryTiersMs.map((tier) => retryTopicName(options.topic, tier));
    this.#recorder =
      options.metrics?.forSubscription({
        broker: "kafka",
        source: options.topic,
        group: options.groupId ?? options.consumerName,
      }) ?? NO_CONSUME_METRICS;
    const consumer = () => this.#consumer;
    const closing = () => this.#closing;
    this.#flow = new FlowControl({
      topics: [options.topic, ...this.#retryTopics],
      maxInFlight: options.maxInFlight,
      logger: this.#logger,
      consumer,
      closing,
    });
    this.#committer = new OffsetCommitter({
      groupId: options.groupId,
      tracker: this.#tracker,
      fields: { topic: options.topic, group: this.#memberOf },
      logger: this.#logger,
      consumer,
      closing,
    });
    this.#assignment = new PartitionAssignment({
      topic: options.topic,
      groupId: options.groupId,
      memberOf: this.#memberOf,
      from: this.#from,
      startOffsets: new Map(options.startOffsets ?? []),
      tracker: this.#tracker,
      flow: this.#flow,
      committer: this.#committer,
      logger: this.#logger,
      consumer,
      closing,
      withAdmin: (what, operation) => this.#withAdmin(what, operation),
      assigned: () => this.#assigned.resolve(),
    });
    this.#copies = new KafkaCopies(connection, `${options.consumerName}-retry`, this.#logger);
    this.#deliveries = new KafkaDeliveries({
      topic: options.topic,
      memberOf: this.#memberOf,
      consumer: options.groupId ?? options.consumerName,
      handler,
      policy,
      recorder: this.#recorder,
      copies: this.#copies,
      tracker: this.#tracker,
      flow: this.#flow,
      committer: this.#committer,
      logger: this.#logger,
      closing,
      partitionCount: () => this.#partitionCount,
    });

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
      const failure = startFailure(what, error, READY_TIMEOUT_MS, kafkaClientOptionsFor(this.#connection, {}).sasl);
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
    return this.#assignment.startPositions();
  }

  pause(): void {
    this.#flow.userPaused = true;
    this.#flow.apply();
  }

  resume(): void {
    this.#flow.userPaused = false;
    this.#flow.wake();
    this.#flow.apply();
    this.#deliveries.scheduleRedelivery();
  }

  close(): Promise<void> {
    this.#flow.wake();
    this.#closed ??= this.#shutdown();
    return this.#closed;
  }

  // ---- starting ------------------------------------------------------------------------------------------------

  #checkOpen(): void {
    if (this.#closing) throw new TransportError("CLOSED", `the Kafka subscription to "${this.#topic}" was closed`);
  }

  #withAdmin<T>(what: string, operation: (admin: Admin) => Promise<T>): Promise<T> {
    return withConsumerAdmin(this.#connection, what, operation);
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

    const kafka = kafkaClientFor(this.#connection, {
      clientId: this.#consumerName,
      logger: this.#logger,
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
    consumer.on(consumer.events.GROUP_JOIN, (event) => this.#assignment.onGroupJoin(event.payload.memberAssignment));
    consumer.on(consumer.events.COMMIT_OFFSETS, (event) => {
      for (const { topic, partitions } of event.payload.topics) {
        for (const { partition, offset } of partitions) this.#tracker.committed(topic, partition, String(offset));
      }
    });
    // Best effort: commit what is settled before the partitions move (the next owner then repeats less).
    consumer.on(consumer.events.REBALANCING, () => void this.#committer.commit());
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
    if (this.#retryTopics.length > 0) {
      await consumer.subscribe({ topics: [...this.#retryTopics], fromBeginning: this.#groupId !== undefined });
    }
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

  // ---- consuming -----------------------------------------------------------------------------------------------

  /**
   * kafkajs' batch callback. Hands records over in offset order and returns as soon as one cannot be (paused, at
   * `maxInFlight`, not due, positioning, closing): auto-resolve is off, so only the records handed over (or
   * skipped) are marked consumed and the next fetch of the partition starts at the first one left. (No explicit
   * seek: a seek pending when the partition is revoked stays in kafkajs and would apply if it came back later.)
   */
  async #eachBatch({ batch, resolveOffset, isRunning, isStale, heartbeat }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const flow = this.#flow;
    const fromRetryTopic = topic !== this.#topic;
    for (const message of batch.messages) {
      if (this.#closing || flow.positioning || !isRunning() || isStale()) return;
      const status = this.#tracker.classify(topic, partition, message.offset);
      if (status === "unassigned") return;
      if (status === "seen") {
        resolveOffset(message.offset);
        continue;
      }
      if (flow.isWaiting(topic, partition)) return;
      const record = heldRecord(this.#topic, topic, partition, message);
      if (fromRetryTopic) {
        if (record.headers[KAFKA_RETRY_HEADERS.retryFor] !== this.#memberOf) {
          // Another group's copy: nothing to do, settled at once.
          this.#tracker.hand(topic, partition, message.offset);
          if (this.#tracker.settle(topic, partition, message.offset)) this.#committer.schedule();
          resolveOffset(message.offset);
          continue;
        }
        const dueAt = retryDueAt(record.headers);
        if (dueAt !== undefined && dueAt > Date.now()) {
          flow.waitUntilDue(topic, partition, dueAt);
          return;
        }
      }
      if (!flow.open) {
        // Wait a little for room with the batch in hand: returning would drop the rest of the fetched batch and
        // cost a refetch (and kafkajs' idle wait) for every few records.
        if (!(await flow.slotFreed(isRunning, isStale, heartbeat))) {
          flow.apply();
          return;
        }
        if (this.#closing || flow.positioning) return;
      }
      this.#tracker.hand(topic, partition, message.offset);
      flow.inFlight++;
      resolveOffset(message.offset);
      if (flow.full) flow.apply();
      this.#deliveries.deliver(record, false);
    }
  }

  // ---- closing -------------------------------------------------------------------------------------------------

  async #shutdown(): Promise<void> {
    this.#closing = true;
    this.#assigned.reject(new TransportError("CLOSED", `the Kafka subscription to "${this.#topic}" was closed`));
    this.#committer.stop();
    this.#flow.stopAllWaiting();
    this.#flow.apply();
    const bounded = (work: Promise<unknown>, what: string) =>
      withTimeout(work, CLOSE_STEP_TIMEOUT_MS, what).catch((error: unknown) =>
        this.#logger.warn(
          { err: error, topic: this.#topic, group: this.#memberOf },
          `Kafka subscription close: ${what}`,
        ),
      );
    // Retries and dead letters under way settle their originals once confirmed: wait, then commit them too.
    await bounded(this.#deliveries.settling(), "waiting for settlements under way");
    this.#deliveries.abandonAll();
    await bounded(this.#committer.flush(), "committing offsets");
    const consumer = this.#consumer;
    if (consumer) await bounded(consumer.disconnect(), "disconnecting the consumer");
    await this.#copies.close();
    this.#recorder.close();
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
