import {
  type AmqpConnectionManager,
  createAmqpSubscription,
  createKafkaSubscription,
  createTopic,
  type Delivery,
  describeError,
  type KafkaConnection,
  type Subscription,
  TransportError,
  type TransportLogger,
} from "@kronos/transport";
import type { Pool } from "../db/database.js";
import type { DlqCounters } from "../metrics.js";
import { DeadLetterBatcher } from "../store/batcher.js";
import type { IncomingDeadLetter } from "../store/ingest.js";
import { lastValues } from "../store/raw-headers.js";
import type { DeadLetterSources, KafkaSource } from "./sources.js";

/** How custody reads: the connections, the store and its group name. */
export interface CustodyOptions {
  readonly kafka: KafkaConnection;
  readonly amqp: AmqpConnectionManager;
  readonly pool: Pool;
  /**
   * Consumer name, and prefix of the Kafka consumer groups: one group per source, `<group>.<topic>` (kafkajs
   * members of one group must subscribe to the same topics, tulios/kafkajs#1414).
   */
  readonly group: string;
  readonly logger: TransportLogger;
  /**
   * Decodes a body by its writer schema for the stored `payload` (filters on its fields); undefined when it cannot.
   * Must not throw; bounded by {@link DECODE_TIMEOUT_MS} so a slow registry never holds custody up.
   */
  readonly decode?: (body: Buffer) => Promise<unknown>;
  /** Where stored dead letters and duplicates are counted (Prometheus). */
  readonly counters?: DlqCounters;
  /** Wait before a dead letter that could not be stored is handed over again, in ms. Default 1000. */
  readonly storeRetryMs?: number;
  /** Wait before subscribing again to a source that failed (e.g. not created yet), in ms. Default 5000. */
  readonly resubscribeMs?: number;
}

/** The state of one source, for `GET /sources`. */
export interface SourceState {
  readonly broker: "kafka" | "rabbitmq";
  readonly name: string;
  readonly state: "starting" | "consuming" | "failed";
  readonly error?: string;
  readonly stored: number;
  readonly duplicates: number;
}

// Custody never retries (a dead letter it cannot store is released and read again): no retry topics, no delay
// queues beside the dead-letter sources.
const CUSTODY_RETRY_TIERS_MS: readonly number[] = [];
const PREFETCH = 64;
/** Longest custody waits for a payload to be decoded before storing the dead letter without it. */
export const DECODE_TIMEOUT_MS = 2000;

/** The dead letter a delivery carries, headers and key byte for byte (the delivery's raw view). */
export function incomingOf(delivery: Delivery): IncomingDeadLetter {
  return {
    broker: delivery.broker,
    source: delivery.source,
    partition: delivery.position?.partition,
    offset: delivery.position?.offset,
    key: delivery.broker === "kafka" ? delivery.key : undefined,
    rawKey: delivery.rawKey,
    body: delivery.body,
    headers: lastValues(delivery.rawHeaders),
    rawHeaders: delivery.rawHeaders,
    amqpHeaders: delivery.amqp ? (delivery.amqp.properties.headers ?? {}) : undefined,
  };
}

/**
 * Custody: consumes every dead-letter source and stores each dead letter in PostgreSQL, and only then acks it
 * (RabbitMQ) or lets its offset be committed (Kafka). Guarantee: **a duplicate, never a loss** — a crash after the
 * INSERT and before the ack/commit hands the same dead letter over again, and the store recognises it by its
 * dedup key. A dead letter that cannot be stored (PostgreSQL down) is not acked: it is handed over again after
 * `storeRetryMs`.
 */
export class Custody {
  readonly #options: CustodyOptions;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #states = new Map<string, SourceState>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #store: DeadLetterBatcher;
  #closed = false;

  constructor(options: CustodyOptions) {
    this.#options = options;
    // The dead letters handed over together (up to PREFETCH per source) are stored in one INSERT, one commit.
    this.#store = new DeadLetterBatcher(options.pool, PREFETCH);
  }

