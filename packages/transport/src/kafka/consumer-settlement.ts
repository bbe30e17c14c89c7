// Settlement of a Kafka subscription's deliveries: the records it holds, the deliveries made of them, and Kafka's
// half of the shared settle state machine (consume/settlement.ts): mark the offset settled, hand the record over
// again, write a retry copy to <topic>.retry.<tier>, write a dead letter to <topic>.dlq.

import type { IHeaders, KafkaMessage } from "kafkajs";
import type { TopicOptions } from "../admin/kafka-topics.js";
import { readCloudEvent } from "../cloudevents.js";
import { attemptOf } from "../consume/dead-letter.js";
import type { Delivery } from "../consume/delivery.js";
import type { BrokerSettlement, Settlement } from "../consume/settlement.js";
import { TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import type { KafkaConnection } from "./connection.js";
import { ensureTopic, forgetTopic } from "./consumer-admin.js";
import { kafkaCopyHeaders, kafkaHeadersText, kafkaRawHeaders } from "./headers.js";
import { createKafkaPublisher, type KafkaPublisher, type KafkaRecord } from "./publisher.js";
import {
  deadLetterCopyHeaders,
  deadLetterTopicName,
  type OriginalRecord,
  originalRecord,
  retryCopyHeaders,
  retryTopicName,
} from "./retry-topics.js";

/** A record handed out: what a delivery, a retry copy and a dead letter are made from. */
export interface HeldRecord {
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

/** The {@link HeldRecord} of `message`, read from `topic` by a subscription to `subscribed`. */
export function heldRecord(subscribed: string, topic: string, partition: number, message: KafkaMessage): HeldRecord {
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
    original: topic === subscribed ? read : originalRecord(headers, { ...read, topic: subscribed }),
  };
}

/** The {@link Delivery} of `record`, settled through `settlement`. */
export function kafkaDelivery(record: HeldRecord, redelivered: boolean, settlement: Settlement): Delivery {
  return {
    broker: "kafka",
    source: record.original.topic,
    body: record.raw.value ?? Buffer.alloc(0),
    headers: record.headers,
    rawHeaders: kafkaRawHeaders(record.raw.headers),
    // A record from outside Kronos that is a CloudEvent (binary mode) is named by its ce_id and ce_type.
    messageId: record.headers["message-id"] ?? readCloudEvent(record.headers)?.id,
    eventType: record.headers["event-type"] ?? readCloudEvent(record.headers)?.type,
    key: record.raw.key?.toString("utf8"),
    rawKey: record.raw.key,
    amqp: undefined,
    redelivered,
    attempt: record.attempt,
    position: { partition: record.original.partition, offset: record.original.offset },
    timestampMs: record.original.timestampMs,
    get returned() {
      return settlement.returned;
    },
    ack: () => settlement.ack(),
    release: () => settlement.release(),
    retry: (options) => settlement.retry(options),
    deadLetter: (reason, error) => settlement.deadLetter(reason, error),
  };
}

/** What Kafka's half of a settlement needs from its subscription. */
export interface KafkaSettlementHost {
  readonly topic: string;
  /** The kafkajs group: what retried copies name in `x-kronos-retry-for`. */
  readonly memberOf: string;
  /** Who gives up on a dead letter: the group, or the consumer name of an ephemeral subscription. */
  readonly consumer: string;
  readonly copies: KafkaCopies;
  closing(): boolean;
  partitionCount(): number;
  /** The record is done with: its slot frees, its offset may be committed. */
  settled(record: HeldRecord): void;
  /** Hand the record to the handler again. */
  release(record: HeldRecord): void;
}

/** Kafka's half of the settle state machine for `record`. */
export function kafkaSettlement(record: HeldRecord, host: KafkaSettlementHost): BrokerSettlement {
  return {
    check: (operation) =>
      host.closing()
        ? new TransportError("CLOSED", `cannot ${operation}: the Kafka subscription to "${host.topic}" is closed`)
        : undefined,
    ack: () => host.settled(record),
    release: () => host.release(record),
    async writeRetry(tierMs, error, nowMs) {
      const headers = retryCopyHeaders({
        headers: record.headers,
        attempt: record.attempt,
        error,
        nowMs,
        dueAtMs: nowMs + tierMs,
        retryFor: host.memberOf,
        original: record.original,
      });
      await host.copies.publish(retryTopicName(host.topic, tierMs), record, headers, {
        partitions: host.partitionCount(),
      });
    },
    async writeDeadLetter(reason, error, nowMs) {
      const headers = deadLetterCopyHeaders({
        headers: record.headers,
        reason,
        error,
        attempt: record.attempt,
        original: record.original,
        consumer: host.consumer,
        nowMs,
      });
      const topic = deadLetterTopicName(host.topic);
      await host.copies.publish(topic, record, headers, {});
      return topic;
    },
  };
}

/** Publishes a subscription's retry copies and dead letters (acks=all), with a publisher of its own. */
export class KafkaCopies {
  readonly #connection: KafkaConnection;
  readonly #clientId: string;
  readonly #logger: TransportLogger;
  #publisher: KafkaPublisher | undefined;

  constructor(connection: KafkaConnection, clientId: string, logger: TransportLogger) {
    this.#connection = connection;
    this.#clientId = clientId;
    this.#logger = logger;
  }

  /**
   * Publishes a copy of `record` with acks=all, creating the topic on first use: the same key and value bytes (a
   * tombstone stays one), the headers as `headers` says, each unchanged one with its original bytes.
   */
  async publish(
    topic: string,
    record: HeldRecord,
    headers: Record<string, string>,
    topicOptions: TopicOptions,
  ): Promise<void> {
    this.#publisher ??= createKafkaPublisher(this.#connection, { clientId: this.#clientId, logger: this.#logger });
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
      forgetTopic(this.#connection, topic);
      await ensureTopic(this.#connection, topic, topicOptions, this.#logger);
      await publisher.publish(copy);
    }
  }

  async close(): Promise<void> {
    await this.#publisher?.close();
  }
}
