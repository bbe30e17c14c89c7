import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { attemptOf, type DeadLetterReason } from "../consume/dead-letter.js";
import type { DeadLetterError, Delivery, RetryOptions } from "../consume/delivery.js";
import { describeError, TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import {
  deliveryHeaders,
  MAX_ATTEMPTS_ERROR_CODE,
  originalRoute,
  retryTier,
  timestampMsOf,
} from "./consumer-message.js";
import type { RetryPath } from "./retry-path.js";

/** One consumer channel of a subscription; `open` turns false when it closes (deliveries on it are then moot). */
export interface ConsumerChannel {
  readonly channel: Channel;
  readonly connection: ChannelModel;
  consumerTag: string | undefined;
  open: boolean;
}

/** What the deliveries of one subscription share. */
export interface DeliveryContext {
  readonly queue: string;
  readonly consumerName: string;
  readonly maxAttempts: number;
  /** Sorted ascending, non-empty. */
  readonly retryTiersMs: readonly number[];
  readonly retryPath: RetryPath;
  readonly logger: TransportLogger;
  /** Registers a retry or dead-letter operation in flight, so closing the subscription waits for it. */
  readonly track: (operation: Promise<unknown>) => void;
}

/** Reason text of a retry that gave none. */
const DEFAULT_RETRY_REASON = "retry requested";

/**
 * A message consumed from a RabbitMQ queue, as a {@link Delivery}:
 * - `headers`: the AMQP headers and properties as text under the Kafka names (`deliveryHeaders`); `key` is the
 *   routing key the message was published with (kept across the retry path by `x-kronos-original-routing-key`);
 *   `attempt` comes from `x-kronos-attempt`; `timestampMs` from the `timestamp` header (ms) or property (s).
 * - `ack()` is `basic.ack` and `release()` is `basic.nack` with requeue; both resolve at once (AMQP acks are not
 *   confirmed).
 * - `retry()` and `deadLetter()` publish a copy and wait for its publisher confirm before acking the original;
 *   when they fail, the delivery stays unsettled (nothing was acked) and may be settled again.
 * - Settling twice rejects with `ALREADY_SETTLED` (also while a retry or dead letter is in progress).
 * - When the channel the delivery came on is gone (connection lost, subscription closed), RabbitMQ has requeued
 *   the message and will deliver it again: `ack()` and `release()` resolve as no-ops, `retry()` and
 *   `deadLetter()` reject with `RABBITMQ_UNAVAILABLE` without publishing anything (a copy would be a duplicate).
 *   If the channel goes between a copy's confirm and the ack, the copy stands and the original comes back too:
 *   a duplicate, never a loss.
 */
export class AmqpDelivery implements Delivery {
  readonly broker = "rabbitmq";
  readonly source: string;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly messageId: string | undefined;
  readonly eventType: string | undefined;
  readonly key: string | undefined;
  readonly redelivered: boolean;
  readonly attempt: number;
  readonly position = undefined;
  readonly timestampMs: number | undefined;
  /** The channel it came on. */
  readonly channel: ConsumerChannel;
  readonly #message: ConsumeMessage;
  readonly #context: DeliveryContext;
  #state: "open" | "settling" | "settled" = "open";

  constructor(message: ConsumeMessage, channel: ConsumerChannel, context: DeliveryContext) {
    this.#message = message;
    this.#context = context;
    this.channel = channel;
    this.source = context.queue;
    this.body = message.content;
    this.headers = deliveryHeaders(message.properties);
    this.messageId = this.headers["message-id"];
    this.eventType = this.headers["event-type"];
    this.key = originalRoute(message).routingKey;
    this.redelivered = message.fields.redelivered;
    this.attempt = attemptOf(message.properties.headers ?? {});
    this.timestampMs = timestampMsOf(this.headers);
  }

  ack(): Promise<void> {
    const refused = this.#begin("ack");
    if (refused) return Promise.reject(refused);
    this.#state = "settled";
    this.#send("ack", (channel) => channel.ack(this.#message));
    return Promise.resolve();
  }

  release(): Promise<void> {
    const refused = this.#begin("release");
    if (refused) return Promise.reject(refused);
    this.#state = "settled";
    this.#send("release", (channel) => channel.nack(this.#message, false, true));
    return Promise.resolve();
  }

  retry(options: RetryOptions): Promise<"retried" | "dead-lettered"> {
    const delayMs = options?.delayMs;
    if (typeof delayMs !== "number" || !(delayMs >= 0)) {
      return Promise.reject(
        new TransportError("INVALID_OPTIONS", `retry delayMs must be a number ≥ 0, got ${String(delayMs)}`),
      );
    }
    return this.#settleWithCopy("retry", async () => {
      const reason = options.reason ?? DEFAULT_RETRY_REASON;
      const { maxAttempts, retryTiersMs, retryPath } = this.#context;
      if (this.attempt >= maxAttempts) {
        await this.#publishDeadLetter("max-attempts", {
          code: MAX_ATTEMPTS_ERROR_CODE,
          message: `${reason} (gave up after ${this.attempt} of ${maxAttempts} attempts)`,
        });
        return "dead-lettered" as const;
      }
      const tierMs = retryTier(delayMs, retryTiersMs);
      await retryPath.retry(this.#message, { tierMs, attempt: this.attempt, reason, nowMs: Date.now() });
      return "retried" as const;
    });
  }

  deadLetter(reason: DeadLetterReason, error: DeadLetterError): Promise<void> {
    return this.#settleWithCopy("deadLetter", () => this.#publishDeadLetter(reason, error));
  }

  #publishDeadLetter(reason: DeadLetterReason, error: DeadLetterError): Promise<void> {
    return this.#context.retryPath.deadLetter(this.#message, {
      reason,
      error,
      attempt: this.attempt,
      consumer: this.#context.consumerName,
      nowMs: Date.now(),
    });
  }

  /** Publishes a copy with `publish`, then acks; back to unsettled if the copy could not be published. */
  #settleWithCopy<T>(operation: string, publish: () => Promise<T>): Promise<T> {
    const refused = this.#begin(operation);
    if (refused) return Promise.reject(refused);
    if (!this.channel.open) return Promise.reject(this.#stale(operation));
    this.#state = "settling";
    const run = publish().then(
      (result) => {
        this.#state = "settled";
        this.#send(operation, (channel) => channel.ack(this.#message));
        return result;
      },
      (error: unknown) => {
        this.#state = "open";
        throw error;
      },
    );
    this.#context.track(run);
    return run;
  }

  #begin(operation: string): TransportError | undefined {
    if (this.#state === "open") return undefined;
    const what = this.#state === "settling" ? "is being settled" : "was settled already";
    return new TransportError(
      "ALREADY_SETTLED",
      `${operation}: the delivery of message ${this.messageId ?? "(no message id)"} from RabbitMQ queue ` +
        `"${this.source}" ${what}`,
    );
  }

  #stale(operation: string): TransportError {
    return new TransportError(
      "RABBITMQ_UNAVAILABLE",
      `${operation}: the channel the message from RabbitMQ queue "${this.source}" came on is closed (connection ` +
        "lost or subscription closed); RabbitMQ requeued the message and will deliver it again",
    );
  }

  /** Acks or nacks on the delivery's channel; a no-op when that channel is gone (the broker requeued it). */
  #send(operation: string, send: (channel: Channel) => void): void {
    if (!this.channel.open) {
      this.#context.logger.debug({ queue: this.source, operation }, "delivery channel closed; settle is a no-op");
      return;
    }
    try {
      send(this.channel.channel);
    } catch (error) {
      // amqplib throws IllegalOperationError when the channel is closing or closed: the broker requeues it.
      this.#context.logger.debug(
        { queue: this.source, operation, err: describeError(error) },
        "delivery channel closing; settle is a no-op",
      );
    }
  }
}
