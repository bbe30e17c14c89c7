/** The outcome of one {@link FixedWindowCounter.hit}. */
export interface WindowHit {
  /** Requests allowed per window. */
  readonly max: number;
  /** Requests still allowed in the current window (0 once exceeded). */
  readonly remaining: number;
  /** True when this hit is past `max`: the request must be refused. */
  readonly exceeded: boolean;
  /** Whole seconds until the window of this key resets (at least 1). */
  readonly resetInSeconds: number;
}

interface Window {
  count: number;
  resetAt: number;
}

/**
 * In-memory fixed-window request counters: each key may make `max` hits per `windowMs`, the window starting at the
 * key's first hit (the same rule as `@fastify/rate-limit`'s local store). One `Map` lookup and a few additions a
 * hit, synchronous. Windows that ended are swept at most once per `windowMs`, so memory follows the keys active in
 * the last window or two. Counters live in this process only.
 */
export class FixedWindowCounter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();
  #sweepAt: number;

  /**
   * @param max hits allowed per window per key (a positive integer).
   * @param windowMs length of a window, in ms.
   * @param now clock in ms (tests pass a fake one). Default `Date.now`.
   */
  constructor(max: number, windowMs: number, now: () => number = Date.now) {
    this.#max = max;
    this.#windowMs = windowMs;
    this.#now = now;
    this.#sweepAt = now() + windowMs;
  }

  /** Counts one hit of `key` and says whether it is within the limit. */
  hit(key: string): WindowHit {
    const now = this.#now();
    if (now >= this.#sweepAt) this.#sweep(now);
    let window = this.#windows.get(key);
    if (window === undefined || now >= window.resetAt) {
      window = { count: 0, resetAt: now + this.#windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return {
      max: this.#max,
      remaining: Math.max(0, this.#max - window.count),
      exceeded: window.count > this.#max,
      resetInSeconds: Math.max(1, Math.ceil((window.resetAt - now) / 1000)),
    };
  }

  /** How many keys have a counter (ended windows not swept yet included). */
  get size(): number {
    return this.#windows.size;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (now >= window.resetAt) this.#windows.delete(key);
    this.#sweepAt = now + this.#windowMs;
  }
}
