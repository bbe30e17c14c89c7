import { Redis } from "ioredis";

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

/** Options of {@link RedisWindowCounter}. */
export interface RedisWindowCounterOptions {
  /** The Redis every gateway instance shares (`REDIS_URL`). */
  readonly redisUrl: string;
  /** Prefix of the counters' keys. Default `kronos:gateway:ratelimit:`. */
  readonly prefix?: string;
  /** Longest wait for Redis before a hit is counted locally, in ms. Default 250. */
  readonly timeoutMs?: number;
  /** Told once when Redis stops answering (`down`) and once when it answers again (`up`). */
  readonly onState?: (state: "down" | "up", error?: unknown) => void;
}

// One round trip, atomic: the first hit of a window starts its expiry (a key left without one is given one).
const HIT_SCRIPT = `local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

type HitCommand = (key: string, windowMs: number) => Promise<[number, number]>;

/**
 * Fixed-window counters in Redis, shared by every gateway instance: each key may make `max` hits per `windowMs`, the
 * window starting at the key's first hit on any instance. One Lua script a hit (`INCR`, `PTTL`, `PEXPIRE` on the
 * first), so one round trip and atomic; ioredis pipelines the hits of concurrent requests into one write.
 *
 * Redis unreachable or slower than `timeoutMs`: the hit is counted by a {@link FixedWindowCounter} of this process
 * (fail open to the per-instance limit): the limit protects the brokers from one principal's flood, and refusing
 * every request of every principal because Redis is down would turn a Redis outage into a gateway outage.
 */
export class RedisWindowCounter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #prefix: string;
  readonly #redis: Redis;
  readonly #hit: HitCommand;
  readonly #local: FixedWindowCounter;
  readonly #onState: RedisWindowCounterOptions["onState"];
  #down = false;

  constructor(max: number, windowMs: number, options: RedisWindowCounterOptions) {
    this.#max = max;
    this.#windowMs = windowMs;
    this.#prefix = options.prefix ?? "kronos:gateway:ratelimit:";
    this.#onState = options.onState;
    this.#local = new FixedWindowCounter(max, windowMs);
    this.#redis = new Redis(options.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.timeoutMs ?? 250,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
    });
    this.#redis.on("error", (error: unknown) => this.#state("down", error));
    this.#redis.on("ready", () => this.#state("up"));
    this.#redis.defineCommand("kronosRateHit", { numberOfKeys: 1, lua: HIT_SCRIPT });
    const redis = this.#redis as unknown as { kronosRateHit: HitCommand };
    this.#hit = (key, ms) => redis.kronosRateHit(key, ms);
  }

  /** Counts one hit of `key` (in Redis; locally while Redis is unreachable). Never rejects. */
  async hit(key: string): Promise<WindowHit> {
    let count: number;
    let ttl: number;
    try {
      [count, ttl] = await this.#hit(this.#prefix + key, this.#windowMs);
    } catch (error) {
      this.#state("down", error);
      return this.#local.hit(key);
    }
    this.#state("up");
    return {
      max: this.#max,
      remaining: Math.max(0, this.#max - count),
      exceeded: count > this.#max,
      resetInSeconds: Math.max(1, Math.ceil(ttl / 1000)),
    };
  }

  /** Disconnects from Redis. */
  close(): void {
    this.#redis.disconnect();
  }

  #state(state: "down" | "up", error?: unknown): void {
    if ((state === "down") === this.#down) return;
    this.#down = state === "down";
    this.#onState?.(state, error);
  }
}
