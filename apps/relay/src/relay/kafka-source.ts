import { type KafkaClientOptions, kafkaSecurityConfig } from "@kronos/transport/kafkajs";
import type { FastifyBaseLogger } from "fastify";
import { type Consumer, type EachBatchPayload, Kafka, logLevel } from "kafkajs";
import { type Envelope, fromKafka } from "./envelope.js";
import type { Outcome } from "./runner.js";

/** TLS and SASL settings of a Kafka client (the app's `config.kafkaSecurity`). */
export type KafkaSecurity = Pick<KafkaClientOptions, "tls" | "sasl">;

/** Options of {@link KafkaSource}. */
export interface KafkaSourceOptions {
  readonly brokers: readonly string[];
  /** TLS and SASL, as the app's Kafka connection has them (the transport's mapping to kafkajs). Default: none. */
  readonly security?: KafkaSecurity | undefined;
  readonly clientId: string;
  readonly topic: string;
  readonly groupId: string;
  /** Where a group without committed offsets starts. */
  readonly fromBeginning: boolean;
  readonly log: FastifyBaseLogger;
  /** Records of one partition relayed at once (their confirms pipelined). */
  readonly maxInFlight: number;
  /** Relays one record; `retry` gives it back (it is tried again after {@link resume}). */
  readonly handle: (envelope: Envelope, position: { partition: number; offset: string }) => Promise<Outcome>;
  /** Called when a record was given back: the route pauses the source and resumes it later. */
  readonly onRetry: (reason: string) => void;
}

/**
 * Reads a topic through a consumer group, with the raw record (key, value and header bytes: `Delivery` has headers
 * as text only). A fetched batch is relayed `maxInFlight` records at a time, all of them in flight together (their
 * confirms pipelined); after each, the offset is committed up to the last record before the first one given back, and
 * the batch goes on from that one once the route resumes the source, so nothing is committed before its copy is
 * confirmed. While paused, the batch in hand waits (heartbeating) and no more is fetched.
 *
 * kafkajs is used here, not through @kronos/transport, because a transport `Delivery` has no raw headers yet.
 */
export class KafkaSource {
  readonly #options: KafkaSourceOptions;
  readonly #kafka: Kafka;
  #consumer: Consumer;
  #paused = false;
  #closed = false;
  #restart: NodeJS.Timeout | undefined;

  constructor(options: KafkaSourceOptions) {
    this.#options = options;
    const log = options.log;
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => log.debug({ kafkajs: entry.log.message, namespace: entry.namespace }, "kafkajs"),
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 5000 },
      ...kafkaSecurityConfig(options.security?.tls, options.security?.sasl),
    });
    this.#consumer = this.#create();
  }

  #create(): Consumer {
    const consumer = this.#kafka.consumer({
      groupId: this.#options.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 250,
    });
    // kafkajs restarts itself after retriable crashes; after any other, or when its reconnects are stuck
    // (tulios/kafkajs#919, #979), a new consumer takes over: uncommitted records come again, never lost.
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || this.#closed) return;
      this.#options.log.error({ topic: this.#options.topic, error: String(payload.error) }, "Kafka consumer crashed");
      this.#restart ??= setTimeout(() => void this.#replace(), 2000);
    });
    return consumer;
  }

  async #replace(): Promise<void> {
    this.#restart = undefined;
    if (this.#closed) return;
    await this.#consumer.disconnect().catch(() => {});
    this.#consumer = this.#create();
    try {
      await this.start();
      if (this.#paused) this.#consumer.pause([{ topic: this.#options.topic }]);
    } catch (error) {
      this.#options.log.warn({ topic: this.#options.topic, error: String(error) }, "Kafka consumer restart failed");
      this.#restart ??= setTimeout(() => void this.#replace(), 5000);
    }
  }

  /** Joins the group and starts reading; resolves once the consumer runs. */
  async start(): Promise<void> {
    const { topic, fromBeginning } = this.#options;
    await this.#consumer.connect();
    await this.#consumer.subscribe({ topics: [topic], fromBeginning });
    await this.#consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.#batch(payload),
    });
  }

  /** Resolves once the consumer was given its partitions (or after `timeoutMs`). */
  async joined(timeoutMs: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const off = this.#consumer.on(this.#consumer.events.GROUP_JOIN, done);
      function done() {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  }

  async #batch({ batch, heartbeat, isStale, isRunning, resolveOffset }: EachBatchPayload): Promise<void> {
    const { topic, partition, messages } = batch;
    const consumer = this.#consumer;
    const beat = setInterval(() => void heartbeat().catch(() => {}), 2000);
    try {
      let next = 0;
      while (next < messages.length) {
        // Revoked or stopping: what is not committed is read again by whoever owns the partition.
        if (!isRunning() || isStale()) return;
        if (this.#paused) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        // At most maxInFlight records of the partition in flight at once: a crash repeats no more than that.
        const chunk = messages.slice(next, next + this.#options.maxInFlight);
        const outcomes = await Promise.all(
          chunk.map((message) => this.#options.handle(fromKafka(message), { partition, offset: message.offset })),
        );
        const settled = outcomes.findIndex((outcome) => typeof outcome === "object");
        const doneCount = settled === -1 ? chunk.length : settled;
        const done = chunk[doneCount - 1]?.offset;
        if (done !== undefined && !isStale()) {
          resolveOffset(done);
          await consumer
            .commitOffsets([{ topic, partition, offset: (BigInt(done) + 1n).toString() }])
            .catch((error: unknown) =>
              this.#options.log.warn(
                { topic, partition, error: String(error) },
                "commit failed (the records come again)",
              ),
            );
        }
        next += doneCount;
        const retry = outcomes[doneCount];
        // Given back: the route pauses the source and resumes it later; this batch waits and goes on from there.
        if (typeof retry === "object") this.#options.onRetry(retry.retry);
      }
    } finally {
      clearInterval(beat);
    }
  }

  /** Stops fetching (the batch in hand finishes; what it gives back is read again after {@link resume}). */
  pause(): void {
    this.#paused = true;
    this.#consumer.pause([{ topic: this.#options.topic }]);
  }

  resume(): void {
    this.#paused = false;
    this.#consumer.resume([{ topic: this.#options.topic }]);
  }

  /** Leaves the group; uncommitted records are read again by whoever takes the partitions. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restart);
    await this.#consumer.disconnect().catch(() => {});
  }
}