  /** Starts every source; resolves once each is consuming or has failed once (failed Kafka sources retry). */
  async start(sources: DeadLetterSources): Promise<void> {
    await Promise.all([
      ...sources.kafka.map((source) => this.#startKafka(source)),
      ...sources.rabbitmq.map((queue) => this.#startRabbit(queue)),
    ]);
  }

  /** Every source and what custody did with it. */
  states(): SourceState[] {
    return [...this.#states.values()];
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    await Promise.all([...this.#subscriptions.values()].map((subscription) => subscription.close()));
  }

  #handler(key: string) {
    return async (delivery: Delivery): Promise<void> => {
      let stored: { inserted: boolean };
      try {
        stored = await this.#store.store(incomingOf(delivery), await this.#decode(delivery.body));
      } catch (error) {
        this.#options.logger.error(
          { source: delivery.source, err: error },
          "cannot store a dead letter; it stays at its source and comes back",
        );
        this.#later(() => delivery.release().catch(() => undefined), this.#options.storeRetryMs ?? 1000);
        return;
      }
      (stored.inserted ? this.#options.counters?.stored : this.#options.counters?.duplicates)?.inc({
        source: delivery.source,
      });
      const state = this.#states.get(key);
      if (state) {
        this.#states.set(key, {
          ...state,
          stored: state.stored + (stored.inserted ? 1 : 0),
          duplicates: state.duplicates + (stored.inserted ? 0 : 1),
        });
      }
      await delivery.ack();
    };
  }

  async #startKafka(source: KafkaSource): Promise<void> {
    const key = `kafka:${source.topic}`;
    const { kafka, group, logger } = this.#options;
    this.#setState(key, { broker: "kafka", name: source.topic, state: "starting" });
    if (this.#closed) return;
    try {
      if (source.createWithPartitions !== undefined) {
        await createTopic(kafka, source.topic, { partitions: source.createWithPartitions }).catch((error) => {
          if (!(error instanceof TransportError && error.code === "TOPIC_CONFLICT")) throw error;
        });
      }
      const subscription = createKafkaSubscription(
        kafka,
        {
          topic: source.topic,
          groupId: `${group}.${source.topic}`,
          from: "earliest",
          maxInFlight: PREFETCH,
          consumerName: group,
          retryTiersMs: CUSTODY_RETRY_TIERS_MS,
          logger,
        },
        this.#handler(key),
      );
      this.#subscriptions.set(key, subscription);
      await subscription.ready;
      this.#setState(key, { broker: "kafka", name: source.topic, state: "consuming" });
    } catch (error) {
      this.#subscriptions.delete(key);
      this.#setState(key, { broker: "kafka", name: source.topic, state: "failed", error: describeError(error) });
      logger.warn({ topic: source.topic, err: error }, "cannot consume a Kafka dead-letter source yet; will retry");
      this.#later(() => void this.#startKafka(source), this.#options.resubscribeMs ?? 5000);
    }
  }

  async #startRabbit(queue: string): Promise<void> {
    const key = `rabbitmq:${queue}`;
    this.#setState(key, { broker: "rabbitmq", name: queue, state: "starting" });
    if (this.#closed) return;
    const subscription = createAmqpSubscription(
      this.#options.amqp,
      {
        queue,
        prefetch: PREFETCH,
        consumerName: this.#options.group,
        retryTiersMs: CUSTODY_RETRY_TIERS_MS,
        logger: this.#options.logger,
      },
      this.#handler(key),
    );
    this.#subscriptions.set(key, subscription);
    try {
      await subscription.ready;
      this.#setState(key, { broker: "rabbitmq", name: queue, state: "consuming" });
    } catch (error) {
      this.#subscriptions.delete(key);
      this.#setState(key, { broker: "rabbitmq", name: queue, state: "failed", error: describeError(error) });
      this.#options.logger.warn({ queue, err: error }, "cannot consume a RabbitMQ dead-letter source yet; will retry");
      this.#later(() => void this.#startRabbit(queue), this.#options.resubscribeMs ?? 5000);
    }
  }

  async #decode(body: Buffer): Promise<unknown> {
    const decode = this.#options.decode;
    if (!decode) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), DECODE_TIMEOUT_MS);
    });
    try {
      return await Promise.race([decode(body).catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #setState(key: string, state: Omit<SourceState, "stored" | "duplicates">): void {
    const previous = this.#states.get(key);
    this.#states.set(key, { ...state, stored: previous?.stored ?? 0, duplicates: previous?.duplicates ?? 0 });
  }

  #later(action: () => void, delayMs: number): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) action();
    }, delayMs);
    this.#timers.add(timer);
  }
}
