import { randomBytes } from "node:crypto";
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { accessRefused, amqpReplyCode, amqpReplyText } from "../admin/amqp-channel.js";
import type { RabbitManagementClient } from "../admin/rabbitmq-management.js";
import { type BackoffOptions, backoffDelay } from "../backoff.js";
import type { DeliveryHandler, Subscription } from "../consume/delivery.js";
import { type ConsumePolicy, consumePolicy, DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_TIERS_MS } from "../consume/policy.js";
import { retryFailedDelivery, SettlementLedger } from "../consume/settlement.js";
import { describeError, TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { type ConsumeMetrics, type ConsumeRecorder, NO_CONSUME_METRICS } from "../metrics/consume.js";
import type { AmqpConnectionManager } from "./connection-manager.js";
import { AmqpDelivery, type ConsumerChannel, type DeliveryContext } from "./consumer-delivery.js";
import { createRetryPath } from "./retry-path.js";

/** Options of {@link createAmqpSubscription}. */
export interface AmqpSubscriptionOptions {
  readonly queue: string;
  /** basic.qos prefetch: the most unsettled deliveries at once (1..1000). */
  readonly prefetch: number;
  /** Name of the consumer (consumer tag prefix; the `x-kronos-dl-consumer` header). */
  readonly consumerName: string;
  /** Attempts before a retry becomes a dead letter with reason "max-attempts". Default 5 (1 without retry tiers). */
  readonly maxAttempts?: number;
  /**
   * Delay tiers of the retry path, ms, in any order (the consume policy sorts them). Default [1000, 5000, 30000,
   * 300000]. A retry's delay is rounded UP to the nearest tier (capped at the largest). `[]`: no retries
   * (`maxAttempts` is then 1: `retry()` dead-letters at once; no delay queue is declared).
   */
  readonly retryTiersMs?: readonly number[];
  /** Deliveries not settled within this many ms are released (see `ConsumePolicyOptions.leaseMs`). Default none. */
  readonly leaseMs?: number;
  /** Where the subscription records its consumer metrics (`createConsumeMetrics`). Default: nothing recorded. */
  readonly metrics?: ConsumeMetrics;
  /**
   * Where dead letters go. Default: resolved per queue (see {@link createAmqpSubscription}). `"queue-policy"`: a
   * dead letter is `basic.nack` without requeue, so RabbitMQ itself dead-letters the message as the queue is
   * configured (its `x-dead-letter-exchange`, with `x-death` headers instead of the `x-kronos-dl-*` ones), or
   * drops it when the queue has none.
   */
  readonly deadLetter?: { readonly exchange: string; readonly routingKey: string } | "queue-policy";
  /** Used to resolve the queue's dead-letter target when `deadLetter` is not given. */
  readonly management?: RabbitManagementClient;
  readonly logger?: TransportLogger;
}

/** The consume policy's defaults, re-exported where the RabbitMQ options name them. */
export { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_TIERS_MS };

/** The largest `prefetch` of a RabbitMQ subscription (unacked deliveries on its channel). */
export const AMQP_MAX_PREFETCH = 1000;
const MAX_PREFETCH = AMQP_MAX_PREFETCH;
// Re-opening the consumer after its channel closed while the connection stayed up (e.g. the queue was deleted).
const REOPEN_BACKOFF: BackoffOptions = { initialDelayMs: 500, maxDelayMs: 30_000 };

/** The checked options of a subscription, defaults applied. */
export interface AmqpSubscriptionSettings {
  readonly queue: string;
  readonly prefetch: number;
  readonly consumerName: string;
  readonly maxAttempts: number;
  /** Sorted ascending, no duplicates. */
  readonly retryTiersMs: readonly number[];
  /** The policy those settings make (`leaseMs` included). */
  readonly policy: ConsumePolicy;
}

/**
 * Checks `options` and applies the defaults. Throws a {@link TransportError} `INVALID_OPTIONS` naming the queue and
 * the option: an empty queue or consumer name, `prefetch` outside 1..1000, a `deadLetter` without an exchange name
 * or routing key string, and what the consume policy refuses (`consumePolicy`: `maxAttempts`, `retryTiersMs`,
 * `leaseMs`).
 */
export function subscriptionSettings(options: AmqpSubscriptionOptions): AmqpSubscriptionSettings {
  const invalid = (message: string) =>
    new TransportError("INVALID_OPTIONS", `RabbitMQ subscription to queue "${options.queue}": ${message}`);
  if (typeof options.queue !== "string" || options.queue === "") throw invalid("queue must be a non-empty string");
  if (typeof options.consumerName !== "string" || options.consumerName === "") {
    throw invalid("consumerName must be a non-empty string");
  }
  if (!Number.isInteger(options.prefetch) || options.prefetch < 1 || options.prefetch > MAX_PREFETCH) {
    throw invalid(`prefetch must be an integer from 1 to ${MAX_PREFETCH}, got ${String(options.prefetch)}`);
  }
  const policy = consumePolicy(options, invalid);
  const deadLetter = options.deadLetter;
  if (
    deadLetter !== undefined &&
    deadLetter !== "queue-policy" &&
    (typeof deadLetter.exchange !== "string" || typeof deadLetter.routingKey !== "string")
  ) {
    throw invalid('deadLetter needs an exchange name and a routingKey string, or is "queue-policy"');
  }
  return {
    queue: options.queue,
    prefetch: options.prefetch,
    consumerName: options.consumerName,
    maxAttempts: policy.maxAttempts,
    retryTiersMs: policy.retryTiersMs,
    policy,
  };
}

/**
 * Consumes `options.queue` on `manager`'s connection and hands every message to `handler` as a {@link Delivery}
 * (see `AmqpDelivery` for how AMQP messages read and settle). Throws `INVALID_OPTIONS` at once for options that
 * cannot work ({@link subscriptionSettings}).
 *
 * - Its own channel with `basic.qos(prefetch)` and manual acks; `ready` resolves once `basic.consume` is ok. It
 *   rejects with a {@link TransportError}: `DESTINATION_NOT_FOUND` when the queue does not exist,
 *   `ACCESS_REFUSED` when the user's read permission does not cover the queue (403), `RABBITMQ_UNAVAILABLE` when
 *   the manager is not connected (call `manager.waitForConnection` first to wait) or RabbitMQ refused the channel or
 *   the consumer otherwise (405: exclusive queue, ...), `CLOSED` when the manager or the
 *   subscription was closed first. A subscription whose `ready` rejected is closed.
 * - Retries and dead letters are published on a separate confirm channel (an {@link AmqpPublisher}); see
 *   {@link createRetryPath} for delay queues and the dead-letter target (`deadLetter`, else the queue's own DLX
 *   through `management`, else `<queue>.dlx` → `<queue>.dlq`, declared if missing). With `deadLetter:
 *   "queue-policy"` a dead letter is not published but nacked without requeue on the consumer channel, leaving it
 *   to the queue's own dead-lettering (RabbitMQ's `x-death`, which `readDeadLetter` reads too).
 * - `pause()` stops handing deliveries to the handler and keeps them in memory (at most `prefetch`: the broker
 *   sends no more while they are unsettled); `resume()` hands them over in order.
 * - When the connection is lost, the unsettled deliveries go back to the queue (the broker requeues them with
 *   `redelivered`), settling them becomes a no-op, and the subscription opens a new channel and consumer on the
 *   manager's next connection. A channel closed by the server while the connection stays up, or a consumer the
 *   server cancelled (queue deleted), is re-opened with backoff (0.5 s to 30 s) until it works or `close()`.
 * - The handler may settle a delivery after it returned; a handler that throws or rejects before settling gets
 *   its delivery retried, as on Kafka (`retryFailedDelivery`: shortest tier, code `HANDLER_FAILED`).
 * - Settling follows the shared consume policy (`consume/policy.ts`, `consume/settlement.ts`), `leaseMs` included;
 *   `metrics` records deliveries, settlements, retries, dead letters and the unacked deliveries.
 * - `close()` cancels the consumer, waits for retries and dead letters in flight (so their originals get acked),
 *   then closes the channel: the broker requeues whatever is unsettled, with `redelivered`. Idempotent.
 */
export function createAmqpSubscription(
  manager: AmqpConnectionManager,
  options: AmqpSubscriptionOptions,
  handler: DeliveryHandler,
): Subscription {
  return new AmqpSubscription(manager, options, handler);
}

class AmqpSubscription implements Subscription {
  readonly ready: Promise<void>;
  readonly #manager: AmqpConnectionManager;
  readonly #settings: AmqpSubscriptionSettings;
  readonly #handler: DeliveryHandler;
  readonly #logger: TransportLogger;
  readonly #context: DeliveryContext;
  readonly #recorder: ConsumeRecorder;
  readonly #inFlight = new Set<Promise<unknown>>();
  #resolveReady: () => void = () => {};
  #rejectReady: (error: Error) => void = () => {};
  #readyState: "pending" | "resolved" | "rejected" = "pending";
  #current: ConsumerChannel | undefined;
  #opening: Promise<void> | undefined;
  #reopenTimer: NodeJS.Timeout | undefined;
  #reopenAttempts = 0;
  #paused = false;
  #buffer: AmqpDelivery[] = [];
  #closed = false;
  #closing: Promise<void> | undefined;
  #unsubscribe: () => void = () => {};

  constructor(manager: AmqpConnectionManager, options: AmqpSubscriptionOptions, handler: DeliveryHandler) {
    this.#settings = subscriptionSettings(options);
    this.#manager = manager;
    this.#handler = handler;
    this.#logger = options.logger ?? silentLogger;
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Nobody may be awaiting ready when it rejects; that must not be an unhandled rejection.
    this.ready.catch(() => {});
    const retryPath = createRetryPath(manager, {
      queue: this.#settings.queue,
      deadLetter: options.deadLetter === "queue-policy" ? undefined : options.deadLetter,
      management: options.management,
      logger: this.#logger,
    });
    this.#recorder =
      options.metrics?.forSubscription({
        broker: "rabbitmq",
        source: this.#settings.queue,
        group: this.#settings.consumerName,
      }) ?? NO_CONSUME_METRICS;
    this.#context = {
      queue: this.#settings.queue,
      consumerName: this.#settings.consumerName,
      policy: this.#settings.policy,
      recorder: this.#recorder,
      retryPath,
      deadLetterByPolicy: options.deadLetter === "queue-policy",
      logger: this.#logger,
      track: (operation) => {
        this.#inFlight.add(operation);
        const done = () => this.#inFlight.delete(operation);
        operation.then(done, done);
      },
    };
    try {
      manager.connection();
    } catch (error) {
      this.#fail(error instanceof TransportError ? error : unavailable(describeError(error), error));
      return;
    }
    this.#unsubscribe = manager.onConnect(() => this.#ensureConsuming());
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    while (!this.#paused && !this.#closed) {
      const delivery = this.#buffer.shift();
      if (!delivery) break;
      this.#dispatch(delivery);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutDown();
    return this.#closing;
  }

  async #shutDown(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    clearTimeout(this.#reopenTimer);
    this.#buffer = [];
    this.#settleReady(new TransportError("CLOSED", `the subscription to queue "${this.#settings.queue}" was closed`));
    await this.#opening;
    const state = this.#current;
    if (state?.open && state.consumerTag !== undefined) {
      await state.channel.cancel(state.consumerTag).catch((error: unknown) => {
        this.#logger.debug({ err: error }, "RabbitMQ consumer cancel failed (channel closing)");
      });
    }
    // Retries and dead letters in flight get their originals acked before the channel goes.
    await Promise.allSettled([...this.#inFlight]);
    if (state?.open) {
      // amqplib drops an ack on a closing channel (IllegalOperationError): from here its deliveries count as given
      // back, so a late ack is refused as such rather than answered as done while the broker requeues the message.
      state.open = false;
      await state.channel.close().catch(() => {});
    }
    state?.ledger.abandonAll();
    this.#current = undefined;
    await this.#context.retryPath.close();
    this.#recorder.close();
    this.#logger.info({ queue: this.#settings.queue }, "RabbitMQ subscription closed");
  }

  /** Opens a channel and consumer on the manager's current connection, unless there is one or one is opening. */
  #ensureConsuming(): void {
    if (this.#closed || this.#opening) return;
    let connection: ChannelModel;
    try {
      connection = this.#manager.connection();
    } catch {
      return; // Not connected: the manager calls again on its next connection.
    }
    const current = this.#current;
    if (current?.open && current.connection === connection) return;
    this.#opening = this.#open(connection).finally(() => {
      this.#opening = undefined;
    });
  }

  async #open(connection: ChannelModel): Promise<void> {
    const { queue, prefetch, consumerName } = this.#settings;
    let state: ConsumerChannel | undefined;
    try {
      const channel: Channel = await connection.createChannel();
      const opened: ConsumerChannel = {
        channel,
        connection,
        consumerTag: undefined,
        open: true,
        ledger: new SettlementLedger(),
      };
      state = opened;
      channel.on("error", (error: Error) => {
        this.#logger.warn({ err: error, queue }, "RabbitMQ closed the consumer channel");
      });
      channel.on("close", () => this.#onChannelClosed(opened));
      await channel.prefetch(prefetch);
      const consumerTag = `${consumerName}-${randomBytes(6).toString("hex")}`;
      await channel.consume(queue, (message) => this.#onMessage(opened, message), { noAck: false, consumerTag });
      opened.consumerTag = consumerTag;
    } catch (error) {
      if (state?.open) await state.channel.close().catch(() => {});
      const failure = consumeError(queue, error);
      if (this.#readyState === "pending") {
        this.#fail(failure);
        return;
      }
      this.#logger.warn({ err: failure, queue }, "RabbitMQ consumer could not be re-opened; trying again");
      this.#scheduleReopen();
      return;
    }
    if (this.#closed) {
      await state.channel.close().catch(() => {});
      return;
    }
    this.#current = state;
    this.#reopenAttempts = 0;
    this.#logger.info({ queue, consumerTag: state.consumerTag }, "RabbitMQ consumer started");
    this.#settleReady();
  }

  #onChannelClosed(state: ConsumerChannel): void {
    state.open = false;
    // Deliveries from that channel are requeued by the broker: the handler must not get them late.
    this.#buffer = this.#buffer.filter((delivery) => delivery.channel !== state);
    state.ledger.abandonAll();
    if (this.#current !== state) return;
    this.#current = undefined;
    if (this.#closed) return;
    this.#logger.warn({ queue: this.#settings.queue }, "RabbitMQ consumer channel closed; re-opening it");
    this.#scheduleReopen();
  }

  #scheduleReopen(): void {
    if (this.#closed) return;
    clearTimeout(this.#reopenTimer);
    this.#reopenAttempts += 1;
    this.#reopenTimer = setTimeout(() => this.#ensureConsuming(), backoffDelay(this.#reopenAttempts, REOPEN_BACKOFF));
    this.#reopenTimer.unref();
  }

  #onMessage(state: ConsumerChannel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The server cancelled the consumer (queue deleted, ...): a new channel and consumer, with backoff.
      this.#logger.warn({ queue: this.#settings.queue }, "RabbitMQ cancelled the consumer");
      state.channel.close().catch(() => {});
      return;
    }
    if (this.#closed) return; // The channel is closing: the broker requeues it.
    const delivery = new AmqpDelivery(message, state, this.#context);
    if (this.#paused || this.#buffer.length > 0) this.#buffer.push(delivery);
    else this.#dispatch(delivery);
  }

  #dispatch(delivery: AmqpDelivery): void {
    const report = (error: unknown) =>
      retryFailedDelivery(delivery, error, this.#logger, {
        queue: this.#settings.queue,
        messageId: delivery.messageId,
      });
    delivery.settlement.handedOver();
    try {
      const result = this.#handler(delivery);
      if (result && typeof result.then === "function") result.then(undefined, report);
    } catch (error) {
      report(error);
    }
  }

  #fail(error: TransportError): void {
    this.#settleReady(error);
    void this.close();
  }

  #settleReady(error?: TransportError): void {
    if (this.#readyState !== "pending") return;
    this.#readyState = error ? "rejected" : "resolved";
    if (error) this.#rejectReady(error);
    else this.#resolveReady();
  }
}

function unavailable(message: string, cause: unknown): TransportError {
  return new TransportError("RABBITMQ_UNAVAILABLE", message, { cause });
}

/** The {@link TransportError} for a failure to open a consumer on `queue`. */
function consumeError(queue: string, error: unknown): TransportError {
  if (error instanceof TransportError) return error;
  const code = amqpReplyCode(error);
  if (code === 404) {
    return new TransportError(
      "DESTINATION_NOT_FOUND",
      `RabbitMQ queue "${queue}" does not exist: declare it first (${amqpReplyText(error)})`,
      { cause: error },
    );
  }
  if (code === 403) return accessRefused(error, `consuming RabbitMQ queue "${queue}"`);
  const reply = code === undefined ? describeError(error) : `${code} ${amqpReplyText(error)}`;
  return unavailable(`could not consume RabbitMQ queue "${queue}": ${reply}`, error);
}
