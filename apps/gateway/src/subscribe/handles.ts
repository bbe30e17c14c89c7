import { HttpError } from "@kronos/app-kit";
import type { Delivery } from "@kronos/transport";

/** How a handle ended: what `POST /ack` and `POST /retry` answer for a handle that is no longer open. */
export type HandleEnd = "acked" | "retried" | "dead-lettered" | "expired" | "released";

/** A delivery the client holds: its handle, the subscription it came on, and its lease timer. */
export interface HeldDelivery {
  readonly handle: string;
  readonly subscriptionId: string;
  readonly delivery: Delivery;
  /** The subscription's principal's identity (`Principal.identity`): only that principal may settle it. */
  readonly identity: string;
  /** Its lease, in ms (restarted when a failed settle puts it back). */
  readonly leaseMs: number;
  /**
   * The order its subscription received it in (counts up per subscription, before decoding): on RabbitMQ the
   * delivery-tag order of its channel, what a cumulative ack goes by.
   */
  readonly order: number;
  /** Set once a settle (ack, retry) started, so a second request cannot race the first. */
  settling: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Options of {@link HandleRegistry}. */
export interface HandleRegistryOptions {
  /** How long the end of a handle is remembered, to answer 409 (settled) rather than 404 (unknown). Default 10 min. */
  readonly rememberMs?: number;
  /** Most ended handles remembered (oldest forgotten first). Default 100,000. */
  readonly rememberMax?: number;
  /** Called when a lease expires, after the delivery was given back (for metrics and logs). */
  readonly onExpired?: (held: HeldDelivery) => void;
  /** Called when giving back a delivery failed (it will come back anyway once its channel or group closes). */
  readonly onReleaseError?: (held: HeldDelivery, error: unknown) => void;
}

/**
 * The deliveries clients hold, by handle, with their leases. A lease that expires gives the delivery back to its
 * broker (RabbitMQ requeues it, Kafka hands it to the subscription again), so a client that vanishes or forgets
 * cannot hold a message for ever. Ended handles are remembered for a while, so a late or repeated ack is a clear
 * 409 (already acked) or 404 (expired) instead of a bare "unknown".
 *
 * Handles live in this gateway instance's memory: with several instances, a client acks on the instance it
 * subscribed on (sticky sessions), which it does anyway since its stream is there.
 */
export class HandleRegistry {
  readonly #open = new Map<string, HeldDelivery>();
  readonly #ended = new Map<string, { end: HandleEnd; at: number }>();
  readonly #rememberMs: number;
  readonly #rememberMax: number;
  readonly #options: HandleRegistryOptions;

  constructor(options: HandleRegistryOptions = {}) {
    this.#options = options;
    this.#rememberMs = options.rememberMs ?? 10 * 60_000;
    this.#rememberMax = options.rememberMax ?? 100_000;
  }

  /** Deliveries held right now. */
  get size(): number {
    return this.#open.size;
  }

