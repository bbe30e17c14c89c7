/**
 * The settle state machine of one delivery, the same on both brokers. A broker adapter implements only
 * {@link BrokerSettlement} (its ack, its release, "write a retry copy", "write a dead letter"); this module decides
 * what a call may do, in which order, and what it counts:
 *
 * ```
 *             ack() ─────────────────────────────────────────────> acked
 * pending ──  release(), lease expiry ───────────────────────────> released   (back to the broker, same attempt)
 *    │        retry() ──> settling ──> copy confirmed, then ack ──> retried | dead-lettered (at maxAttempts)
 *    │        deadLetter() ──> settling ──> confirmed, then ack ──> dead-lettered
 *    │                           └── copy failed ──> pending (nothing was acked: it may be settled again)
 *    └─ the broker took it back (lost channel, close) ────────────> gone       (counted as released)
 * ```
 *
 * A copy is always confirmed by the broker before the original is acked, so a crash in between costs a duplicate,
 * never a loss. A delivery is settled once: any later call (or one while a copy is being written) changes nothing
 * and rejects with `ALREADY_SETTLED`, saying how it ended. A `gone` delivery acks and releases as no-ops when its
 * broker allows it (RabbitMQ: it was requeued), see {@link BrokerSettlement.check}.
 */
import { describeError, TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import type { ConsumeRecorder } from "../metrics/consume.js";
import type { DeadLetterReason } from "./dead-letter.js";
import type { DeadLetterError, Delivery, RetryOptions } from "./delivery.js";
import { CONSUME_ERROR_CODES, type ConsumePolicy, decideRetry } from "./policy.js";

/** The settling calls of a {@link Delivery}. */
export type SettleOperation = "ack" | "release" | "retry" | "deadLetter";

/** What one broker does to settle one delivery. */
export interface BrokerSettlement {
  /**
   * Asked before every call that finds the delivery pending or gone: a {@link TransportError} refuses the call
   * (Kafka: `CLOSED` after close; RabbitMQ: `RABBITMQ_UNAVAILABLE` for a copy when the delivery's channel is gone),
   * `"noop"` resolves it without doing anything (RabbitMQ ack or release on a gone channel: the broker requeued
   * the message), `undefined` lets it go on.
   */
  check(operation: SettleOperation): TransportError | "noop" | undefined;
  /** Done with it (RabbitMQ `basic.ack`; Kafka: the offset is settled). Also what follows a confirmed copy. */
  ack(): void;
  /** Give it back unsettled (RabbitMQ `basic.nack` with requeue; Kafka: hand the record over again). */
  release(): void;
  /** Writes the retry copy (attempt + 1) to the delay queue or retry topic of `tierMs`; resolves once confirmed. */
  writeRetry(tierMs: number, error: DeadLetterError, nowMs: number): Promise<void>;
  /** Writes the dead letter; resolves once confirmed, with its destination (dead-letter topic or exchange). */
  writeDeadLetter(reason: DeadLetterReason, error: DeadLetterError, nowMs: number): Promise<string>;
}

/** What the deliveries of one subscription share. */
export interface SettlementContext {
  readonly policy: ConsumePolicy;
  readonly recorder: ConsumeRecorder;
  /** Registers a copy under way, so closing the subscription waits for it. */
  readonly track: (operation: Promise<unknown>) => void;
}

type State = "pending" | "settling" | "acked" | "released" | "retried" | "dead-lettered" | "gone";

/** The state machine of one delivery (see the module doc). */
export class Settlement {
  readonly #broker: BrokerSettlement;
  readonly #context: SettlementContext;
  readonly #attempt: number;
  /** Names the delivery in error messages, e.g. `the delivery orders[0]@12`. */
  readonly #what: string;
  readonly #ledger: SettlementLedger | undefined;
  #state: State = "pending";
  #expired = false;
  #lease: NodeJS.Timeout | undefined;

  /** Counts the delivery as held; `ledger` gets it until it is settled. */
  constructor(
    broker: BrokerSettlement,
    context: SettlementContext,
    attempt: number,
    what: string,
    ledger?: SettlementLedger,
  ) {
    this.#broker = broker;
    this.#context = context;
    this.#attempt = attempt;
    this.#what = what;
    this.#ledger = ledger;
    context.recorder.held(1);
    ledger?.add(this);
  }

  /** Whether it is still waiting for a settle (pending, or a copy under way). */
  get open(): boolean {
    return this.#state === "pending" || this.#state === "settling";
  }

  /**
   * Whether the delivery went back to its broker unsettled: released, taken back (lost channel, subscription
   * closed), or still pending on a channel or subscription that is closing. Settling it now cannot change anything.
   */
  get returned(): boolean {
    if (this.#state === "gone" || this.#state === "released") return true;
    return this.#state === "pending" && this.#broker.check("release") !== undefined;
  }

  /** The delivery goes to the handler now: counted, and its lease (if the policy has one) starts. */
  handedOver(): void {
    this.#context.recorder.delivered();
    const leaseMs = this.#context.policy.leaseMs;
    if (leaseMs === undefined || this.#state !== "pending") return;
    this.#lease = setTimeout(() => this.#expire(), leaseMs);
    this.#lease.unref();
  }

  ack(): Promise<void> {
    return this.#simple("ack", "acked", "ack", () => this.#broker.ack());
  }

  release(): Promise<void> {
    return this.#simple("release", "released", "released", () => this.#broker.release());
  }

  retry(options: RetryOptions): Promise<"retried" | "dead-lettered"> {
    let decision: ReturnType<typeof decideRetry>;
    try {
      decision = decideRetry(this.#context.policy, this.#attempt, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#withCopy("retry", async () => {
      const nowMs = Date.now();
      if (decision.action === "dead-letter") {
        await this.#deadLetter(decision.reason, decision.error, nowMs);
        return "dead-lettered" as const;
      }
      await this.#broker.writeRetry(decision.tierMs, decision.error, nowMs);
      this.#context.recorder.retried();
      return "retried" as const;
    });
  }

  async deadLetter(reason: DeadLetterReason, error: DeadLetterError): Promise<void> {
    await this.#withCopy("deadLetter", async () => {
      await this.#deadLetter(reason, error, Date.now());
      return "dead-lettered" as const;
    });
  }

  /** The broker took the delivery back (lost channel, subscription closed): counted as released, settles no more. */
  abandon(): void {
    if (this.#state !== "pending") return;
    this.#finish("gone", "released");
  }

  async #deadLetter(reason: DeadLetterReason, error: DeadLetterError, nowMs: number): Promise<void> {
    const destination = await this.#broker.writeDeadLetter(reason, error, nowMs);
    this.#context.recorder.deadLettered(destination, reason);
  }

  #expire(): void {
    this.#lease = undefined;
    if (this.#state !== "pending" || this.#broker.check("release") !== undefined) return;
    this.#expired = true;
    this.#finish("released", "released");
    this.#broker.release();
  }

  #simple(operation: SettleOperation, end: State, outcome: "ack" | "released", send: () => void): Promise<void> {
    const refused = this.#refusal(operation);
    if (refused !== undefined && refused !== "noop") return Promise.reject(refused);
    if (refused === "noop" || this.#state === "gone") {
      // The broker has it back already: nothing to send, and it counts as released, whatever was asked.
      this.abandon();
      this.#state = end;
      return Promise.resolve();
    }
    this.#finish(end, outcome);
    send();
    return Promise.resolve();
  }

  /** Writes a copy with `write`, then acks; back to pending (nothing acked) if the copy failed. */
  #withCopy<T extends "retried" | "dead-lettered">(operation: SettleOperation, write: () => Promise<T>): Promise<T> {
    const refused = this.#refusal(operation);
    if (refused === "noop" || (refused === undefined && this.#state === "gone")) {
      return Promise.reject(this.#already(operation));
    }
    if (refused) return Promise.reject(refused);
    this.#state = "settling";
    const run = write().then(
      (result) => {
        this.#finish(result, result === "retried" ? "retry" : "dead_letter");
        this.#broker.ack();
        return result;
      },
      (error: unknown) => {
        this.#state = "pending";
        throw error;
      },
    );
    this.#context.track(run);
    return run;
  }

  #refusal(operation: SettleOperation): TransportError | "noop" | undefined {
    if (this.#state !== "pending" && this.#state !== "gone") return this.#already(operation);
    return this.#broker.check(operation);
  }

  #already(operation: SettleOperation): TransportError {
    let how: string;
    if (this.#state === "settling") how = "is being settled";
    else if (this.#expired) how = "was given back already (its lease expired)";
    else if (this.#state === "gone") how = "was given back to the broker already";
    else how = `was ${this.#state} already`;
    return new TransportError("ALREADY_SETTLED", `cannot ${operation}: ${this.#what} ${how}`);
  }

  #finish(end: State, outcome: "ack" | "released" | "retry" | "dead_letter"): void {
    const wasHeld = this.#state === "pending" || this.#state === "settling";
    this.#state = end;
    clearTimeout(this.#lease);
    this.#lease = undefined;
    if (!wasHeld) return;
    this.#context.recorder.settled(outcome);
    this.#context.recorder.held(-1);
    this.#ledger?.delete(this);
  }
}

/** The deliveries of a subscription (or of one channel) not settled yet, to give back all at once. */
export class SettlementLedger {
  readonly #open = new Set<Settlement>();

  get size(): number {
    return this.#open.size;
  }

  add(settlement: Settlement): void {
    this.#open.add(settlement);
  }

  delete(settlement: Settlement): void {
    this.#open.delete(settlement);
  }

  /** Every pending delivery was taken back by the broker ({@link Settlement.abandon}). */
  abandonAll(): void {
    for (const settlement of [...this.#open]) settlement.abandon();
  }
}

/** After a handler failed and its retry could not be written, the delivery is given back this much later. */
export const HANDLER_FAILURE_RELEASE_MS = 1000;

/**
 * What both subscriptions do when a handler throws or rejects before settling its delivery: retry it at the
 * shortest tier with code `HANDLER_FAILED` (counting an attempt, so a handler that always fails ends in the dead
 * letters with reason `max-attempts`); when that retry cannot be written, release it a second later. A delivery
 * the handler settled before failing stays as it was.
 */
export function retryFailedDelivery(
  delivery: Delivery,
  error: unknown,
  logger: TransportLogger,
  fields: Record<string, unknown>,
): void {
  logger.warn({ ...fields, err: error, attempt: delivery.attempt }, "delivery handler failed; retrying the delivery");
  delivery
    .retry({ delayMs: 0, reason: `handler failed: ${describeError(error)}`, code: CONSUME_ERROR_CODES.handlerFailed })
    .catch((retryError: unknown) => {
      const code = retryError instanceof TransportError ? retryError.code : undefined;
      if (code === "ALREADY_SETTLED" || code === "CLOSED") return;
      logger.error({ ...fields, err: retryError }, "could not retry a failed delivery; releasing it shortly");
      setTimeout(() => void delivery.release().catch(() => {}), HANDLER_FAILURE_RELEASE_MS).unref();
    });
}
