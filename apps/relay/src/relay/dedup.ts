import type { Redis } from "ioredis";

/** What {@link Dedup.claim} found: this instance may relay it, it was relayed already, or another copy is in flight. */
export type Claim = "claimed" | "done" | "busy";

// Drop a claim only when it is still ours (a failed relay gives the message back for another try).
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * The de-duplication window shared by every relay instance, in Redis. A message id is claimed (`pending:<owner>`,
 * expiring after `claimMs`) before it is sent, marked `done` for the route's window once the destination confirmed
 * it, and released when sending failed. So a copy redelivered after a crash between the destination's confirm and
 * the source's commit is recognised and not sent again; the only duplicate left is a crash between the confirm and
 * the `done` mark (one Redis write).
 */
export class Dedup {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #claimMs: number;

  constructor(redis: Redis, options: { prefix?: string; claimMs?: number } = {}) {
    this.#redis = redis;
    this.#prefix = options.prefix ?? "kronos:relay:dedup:";
    this.#claimMs = options.claimMs ?? 30_000;
  }

  #key(route: string, id: string): string {
    return `${this.#prefix}${route}:${id}`;
  }

  /** Claims `id` on `route` for `owner`. Rejects when Redis fails (the caller gives the message back). */
  async claim(route: string, id: string, owner: string): Promise<Claim> {
    // SET NX with GET (Redis ≥ 7.0): sets the claim when the key is free and answers what it held before, in one
    // atomic command (no script for Redis to run per message).
    const found = await this.#redis.call(
      "SET",
      this.#key(route, id),
      `pending:${owner}`,
      "PX",
      String(this.#claimMs),
      "NX",
      "GET",
    );
    if (found === null || found === `pending:${owner}`) return "claimed";
    return found === "done" ? "done" : "busy";
  }

  /** Marks `id` relayed on `route` for `windowMs`. */
  async done(route: string, id: string, windowMs: number): Promise<void> {
    await this.#redis.set(this.#key(route, id), "done", "PX", windowMs);
  }

  /** Gives up `owner`'s claim on `id` (never rejects: an unreleased claim expires by itself). */
  async release(route: string, id: string, owner: string): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#key(route, id), `pending:${owner}`).catch(() => {});
  }
}
