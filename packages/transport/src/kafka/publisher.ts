import {
  type Admin,
  type Message,
  type PartitionerArgs,
  Partitioners,
  type Producer,
  type RecordMetadata,
} from "kafkajs";
import { TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { withTimeout } from "../timeout.js";
import { BOUNDED_RETRIES, kafkaClientFor, kafkaClientOptionsFor, NO_RETRIES } from "./client.js";
import { kafkaErrorCode, kafkaErrorMeaning, kafkaFailure } from "./errors.js";

/** Re-exported for `kafka/consumer.ts` until its import points at `./errors.js`, where the classifier lives. */

import type { KafkaConnection } from "./connection.js";

/** One record to write to Kafka. */
export interface KafkaRecord {
  readonly topic: string;
  /**
   * Partition key (murmur2, as the Java client); null or absent spreads records over the partitions. Bytes are
   * written as they are (a copy of a consumed record keeps its key byte for byte).
   */
  readonly key?: string | Buffer | null;
  /** The record's value; null writes a tombstone (a copy of one stays one). */
  readonly value: Buffer | null;
  /** Header values as text, or as bytes written unchanged (a repeated header as a list, in order). */
  readonly headers?: Readonly<Record<string, KafkaHeaderValue>>;
  /** Milliseconds since the epoch, as a decimal string. Default: the time of sending. */
  readonly timestamp?: string;
}

/** A Kafka header's value: text (written as UTF-8), bytes, or the values of a header repeated in the record. */
export type KafkaHeaderValue = string | Buffer | readonly (string | Buffer)[];

/** Where Kafka stored a record: its topic, partition and offset (a decimal string: offsets are 64-bit). */
export interface KafkaAck {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** Options of one {@link KafkaPublisher.publish} or {@link KafkaPublisher.publishMany} call. */
export interface KafkaPublishOptions {
  /** Upper bound of the whole call (queueing, connecting, sending, acknowledgement), in ms. Default: 10000. */
  readonly timeoutMs?: number;
}

/**
 * Writes records to Kafka through one idempotent producer (acks=all). Concurrent calls are coalesced into one
 * `sendBatch` per tick (at most one batch in flight, as kafkajs' idempotent producer requires), and each call
 * resolves with its own record's partition and offset.
 */
export interface KafkaPublisher {
  /**
   * Resolves only after Kafka acknowledged the record with acks=all (idempotent producer). Rejects with a
   * {@link TransportError}: `DESTINATION_NOT_FOUND` when the topic does not exist (checked once per topic, without
   * kafkajs retries, so it fails fast), `PUBLISH_REJECTED` when Kafka refuses the record (e.g. too large),
   * `KAFKA_UNAVAILABLE` when Kafka cannot be reached or the batch failed, `TIMEOUT` after `timeoutMs` (the record
   * may still be written if it was already sent), `CLOSED` after {@link close}. If the batch a record travels in
   * fails, every call in that batch rejects.
   */
  publish(record: KafkaRecord, options?: KafkaPublishOptions): Promise<KafkaAck>;
  /**
   * Publishes every record (in one batch when `maxBatch` allows) and resolves with their acks in order, or rejects
   * with the first error. All-or-nothing is impossible across partitions in Kafka: when it rejects, some records
   * may have been written.
   */
  publishMany(records: readonly KafkaRecord[], options?: KafkaPublishOptions): Promise<KafkaAck[]>;
  /** Rejects queued calls with `CLOSED`, waits for the batch in flight, disconnects. Idempotent; never rejects. */
  close(): Promise<void>;
}

/** Options of {@link createKafkaPublisher}. */
export interface KafkaPublisherOptions {
  /**
   * How long to collect concurrent calls before sending, in ms. Default: 0, i.e. the calls made in the same turn
   * of the event loop (plus every call made while the previous batch was in flight).
   */
  readonly lingerMs?: number;
  /** Most records in one `sendBatch`. Default: 1000. */
  readonly maxBatch?: number;
  /** Where the publisher and kafkajs log (kafkajs one level quieter). Default: nowhere. */
  readonly logger?: TransportLogger;
  /** The client id Kafka sees. Default: `kronos-publisher`. */
  readonly clientId?: string;
  /** Called before each `sendBatch` with the number of records in it (for metrics and tests). */
  readonly onBatch?: (records: number) => void;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How long a topic found in the metadata is trusted before it is checked again. */
const TOPIC_TTL_MS = 60_000;

interface Call {
  readonly record: KafkaRecord;
  readonly resolve: (ack: KafkaAck) => void;
  readonly reject: (error: Error) => void;
  readonly deadline: number;
  readonly timer: NodeJS.Timeout;
  settled: boolean;
}

/**
 * The ack of each record of a batch, from the broker's answer: Kafka returns one base offset per partition, and
 * the records of one partition are stored in the order they were sent, so a record's offset is the base offset
 * plus its position among the batch's records for that partition. `partitions[i]` is the partition record `i` was
 * sent to. Throws when the answer lacks a partition that was written to.
 */
export function acksFromResponse(
  topics: readonly string[],
  partitions: readonly number[],
  response: readonly Pick<RecordMetadata, "topicName" | "partition" | "baseOffset">[],
): KafkaAck[] {
  const base = new Map<string, bigint>();
  for (const meta of response) {
    if (meta.baseOffset !== undefined) base.set(`${meta.partition}\u0000${meta.topicName}`, BigInt(meta.baseOffset));
  }
  const position = new Map<string, bigint>();
  return topics.map((topic, i) => {
    const partition = partitions[i];
    if (partition === undefined) throw new Error(`no partition was assigned to record ${i} (topic ${topic})`);
    const id = `${partition}\u0000${topic}`;
    const first = base.get(id);
    if (first === undefined) throw new Error(`Kafka's answer has no offset for ${topic}[${partition}]`);
    const index = position.get(id) ?? 0n;
    position.set(id, index + 1n);
    return { topic, partition, offset: (first + index).toString() };
  });
}

/**
 * Creates a {@link KafkaPublisher} on the brokers of `connection`. Connects lazily (on the first publish) and
 * reconnects after kafkajs drops the producer or a batch fails for a connection reason. Defaults: `lingerMs` 0,
 * `maxBatch` 1000, no logger. Never throws.
 */
export function createKafkaPublisher(connection: KafkaConnection, options: KafkaPublisherOptions = {}): KafkaPublisher {
  const logger = options.logger ?? silentLogger;
  const lingerMs = Math.max(0, options.lingerMs ?? 0);
  const maxBatch = Math.max(1, options.maxBatch ?? 1000);
  const brokers = connection.brokers.join(",");
  const kafka = kafkaClientFor(connection, {
    clientId: options.clientId ?? "kronos-publisher",
    logger,
    // Connecting and the topic check are not retried inside kafkajs: Kafka being down must fail the calls now
    // (the gateway answers 503), and the next call connects afresh. Sends have their own bounded retries below.
    retry: NO_RETRIES,
  });

  // The partition kafkajs chose for each message. Sticky, so that a kafkajs retry of the same batch sends every
  // keyless record to the partition already chosen, and the offsets computed from the answer stay right.
  const assigned = new WeakMap<Message, number>();
  const createPartitioner = () => {
    const partitioner = Partitioners.DefaultPartitioner();
    return (args: PartitionerArgs) => {
      const previous = assigned.get(args.message);
      if (previous !== undefined && args.partitionMetadata.some((p) => p.partitionId === previous)) return previous;
      const partition = partitioner(args);
      assigned.set(args.message, partition);
      return partition;
    };
  };

  let producer: { client: Producer; connected: Promise<Producer> } | undefined;
  let admin: { client: Admin; connected: Promise<Admin> } | undefined;
  const knownTopics = new Map<string, number>();
  const queue: Call[] = [];
  let scheduled = false;
  let inFlight: Promise<void> | undefined;
  let closed = false;

  const connectedProducer = (): Promise<Producer> => {
    if (!producer) {
      const client = kafka.producer({
        idempotent: true,
        // kafkajs' idempotent producer keeps one sequence number per partition and cannot order concurrent
        // requests: one request in flight per broker (and the publisher sends one batch at a time).
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner,
        // Bounded so a failing batch fails instead of retrying forever (kafkajs' idempotent default); each call
        // is bounded by its own timeout anyway.
        retry: BOUNDED_RETRIES,
      });
      const current = { client, connected: client.connect().then(() => client) };
      client.on(client.events.DISCONNECT, () => {
        if (producer === current) producer = undefined;
      });
      current.connected.catch(() => {
        if (producer === current) producer = undefined;
      });
      producer = current;
    }
    return producer.connected;
  };

  const dropProducer = (): void => {
    const current = producer;
    producer = undefined;
    current?.client.disconnect().catch(() => {});
  };

  const connectedAdmin = (): Promise<Admin> => {
    if (!admin) {
      // No retries: the topic check must answer now (an unknown topic is not retried into a hang).
      const client = kafka.admin({ retry: NO_RETRIES });
      const current = { client, connected: client.connect().then(() => client) };
      current.connected.catch(() => {
        if (admin === current) admin = undefined;
      });
      admin = current;
    }
    return admin.connected;
  };

  /**
   * Checks that each topic exists (a metadata request without retries), for the topics not seen recently.
   * Returns the topics Kafka says do not exist. Other failures are left to the producer's own attempt.
   */
  const missingTopics = async (topics: readonly string[], deadline: number): Promise<Set<string>> => {
    const now = Date.now();
    const unknown = topics.filter((topic) => (knownTopics.get(topic) ?? 0) <= now);
    const missing = new Set<string>();
    if (unknown.length === 0) return missing;
    await Promise.all(
      unknown.map(async (topic) => {
        try {
          await withTimeout(
            connectedAdmin().then((client) => client.fetchTopicMetadata({ topics: [topic] })),
            Math.max(1, deadline - Date.now()),
            `Kafka metadata request for ${topic}`,
          );
          knownTopics.set(topic, Date.now() + TOPIC_TTL_MS);
        } catch (error) {
          if (kafkaErrorMeaning(error) === "not-found") missing.add(topic);
          else logger.debug({ err: error, topic }, "Kafka topic check failed; letting the producer try");
        }
      }),
    );
    return missing;
  };

  const settle = (call: Call, outcome: { ack: KafkaAck } | { error: Error }): void => {
    if (call.settled) return;
    call.settled = true;
    clearTimeout(call.timer);
    if ("ack" in outcome) call.resolve(outcome.ack);
    else call.reject(outcome.error);
  };

  const sendBatch = async (batch: Call[]): Promise<void> => {
    const deadline = Math.max(...batch.map((call) => call.deadline));
    let sending = batch;
    try {
      const missing = await missingTopics([...new Set(batch.map((call) => call.record.topic))], deadline);
      if (missing.size > 0) {
        sending = [];
        for (const call of batch) {
          if (!missing.has(call.record.topic)) sending.push(call);
          else {
            settle(call, {
              error: new TransportError(
                "DESTINATION_NOT_FOUND",
                `Kafka topic "${call.record.topic}" does not exist (on ${brokers})`,
              ),
            });
          }
        }
      }
      // Calls that timed out while waiting are not sent: their callers were told they failed.
      sending = sending.filter((call) => !call.settled);
      if (sending.length === 0) return;

      const client = await withTimeout(
        connectedProducer(),
        Math.max(1, deadline - Date.now()),
        `connecting the Kafka producer to ${brokers}`,
      );
      const byTopic = new Map<string, Message[]>();
      const messages = sending.map((call) => {
        const { record } = call;
        const message: Message = { key: record.key ?? null, value: record.value };
        if (record.headers) message.headers = { ...(record.headers as Message["headers"]) };
        if (record.timestamp !== undefined) message.timestamp = record.timestamp;
        const list = byTopic.get(record.topic);
        if (list) list.push(message);
        else byTopic.set(record.topic, [message]);
        return message;
      });
      options.onBatch?.(sending.length);
      const response = await withTimeout(
        client.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })),
        }),
        Math.max(1, deadline - Date.now()),
        `Kafka batch of ${sending.length} records`,
      );
      // kafkajs groups each topic's messages by partition keeping their order, which is the order above.
      const acks = acksFromResponse(
        sending.map((call) => call.record.topic),
        messages.map((message) => assigned.get(message) ?? -1),
        response,
      );
      sending.forEach((call, i) => {
        const ack = acks[i];
        if (ack) settle(call, { ack });
      });
    } catch (error) {
      const code = error instanceof TransportError ? error.code : kafkaErrorCode(error, "publish");
      if (code === "DESTINATION_NOT_FOUND") for (const call of sending) knownTopics.delete(call.record.topic);
      // A batch that failed for a connection reason (or hung) leaves the producer in an unknown state: start over.
      if (code === "KAFKA_UNAVAILABLE" || code === "TIMEOUT") dropProducer();
      logger.warn({ err: error, records: sending.length, code }, "Kafka batch failed");
      const topics = [...new Set(sending.map((call) => call.record.topic))].join(", ");
      const failure =
        error instanceof TransportError
          ? error
          : kafkaFailure(error, "publish", `Kafka publish to ${topics}`, kafkaClientOptionsFor(connection, {}).sasl);
      for (const call of sending) settle(call, { error: failure });
    }
  };

  const flush = (): void => {
    scheduled = false;
    if (inFlight) return;
    const batch: Call[] = [];
    while (batch.length < maxBatch && queue.length > 0) {
      const call = queue.shift() as Call;
      if (!call.settled) batch.push(call);
    }
    if (batch.length === 0) return;
    inFlight = sendBatch(batch).finally(() => {
      inFlight = undefined;
      // Everything queued while this batch was in flight goes now, as the next batch.
      if (queue.length > 0) flush();
    });
  };

  const schedule = (): void => {
    if (scheduled || inFlight) return;
    scheduled = true;
    if (queue.length >= maxBatch) queueMicrotask(flush);
    else if (lingerMs === 0) setImmediate(flush);
    else setTimeout(flush, lingerMs);
  };

  const enqueue = (record: KafkaRecord, timeoutMs: number): Promise<KafkaAck> =>
    new Promise<KafkaAck>((resolve, reject) => {
      if (closed) {
        reject(new TransportError("CLOSED", "the Kafka publisher is closed"));
        return;
      }
      const call: Call = {
        record,
        resolve,
        reject,
        deadline: Date.now() + timeoutMs,
        settled: false,
        timer: setTimeout(() => {
          settle(call, {
            error: new TransportError(
              "TIMEOUT",
              `Kafka did not acknowledge the record for topic "${record.topic}" within ${timeoutMs} ms`,
            ),
          });
        }, timeoutMs),
      };
      call.timer.unref();
      queue.push(call);
      schedule();
    });

  return {
    publish(record, publishOptions = {}) {
      return enqueue(record, publishOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    },
    publishMany(records, publishOptions = {}) {
      const timeoutMs = publishOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      return Promise.all(records.map((record) => enqueue(record, timeoutMs)));
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const call of queue.splice(0)) {
        settle(call, { error: new TransportError("CLOSED", "the Kafka publisher was closed before sending") });
      }
      await inFlight;
      const current = producer;
      producer = undefined;
      const currentAdmin = admin;
      admin = undefined;
      await Promise.all([
        current?.client.disconnect().catch(() => {}),
        currentAdmin?.client.disconnect().catch(() => {}),
      ]);
    },
  };
}