  /** Holds `delivery` under `handle` for `leaseMs`; `order` is its place in its subscription (see {@link HeldDelivery}). */
  hold(handle: string, subscriptionId: string, identity: string, delivery: Delivery, leaseMs: number, order = 0): void {
    const held: HeldDelivery = {
      handle,
      subscriptionId,
      identity,
      leaseMs,
      delivery,
      order,
      settling: false,
      timer: undefined,
    };
    held.timer = setTimeout(() => this.#expire(held), leaseMs);
    held.timer.unref();
    this.#open.set(handle, held);
  }

  /**
   * The open delivery of `handle` if `identity` may settle it, without taking it; throws like {@link take}. The
   * settle routes call it before reading the request body, so a client cannot hold a connection open with a slow
   * body for a handle that is not (or no longer) its own.
   */
  check(handle: string, identity: string): HeldDelivery {
    const held = this.#open.get(handle);
    if (held === undefined) throw this.#notOpen(handle);
    if (held.identity !== identity) {
      throw new HttpError(403, "NOT_YOUR_DELIVERY", `delivery "${handle}" belongs to another principal's subscription`);
    }
    return held;
  }

  /**
   * Takes the delivery of `handle` for settling by `identity`: it leaves the registry at once (so a concurrent
   * ack gets 409) and its lease stops. Throws an {@link HttpError}: 404 `UNKNOWN_HANDLE` (never seen or forgotten),
   * 404 `HANDLE_EXPIRED` (lease expired or its subscription ended: the message went back to the broker), 409
   * `ALREADY_ACKED` / `ALREADY_SETTLED` (acked, retried or dead-lettered before), 403 `NOT_YOUR_DELIVERY`.
   */
  take(handle: string, identity: string): HeldDelivery {
    const held = this.check(handle, identity);
    this.#open.delete(handle);
    clearTimeout(held.timer);
    held.settling = true;
    return held;
  }

  /** Puts back a delivery whose settle failed before the broker had it (the client may try again). */
  restore(held: HeldDelivery): void {
    this.hold(held.handle, held.subscriptionId, held.identity, held.delivery, held.leaseMs, held.order);
  }

  /**
   * Records that a taken delivery went back to its broker while it was being settled (its subscription ended in
   * the meantime) and returns the 404 `HANDLE_EXPIRED` its handle answers from now on.
   */
  returned(held: HeldDelivery): HttpError {
    this.ended(held.handle, "released");
    return this.#notOpen(held.handle);
  }

  /**
   * The open deliveries of subscription `subscriptionId` that `identity` may settle and `select` keeps, in the
   * order the subscription received them (what a cumulative ack settles).
   */
  openOf(subscriptionId: string, identity: string, select: (held: HeldDelivery) => boolean): HeldDelivery[] {
    const found: HeldDelivery[] = [];
    for (const held of this.#open.values()) {
      if (held.subscriptionId === subscriptionId && held.identity === identity && select(held)) found.push(held);
    }
    return found.sort((a, b) => a.order - b.order);
  }

  /** Records how `handle` ended. */
  ended(handle: string, end: HandleEnd): void {
    this.#ended.delete(handle);
    this.#ended.set(handle, { end, at: Date.now() });
    this.#forgetOld();
  }

  /**
   * Forgets the deliveries of a subscription that ended (its client went away): the broker gets them back through
   * the subscription's close, so their handles answer 404 `HANDLE_EXPIRED` from now on.
   */
  dropSubscription(subscriptionId: string): number {
    let dropped = 0;
    for (const [handle, held] of this.#open) {
      if (held.subscriptionId !== subscriptionId) continue;
      clearTimeout(held.timer);
      this.#open.delete(handle);
      this.ended(handle, "released");
      dropped++;
    }
    return dropped;
  }

  #expire(held: HeldDelivery): void {
    if (this.#open.get(held.handle) !== held) return;
    this.#open.delete(held.handle);
    this.ended(held.handle, "expired");
    held.delivery.release().then(
      () => this.#options.onExpired?.(held),
      (error: unknown) => this.#options.onReleaseError?.(held, error),
    );
  }

  #notOpen(handle: string): HttpError {
    const ended = this.#ended.get(handle);
    if (ended === undefined) {
      return new HttpError(404, "UNKNOWN_HANDLE", `no delivery "${handle}" is held on this gateway`);
    }
    switch (ended.end) {
      case "acked":
        return new HttpError(409, "ALREADY_ACKED", `delivery "${handle}" was acked already`);
      case "retried":
      case "dead-lettered":
        return new HttpError(409, "ALREADY_SETTLED", `delivery "${handle}" was ${ended.end} already`);
      default:
        return new HttpError(
          404,
          "HANDLE_EXPIRED",
          `delivery "${handle}" is no longer held (${ended.end === "expired" ? "its lease expired" : "its subscription ended"}): the message went back to the broker and will be delivered again`,
        );
    }
  }

  #forgetOld(): void {
    const horizon = Date.now() - this.#rememberMs;
    for (const [handle, entry] of this.#ended) {
      if (this.#ended.size <= this.#rememberMax && entry.at >= horizon) break;
      this.#ended.delete(handle);
    }
  }
}
