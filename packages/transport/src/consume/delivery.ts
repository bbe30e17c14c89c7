import type { MessageProperties } from "amqplib";
import type { DeadLetterReason } from "./dead-letter.js";

/** Where a delivery came from on Kafka: its partition and offset (a decimal string: offsets are 64-bit). */
export interface KafkaPosition {
  readonly partition: number;
  readonly offset: string;
}

/** One header as bytes: its name and its value byte for byte (see {@link Delivery.rawHeaders}). */
export type RawHeader = readonly [name: string, value: Buffer];

/** A RabbitMQ delivery's AMQP message as amqplib decoded it (see {@link Delivery.amqp}). */
export interface AmqpView {
  /** The message properties, `headers` (the AMQP header table, typed values as amqplib gives them) included. */
  readonly properties: Readonly<MessageProperties>;
}

/**
 * One message handed to a consumer by a subscription on either broker, with the operations that settle it. The
 * settling operations resolve only once the broker has what they promise (a confirmed publish to a retry or
 * dead-letter destination before the original is acked), so a crash in between costs a duplicate, never a loss.
 * A delivery is settled once: a second call rejects with {@link TransportError} `ALREADY_SETTLED`.
 */
export interface Delivery {
  readonly broker: "kafka" | "rabbitmq";
  /** The queue (RabbitMQ) or topic (Kafka) it was consumed from. */
  readonly source: string;
  /** The original body, byte for byte (normally Confluent-framed Avro). */
  readonly body: Buffer;
  /**
   * Headers as text: Kafka header bytes decoded as UTF-8; AMQP headers plus the message properties under the names
   * the gateway publishes with (`message-id`, `correlation-id`, `event-type`, `content-type`, `timestamp`,
   * `reply-to`). Retry and dead-letter bookkeeping headers (`x-kronos-*`) are included as they are.
   */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Every header as bytes, for consumers that must keep them exact (dead-letter custody, relays). Kafka: each
   * record header in the order kafkajs gives them (first appearance of a name; a repeated header once per value, in
   * order), values byte for byte; a header with a null value is left out. RabbitMQ: the names of {@link headers}, in
   * the same order, each value as bytes: a byte array (AMQP `x`, a Buffer) as it is, anything else as the UTF-8 of
   * its text in {@link headers} (strings; numbers in decimal; booleans `true`/`false`; timestamps, tables and arrays
   * as {@link headers} prints them). The exact typed AMQP values are in {@link amqp}.
   */
  readonly rawHeaders: ReadonlyArray<RawHeader>;
  /** `message-id` (AMQP `messageId` property or Kafka header), if the publisher set one. */
  readonly messageId: string | undefined;
  /** `event-type` (AMQP `type` property or Kafka header): the full name of the Avro event. */
  readonly eventType: string | undefined;
  /** Kafka record key (UTF-8) or AMQP routing key. */
  readonly key: string | undefined;
  /** Kafka record key byte for byte (null: no key); always null on RabbitMQ (its routing key is {@link key}). */
  readonly rawKey: Buffer | null;
  /** RabbitMQ only: the AMQP properties and header table as they came; undefined on Kafka. */
  readonly amqp: AmqpView | undefined;
  /** True when the broker (or the subscription) delivered this message before and it was not settled then. */
  readonly redelivered: boolean;
  /** 1 for the first delivery; retried copies carry `x-kronos-attempt` and count up from there. */
  readonly attempt: number;
  /** Kafka only. */
  readonly position: KafkaPosition | undefined;
  /** Broker timestamp in ms since the epoch, when there is one. */
  readonly timestampMs: number | undefined;
  /**
   * True once the delivery went back to the broker unsettled (released; its RabbitMQ channel or its Kafka
   * subscription closed, or is closing): the broker will deliver it again, and settling it now changes nothing (an
   * ack or release resolves as a no-op or rejects, a retry or dead letter rejects). Read it to tell "gone back" from
   * "failed, try again" when a settle fails.
   */
  readonly returned: boolean;

  /** Done with it: RabbitMQ `basic.ack`; Kafka marks the offset done (committed once all before it are done). */
  ack(): Promise<void>;
  /**
   * Give it back without counting an attempt: RabbitMQ `basic.nack` with requeue (it is redelivered with
   * `redelivered: true`); Kafka hands it to the subscription again (same offset, `redelivered: true`).
   */
  release(): Promise<void>;
  /**
   * Deliver it again after `delayMs` with `attempt + 1`; when `attempt` has reached the subscription's maximum it
   * is dead-lettered with reason `max-attempts` instead. Resolves to what happened.
   */
  retry(options: RetryOptions): Promise<"retried" | "dead-lettered">;
  /** Send it to the source's dead letters with a reason and the last error, then ack it. */
  deadLetter(reason: DeadLetterReason, error: DeadLetterError): Promise<void>;
}

/** Options of {@link Delivery.retry}. */
export interface RetryOptions {
  /** Wait before the message comes back, in ms. Rounded up to the broker's nearest retry tier. */
  readonly delayMs: number;
  /** Why it is retried; becomes the last error should the message later be dead-lettered. */
  readonly reason?: string | undefined;
  /**
   * Stable code of that error (`x-kronos-last-error-code`, and `x-kronos-dl-error-code` should this retry be the
   * one that dead-letters it). Default `CLIENT_RETRY` (see `CONSUME_ERROR_CODES`).
   */
  readonly code?: string | undefined;
}

/** The last error a dead letter carries. */
export interface DeadLetterError {
  /** Stable code, e.g. `DECODE_FAILED`, `REJECTED`, `CLIENT_RETRY` (see `CONSUME_ERROR_CODES`). */
  readonly code: string;
  readonly message: string;
}

/**
 * What a subscription calls for every message. It may settle the delivery later (after the handler returned):
 * the subscription keeps at most its `maxInFlight`/`prefetch` unsettled deliveries and waits for one to be settled
 * before handing over more.
 */
export type DeliveryHandler = (delivery: Delivery) => void | Promise<void>;

/** A running subscription on either broker. */
export interface Subscription {
  /** Stop taking new messages for now (the client's stream is full); deliveries in hand stay valid. */
  pause(): void;
  /** Take messages again after {@link pause}. */
  resume(): void;
  /**
   * Stop consuming. Unsettled deliveries are given back (RabbitMQ: the channel closes, so the broker requeues them
   * with `redelivered`; Kafka: their offsets are not committed). Idempotent; never rejects.
   */
  close(): Promise<void>;
  /** Resolves when the subscription is consuming (RabbitMQ: `basic.consume` ok; Kafka: joined and assigned). */
  readonly ready: Promise<void>;
}
