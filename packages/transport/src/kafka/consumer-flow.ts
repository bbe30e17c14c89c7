// Flow control of a Kafka subscription: how many deliveries it holds, when its partitions are paused, and the
// retry partitions held until their next copy is due.
import type { Consumer } from "kafkajs";
import type { TransportLogger } from "../logger.js";

// A hand-over waits at most SLOT_WAIT_MS for a free slot, heartbeating every HEARTBEAT_INTERVAL_MS meanwhile, so
// heartbeats (during such waits, after every batch, and every fetch loop) stay regular.
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** Longest a batch waits for a free delivery slot before it gives up and the partitions are paused. */
const SLOT_WAIT_MS = 1000;

/** What {@link FlowControl} needs from its subscription. */
export interface FlowHost {
  /** The subscription's topic and its retry topics. */
  readonly topics: readonly string[];
  readonly maxInFlight: number;
  readonly logger: TransportLogger;
  consumer(): Consumer | undefined;
  closing(): boolean;
}

export const partitionKey = (topic: string, partition: number) => `${partition}\u0000${topic}`;

/**
 * The pause state of one subscription. Hand-overs never block inside kafkajs' batch callback (a slow handler would
 * get the member kicked): at `maxInFlight` unsettled deliveries, after `pause()`, while positioning or closing,
 * every partition is paused; a retry partition whose next copy is not due is paused until it is.
 */
export class FlowControl {
  /** Deliveries handed out and not settled (released ones included: they keep their place). */
  inFlight = 0;
  userPaused = false;
  /** True from a group join until its new partitions are positioned: nothing is fetched meanwhile. */
  positioning = false;
  readonly #host: FlowHost;
  /** At `maxInFlight` until the unsettled deliveries fall to half of it (see {@link isSaturated}). */
  #saturated = false;
  /** Batches waiting for a free slot (see {@link slotFreed}). */
  readonly #slotWaiters = new Set<() => void>();
  /** Retry-topic partitions waiting for a copy that is not due yet. */
  readonly #notDue = new Map<string, { topic: string; partition: number; timer: NodeJS.Timeout }>();

  constructor(host: FlowHost) {
    this.#host = host;
  }

  /** Whether a record may be handed over now (not paused by the caller, not saturated). */
  get open(): boolean {
    return !this.userPaused && !this.isSaturated();
  }

  /** Whether `maxInFlight` deliveries are unsettled. */
  get full(): boolean {
    return this.inFlight >= this.#host.maxInFlight;
  }

  /**
   * True from the moment `maxInFlight` deliveries are unsettled until only half of them (rounded down) are.
   * Resuming at every freed slot would cost a whole fetch per record: a fetched batch is cut where the limit is
   * reached and the rest fetched again later, so each resume must leave room for many records.
   */
  isSaturated(): boolean {
    const { maxInFlight } = this.#host;
    if (this.inFlight >= maxInFlight) this.#saturated = true;
    else if (this.inFlight <= Math.floor(maxInFlight / 2)) this.#saturated = false;
    return this.#saturated;
  }

  /**
   * Pauses or resumes the partitions as the state says: everything while closing, positioning, paused by the
   * caller or at `maxInFlight`; otherwise only retry partitions waiting for a copy to be due. Idempotent, so it
   * is simply called after every change (and after a crash restart, which forgets kafkajs' pauses).
   */
  apply(): void {
    const consumer = this.#host.consumer();
    if (!consumer) return;
    const topics = this.#host.topics.map((topic) => ({ topic }));
    const everything = this.#host.closing() || this.positioning || this.userPaused || this.isSaturated();
    try {
      if (everything) {
        consumer.pause(topics);
        return;
      }
      consumer.resume(topics);
      const waiting = new Map<string, number[]>();
      for (const { topic, partition } of this.#notDue.values())
        waiting.set(topic, [...(waiting.get(topic) ?? []), partition]);
      if (waiting.size > 0) consumer.pause([...waiting].map(([topic, partitions]) => ({ topic, partitions })));
    } catch (error) {
      // kafkajs refuses pause/resume while the consumer is not running (before a run, between a crash and its
      // restart); the next join applies the state again.
      this.#host.logger.debug(
        { err: error, topic: this.#host.topics[0] },
        "Kafka pause/resume skipped: the consumer is not running",
      );
    }
  }

  /**
   * Resolves true as soon as deliveries may go on (the caller has not paused, and the unsettled deliveries fell to
   * half of `maxInFlight`, as for resuming a fetch: see {@link isSaturated}), false after {@link SLOT_WAIT_MS} or
   * when the batch goes stale (rebalance, stop). Heartbeats while it waits, so the member is never taken for dead;
   * bounded, so a rebalance is never held up for long. The same threshold as fetching, so whether a record comes
   * from the batch in hand or from a new fetch, the handler sees the same pattern.
   */
  async slotFreed(isRunning: () => boolean, isStale: () => boolean, heartbeat: () => Promise<void>): Promise<boolean> {
    const deadline = Date.now() + SLOT_WAIT_MS;
    while (!this.open) {
      const left = deadline - Date.now();
      if (left <= 0 || this.#host.closing() || this.positioning || !isRunning() || isStale()) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, HEARTBEAT_INTERVAL_MS));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#slotWaiters.add(done);
      });
      try {
        await heartbeat();
      } catch {
        return false; // a rebalance is under way: give the batch up, its records are fetched again
      }
    }
    return true;
  }

  /** Something changed (a slot freed, resume, close): batches waiting for a slot look again. */
  wake(): void {
    for (const wake of this.#slotWaiters) wake();
    this.#slotWaiters.clear();
  }

  /** Whether a retry partition is held until its next copy is due. */
  isWaiting(topic: string, partition: number): boolean {
    return this.#notDue.has(partitionKey(topic, partition));
  }

  /** Holds a retry partition until its next copy is due. */
  waitUntilDue(topic: string, partition: number, dueAtMs: number): void {
    const key = partitionKey(topic, partition);
    if (this.#notDue.has(key)) return;
    const timer = setTimeout(
      () => {
        this.#notDue.delete(key);
        this.apply();
      },
      Math.max(0, dueAtMs - Date.now()) + 1,
    );
    timer.unref();
    this.#notDue.set(key, { topic, partition, timer });
    this.apply();
  }

  stopWaiting(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const waiting = this.#notDue.get(key);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.#notDue.delete(key);
  }

  stopAllWaiting(): void {
    for (const { topic, partition } of [...this.#notDue.values()]) this.stopWaiting(topic, partition);
  }
}
