import { avroToJson } from "@kronos/contracts";
import type { Delivery, Subscription } from "@kronos/transport";
import type { FastifyBaseLogger } from "fastify";
import { eventId, formatCursor } from "./cursor.js";
import type { DeliveryFilter } from "./filters.js";
import type { HandleRegistry } from "./handles.js";
import type { SubscribeMetrics } from "./metrics.js";
import type { Source } from "./source.js";
import type { SseStream } from "./sse.js";

/** A delivery's body decoded: the event's full name and its value (Avro JS representation). */
export interface DecodedMessage {
  readonly event: string;
  readonly payload: unknown;
}

/** Why a body could not be decoded, and whether trying again later can help (the registry was unreachable). */
export interface DecodeFailure {
  readonly code: string;
  readonly message: string;
  readonly retriable: boolean;
}

/** What a session needs from the gateway. */
export interface SessionDeps {
  readonly handles: HandleRegistry;
  /** Decodes a body; rejects with a {@link DecodeFailure}-shaped error. */
  readonly decode: (delivery: Delivery) => Promise<DecodedMessage>;
  readonly metrics: SubscribeMetrics;
  readonly logger: FastifyBaseLogger;
}

/** One subscription stream's settings. */
export interface SessionOptions {
  readonly id: string;
  readonly identity: string;
  readonly source: Source;
  readonly leaseMs: number;
  readonly filter: DeliveryFilter | undefined;
  /** A Kafka tail without a group: every event id carries the resume cursor (see cursor.ts). */
  readonly withCursor: boolean;
}

/** Wait before a message whose schema could not be fetched is given back (the registry is down: no hot loop). */
const DECODE_RETRY_DELAY_MS = 1000;

/**
 * Joins one broker subscription to one SSE stream. Every delivery is filtered, decoded, held under a handle with
 * its lease (see {@link HandleRegistry}) and written as a `message` event; a full stream pauses the subscription
 * until it drains, so the gateway holds at most the subscription's prefetch per client. A body that cannot be
 * decoded is dead-lettered with reason `decode-failed` and the stream goes on; a message the filter refuses is
 * acknowledged (the filter consumes it) and not sent.
 */
export class SubscriptionSession {
  readonly #options: SessionOptions;
  readonly #deps: SessionDeps;
  readonly #opened: Promise<void>;
  #markOpened: () => void = () => {};
  #stream: SseStream | undefined;
  #subscription: Subscription | undefined;
  #cursor: Map<number, string> | undefined;
  #sequence = 0;
  #arrivals = 0;
  #closed = false;
  #pausedForDrain = false;

  constructor(options: SessionOptions, deps: SessionDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#opened = new Promise((resolve) => {
      this.#markOpened = resolve;
    });
  }

  /** The handler to give the broker subscription (deliveries wait until {@link start}). */
  readonly handle = async (delivery: Delivery): Promise<void> => {
    // Counted before any await: the order the broker handed them over (a cumulative ack goes by it).
    const order = ++this.#arrivals;
    await this.#opened;
    if (this.#closed || this.#stream === undefined || !this.#stream.open) {
      await delivery.release().catch(() => {});
      return;
    }
    const { broker } = this.#options.source;
    if (this.#options.filter && !this.#options.filter(delivery)) {
      await delivery.ack();
      this.#advanceCursor(delivery);
      this.#deps.metrics.delivered(broker, "filtered");
      return;
    }
    let decoded: DecodedMessage;
    try {
      decoded = await this.#deps.decode(delivery);
    } catch (error) {
      await this.#decodeFailed(delivery, error as DecodeFailure);
      return;
    }
    // The client may have gone while the body was decoded (the registry was asked): give the message back.
    if (this.#closed || !this.#stream.open) {
      await delivery.release().catch(() => {});
      return;
    }
    this.#advanceCursor(delivery);
    const handle = eventId(
      `${this.#options.id}.${++this.#sequence}`,
      this.#cursor === undefined ? undefined : formatCursor(this.#cursor),
    );
    this.#deps.handles.hold(handle, this.#options.id, this.#options.identity, delivery, this.#options.leaseMs, order);
    const data = JSON.stringify({
      messageId: delivery.messageId ?? null,
      event: decoded.event,
      key: delivery.key ?? null,
      headers: delivery.headers,
      payload: avroToJson(decoded.payload),
      redelivered: delivery.redelivered,
      attempt: delivery.attempt,
      ...(delivery.position === undefined
        ? {}
        : { partition: delivery.position.partition, offset: delivery.position.offset }),
    });
    this.#deps.metrics.delivered(broker, "sent");
    if (!this.#stream.send(handle, "message", data)) this.#pauseUntilDrained();
  };

  /** Attaches the broker subscription (to pause, resume and close it). */
  attach(subscription: Subscription): void {
    this.#subscription = subscription;
  }

  /**
   * Starts writing to `stream`. `startPositions` (Kafka tail without a group) seeds the cursor with the offset
   * every assigned partition starts at.
   */
  start(stream: SseStream, startPositions?: ReadonlyMap<number, string>): void {
    this.#stream = stream;
    if (this.#options.withCursor) this.#cursor = new Map(startPositions ?? []);
    stream.onClose(() => {
      void this.close();
    });
    this.#markOpened();
  }

  /**
   * Stops the broker subscription (the broker gets back what the client did not settle) and forgets the handles.
   * Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#markOpened();
    await this.#subscription?.close();
    this.#deps.handles.dropSubscription(this.#options.id);
    this.#stream?.close();
  }

  #pauseUntilDrained(): void {
    if (this.#pausedForDrain || this.#stream === undefined) return;
    this.#pausedForDrain = true;
    this.#subscription?.pause();
    this.#stream.onDrain(() => {
      this.#pausedForDrain = false;
      if (!this.#closed) this.#subscription?.resume();
    });
  }

  // The cursor says where to resume: past every message sent (or filtered out) on its partition.
  #advanceCursor(delivery: Delivery): void {
    const position = delivery.position;
    if (this.#cursor === undefined || position === undefined || delivery.attempt > 1) return;
    const next = BigInt(position.offset) + 1n;
    const current = this.#cursor.get(position.partition);
    if (current === undefined || BigInt(current) < next) this.#cursor.set(position.partition, next.toString());
  }

  async #decodeFailed(delivery: Delivery, failure: DecodeFailure): Promise<void> {
    const { broker } = this.#options.source;
    if (failure.retriable) {
      this.#deps.metrics.delivered(broker, "decode_retry");
      this.#deps.logger.warn(
        { code: failure.code, err: failure.message, source: this.#options.source.name },
        "could not decode a message now (schema registry unreachable?); it goes back to the broker",
      );
      await new Promise((resolve) => setTimeout(resolve, DECODE_RETRY_DELAY_MS));
      await delivery.release().catch(() => {});
      return;
    }
    this.#deps.metrics.delivered(broker, "decode_failed");
    try {
      await delivery.deadLetter("decode-failed", { code: failure.code, message: failure.message });
      this.#advanceCursor(delivery);
      this.#stream?.comment(`dead-lettered message ${delivery.messageId ?? "(no id)"}: ${failure.code}`);
      this.#deps.logger.warn(
        { code: failure.code, err: failure.message, source: this.#options.source.name, messageId: delivery.messageId },
        "a message could not be decoded; it went to the dead letters",
      );
    } catch (error) {
      this.#deps.logger.error(
        { err: error, source: this.#options.source.name, messageId: delivery.messageId },
        "could not dead-letter an undecodable message; it goes back to the broker",
      );
      await delivery.release().catch(() => {});
    }
  }
}
