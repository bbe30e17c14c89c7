import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { readCloudEvent } from "../cloudevents.js";
import { attemptOf, type DeadLetterReason } from "../consume/dead-letter.js";
import type { AmqpView, DeadLetterError, Delivery, RawHeader, RetryOptions } from "../consume/delivery.js";
import {
  type BrokerSettlement,
  Settlement,
  type SettlementContext,
  type SettlementLedger,
  type SettleOperation,
} from "../consume/settlement.js";
import { describeError, TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import { deliveryHeaders, deliveryRawHeaders, originalRoute, timestampMsOf } from "./consumer-message.js";
import type { RetryPath } from "./retry-path.js";

/** One consumer channel of a subscription; `open` turns false when it closes (deliveries on it are then moot). */
export interface ConsumerChannel {
  readonly channel: Channel;
  readonly connection: ChannelModel;
  consumerTag: string | undefined;
  open: boolean;
  /** Its deliveries not settled yet: the broker takes them back when the channel closes. */
  readonly ledger: SettlementLedger;
}

/** What the deliveries of one subscription share. */
export interface DeliveryContext extends SettlementContext {
  readonly queue: string;
  readonly consumerName: string;
  readonly retryPath: RetryPath;
  /** `deadLetter: "queue-policy"`: a dead letter is a nack without requeue, not a published copy. */
  readonly deadLetterByPolicy: boolean;
  readonly logger: TransportLogger;
}

/**
 * A message consumed from a RabbitMQ queue, as a {@link Delivery}, settled by the shared state machine
 * (`consume/settlement.ts`); this class gives it RabbitMQ's ack, release and copies:
 * - `headers`: the AMQP headers and properties as text under the Kafka names (`deliveryHeaders`); `key` is the
 *   routing key the message was published with (kept across the retry path by `x-kronos-original-routing-key`);
 *   `rawHeaders` the same names with byte arrays as they are (`deliveryRawHeaders`), `amqp` the properties as they
 *   came, `rawKey` null; `attempt` comes from `x-kronos-attempt`; `timestampMs` from the `timestamp` header (ms) or property (s).
 * - `ack()` is `basic.ack` and `release()` is `basic.nack` with requeue; both resolve at once (AMQP acks are not
 *   confirmed).
 * - `retry()` and `deadLetter()` publish a copy through the queue's {@link RetryPath} and wait for its publisher
 *   confirm before acking the original; when they fail, the delivery stays unsettled and may be settled again.
 *   With `deadLetterByPolicy`, a dead letter is `basic.nack` without requeue instead (RabbitMQ moves the message
 *   to the queue's own dead-letter exchange, or drops it), and nothing is acked after it.
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
  readonly rawHeaders: ReadonlyArray<RawHeader>;
  readonly messageId: string | undefined;
  readonly eventType: string | undefined;
  readonly key: string | undefined;
  readonly rawKey = null;
  readonly amqp: AmqpView;
  readonly redelivered: boolean;
  readonly attempt: number;
  readonly position = undefined;
  readonly timestampMs: number | undefined;
  /** The channel it came on. */
  readonly channel: ConsumerChannel;
  /** Its settle state machine. */
  readonly settlement: Settlement;

  constructor(message: ConsumeMessage, channel: ConsumerChannel, context: DeliveryContext) {
    this.channel = channel;
    this.source = context.queue;
    this.body = message.content;
    this.headers = deliveryHeaders(message.properties);
    this.rawHeaders = deliveryRawHeaders(message.properties);
    this.amqp = { properties: message.properties };
    // A message from outside Kronos that is a CloudEvent (binary mode) is named by its cloudEvents_id and _type.
    this.messageId = this.headers["message-id"] ?? readCloudEvent(this.headers)?.id;
    this.eventType = this.headers["event-type"] ?? readCloudEvent(this.headers)?.type;
    this.key = originalRoute(message).routingKey;
    this.redelivered = message.fields.redelivered;
    this.attempt = attemptOf(message.properties.headers ?? {});
    this.timestampMs = timestampMsOf(this.headers);
    const what = `the delivery of message ${this.messageId ?? "(no message id)"} from RabbitMQ queue "${this.source}"`;
    this.settlement = new Settlement(
      amqpSettlement(message, channel, context, this.attempt),
      context,
      this.attempt,
      what,
      channel.ledger,
    );
  }

  get returned(): boolean {
    return this.settlement.returned;
  }

  ack(): Promise<void> {
    return this.settlement.ack();
  }

  release(): Promise<void> {
    return this.settlement.release();
  }

  retry(options: RetryOptions): Promise<"retried" | "dead-lettered"> {
    return this.settlement.retry(options);
  }

  deadLetter(reason: DeadLetterReason, error: DeadLetterError): Promise<void> {
    return this.settlement.deadLetter(reason, error);
  }
}

/** RabbitMQ's half of a delivery's settlement: acks and nacks on its channel, copies through the retry path. */
function amqpSettlement(
  message: ConsumeMessage,
  channel: ConsumerChannel,
  context: DeliveryContext,
  attempt: number,
): BrokerSettlement {
  const send = (operation: string, act: (ch: Channel) => void): void => {
    // A no-op when the channel is gone or closing (amqplib throws IllegalOperationError): the broker requeues it.
    if (!channel.open) return;
    try {
      act(channel.channel);
    } catch (error) {
      context.logger.debug(
        { queue: context.queue, operation, err: describeError(error) },
        "delivery channel closing; settle is a no-op",
      );
    }
  };
  // Set once the message was nacked to the queue's own dead-lettering: the ack that follows a copy is then moot.
  let nacked = false;
  return {
    check(operation: SettleOperation) {
      if (channel.open) return undefined;
      if (operation === "ack" || operation === "release") return "noop";
      return new TransportError(
        "RABBITMQ_UNAVAILABLE",
        `${operation}: the channel the message from RabbitMQ queue "${context.queue}" came on is closed (connection ` +
          "lost or subscription closed); RabbitMQ requeued the message and will deliver it again",
      );
    },
    ack: () => {
      if (!nacked) send("ack", (ch) => ch.ack(message));
    },
    release: () => send("release", (ch) => ch.nack(message, false, true)),
    writeRetry: (tierMs, error, nowMs) => context.retryPath.retry(message, { tierMs, attempt, error, nowMs }),
    writeDeadLetter: async (reason, error, nowMs) => {
      if (!context.deadLetterByPolicy) {
        return context.retryPath.deadLetter(message, { reason, error, attempt, consumer: context.consumerName, nowMs });
      }
      if (!channel.open) {
        throw new TransportError(
          "RABBITMQ_UNAVAILABLE",
          `dead letter: the channel the message from RabbitMQ queue "${context.queue}" came on is closed; RabbitMQ ` +
            "requeued the message and will deliver it again",
        );
      }
      send("deadLetter", (ch) => ch.nack(message, false, false));
      nacked = true;
      return queuePolicyDestination(context.queue);
    },
  };
}

/** The `destination` a dead letter left to the queue's own dead-lettering is counted under (metrics). */
export function queuePolicyDestination(queue: string): string {
  return `queue-policy:${queue}`;
}
