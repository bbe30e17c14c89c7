import { HttpError } from "@kronos/app-kit";
import { TransportError } from "@kronos/transport";
import type { FastifyBaseLogger } from "fastify";
import type { HandleEnd, HandleRegistry, HeldDelivery } from "./handles.js";
import type { SubscribeMetrics } from "./metrics.js";

/** What a client asks of one held delivery. */
export interface SettleCommand {
  readonly handle: string;
  readonly action: "ack" | "retry" | "reject";
  /** Retry only: the delay before the delivery comes again (default: the first retry tier). */
  readonly delayMs?: number;
  /** Retry and reject: why, recorded on the retry copy or the dead letter. */
  readonly reason?: string;
}

/** How a settled delivery ended. */
export interface Settled {
  readonly messageId: string | null;
  readonly outcome: "acked" | "retried" | "dead-lettered";
  readonly attempt: number;
}

/** Options of {@link Settler}. */
export interface SettlerOptions {
  readonly handles: HandleRegistry;
  readonly metrics: SubscribeMetrics;
  readonly logger: FastifyBaseLogger;
  /** The delay of a retry that names none, in ms. */
  readonly defaultRetryDelayMs: number;
}

/**
 * Settles the deliveries clients hold, one command at a time: the one place where a handle becomes an ack, a retry or
 * a dead letter (the single-handle routes use it; so does anything that settles several handles).
 */
export class Settler {
  readonly #options: SettlerOptions;

  constructor(options: SettlerOptions) {
    this.#options = options;
  }

  /**
   * Settles `command.handle` for `identity` (the principal's `identity`, never its id: a JWT whose sub equals an
   * API key's principal id is someone else). Throws an {@link HttpError}: those of {@link HandleRegistry.take}, 409
   * `ALREADY_SETTLED`, 404 `HANDLE_EXPIRED` when the delivery went back to its broker while it was being settled
   * (its subscription ended), or 503 `SETTLE_FAILED` when the broker did not confirm (the delivery is held again
   * then, so the client may try again).
   */
  async settle(identity: string, command: SettleCommand): Promise<Settled> {
    switch (command.action) {
      case "ack":
        return this.ack(identity, command.handle);
      case "retry":
        return this.retry(identity, command);
      case "reject":
        return this.reject(identity, command);
    }
  }

  /** Acks `handle` (see {@link settle}). */
  async ack(identity: string, handle: string): Promise<Settled & { readonly outcome: "acked" }> {
    const held = await this.#run(identity, { handle, action: "ack" }, async (h) => {
      await h.delivery.ack();
      return "acked" as const;
    });
    return settled(held, "acked");
  }

  /** Retries a delivery, or dead-letters it once its attempts are used up (see {@link settle}). */
  async retry(
    identity: string,
    command: Omit<SettleCommand, "action">,
  ): Promise<Settled & { readonly outcome: "retried" | "dead-lettered" }> {
    const delayMs = command.delayMs ?? this.#options.defaultRetryDelayMs;
    const reason = command.reason ?? "retry requested by the client";
    const outcome: { value: "retried" | "dead-lettered" } = { value: "retried" };
    const held = await this.#run(identity, { ...command, action: "retry" }, async (h) => {
      outcome.value = await h.delivery.retry({ delayMs, reason });
      return outcome.value;
    });
    if (outcome.value === "dead-lettered") this.#options.metrics.settled(held.delivery.broker, "dead_letter");
    return settled(held, outcome.value);
  }

  /** Dead-letters a delivery with reason `rejected` (see {@link settle}). */
  async reject(
    identity: string,
    command: Omit<SettleCommand, "action" | "delayMs">,
  ): Promise<Settled & { readonly outcome: "dead-lettered" }> {
    const message = command.reason ?? "rejected by the client";
    const held = await this.#run(identity, { ...command, action: "reject" }, async (h) => {
      await h.delivery.deadLetter("rejected", { code: "CLIENT_REJECTED", message });
      return "dead-lettered" as const;
    });
    return settled(held, "dead-lettered");
  }

  /**
   * Acks, for `identity`, every delivery it holds on the subscription of `handle` up to and including that one:
   * on Kafka those of the same partition whose offset is at most `handle`'s, on RabbitMQ those its subscription
   * received no later than `handle`'s (the delivery-tag order of its channel). `handle` itself is acked first and
   * throws like {@link ack} (nothing else is acked then); the others are acked one by one in their order, and one
   * that cannot be (its subscription ended meanwhile) is left out of the answer. Resolves to the handles acked.
   */
  async ackThrough(identity: string, handle: string): Promise<{ readonly acked: number; readonly handles: string[] }> {
    const { handles, metrics } = this.#options;
    const named = handles.check(handle, identity);
    const position = named.delivery.position;
    const upTo = (held: HeldDelivery): boolean => {
      if (held.handle === handle) return false;
      if (position === undefined) return held.order <= named.order;
      const other = held.delivery.position;
      return other?.partition === position.partition && BigInt(other.offset) <= BigInt(position.offset);
    };
    const before = handles.openOf(named.subscriptionId, identity, upTo);
    await this.ack(identity, handle);
    const acked = [handle];
    for (const held of before) {
      try {
        await this.ack(identity, held.handle);
        acked.push(held.handle);
      } catch {
        // Settled by a request in the meantime, or gone back with its subscription: not acked here.
      }
    }
    metrics.batch("ack_through", acked.length);
    return { acked: acked.length, handles: acked };
  }

  /**
   * Takes the handle's delivery, runs `run`, records how it ended; puts the delivery back if it failed. A delivery
   * that went back to its broker meanwhile (its subscription ended, its channel closed) answers 404
   * `HANDLE_EXPIRED`, as it will a moment later: never a 503 the client would retry in vain.
   */
  async #run(
    identity: string,
    command: SettleCommand,
    run: (held: HeldDelivery) => Promise<HandleEnd>,
  ): Promise<HeldDelivery> {
    const { handles, metrics, logger } = this.#options;
    const { handle, action } = command;
    const held = handles.take(handle, identity);
    // Checked before settling: a RabbitMQ ack on a closed channel would resolve as a no-op, yet the message comes again.
    if (held.delivery.returned) throw handles.returned(held);
    let end: HandleEnd;
    try {
      end = await run(held);
    } catch (error) {
      if (held.delivery.returned || (error instanceof TransportError && error.code === "CLOSED")) {
        throw handles.returned(held);
      }
      if (error instanceof TransportError && error.code === "ALREADY_SETTLED") {
        throw new HttpError(409, "ALREADY_SETTLED", `delivery "${handle}" was settled already`);
      }
      handles.restore(held);
      logger.warn({ err: error, handle }, "settling a delivery failed; the client may try again");
      // The broker's or library's text is in the log line above, never in the answer.
      throw new HttpError(
        503,
        "SETTLE_FAILED",
        `could not ${action} delivery "${handle}" right now: the broker did not confirm it; try again`,
      );
    }
    handles.ended(handle, end);
    metrics.settled(held.delivery.broker, action);
    return held;
  }
}

function settled<O extends Settled["outcome"]>(held: HeldDelivery, outcome: O): Settled & { readonly outcome: O } {
  return { messageId: held.delivery.messageId ?? null, outcome, attempt: held.delivery.attempt };
}
