import { createHash, randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** The answer a request got, kept to be replayed: status code and JSON body. */
export interface StoredResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

/** What {@link IdempotencyStore.begin} found under a key. */
export type BeginResult =
  /** Nobody used the key: the caller now holds it (`token` releases or completes it). */
  | { readonly state: "acquired"; readonly token: string }
  /** A request with this key is being processed right now. */
  | { readonly state: "in-flight"; readonly fingerprint: string }
  /** A request with this key was answered: its fingerprint and answer. */
  | { readonly state: "done"; readonly fingerprint: string; readonly response: StoredResponse };

/**
 * Where `Idempotency-Key`s live for the idempotency window. `begin` is atomic: of concurrent requests with one
 * key exactly one gets `acquired`. Implementations: {@link MemoryIdempotencyStore}, {@link RedisIdempotencyStore}.
 */
export interface IdempotencyStore {
  /** Takes `key` for a request with `fingerprint`, or says who has it; an in-flight claim lasts `inFlightSeconds`. */
  begin(key: string, fingerprint: string, inFlightSeconds: number): Promise<BeginResult>;
  /** Stores the answer under `key` for `ttlSeconds` (only if `token` still holds the key). */
  complete(
    key: string,
    token: string,
    fingerprint: string,
    response: StoredResponse,
    ttlSeconds: number,
  ): Promise<void>;
  /** Gives the key up (the request failed in a way a retry should redo), only if `token` still holds it. */
  release(key: string, token: string): Promise<void>;
  /** Closes connections. */
  close(): Promise<void>;
}

type Entry =
  | { state: "in-flight"; token: string; fingerprint: string }
  | { state: "done"; token: string; fingerprint: string; response: StoredResponse };

/**
 * The fingerprint of a request: SHA-256 of the route and the body as canonical JSON (object keys sorted), so the
 * same request with its keys in another order is the same request.
 */
export function fingerprintOf(route: string, body: unknown): string {
  return createHash("sha256").update(route).update("\n").update(canonicalJson(body)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** Keys kept in this process only (one gateway instance); expired entries are swept on access. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries = new Map<string, { entry: Entry; expiresAt: number }>();

  #get(key: string): Entry | undefined {
    const found = this.#entries.get(key);
    if (found === undefined) return undefined;
    if (found.expiresAt <= Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return found.entry;
  }

  async begin(key: string, fingerprint: string, inFlightSeconds: number): Promise<BeginResult> {
    const entry = this.#get(key);
    if (entry?.state === "done") return { state: "done", fingerprint: entry.fingerprint, response: entry.response };
    if (entry?.state === "in-flight") return { state: "in-flight", fingerprint: entry.fingerprint };
    const token = randomUUID();
    this.#entries.set(key, {
      entry: { state: "in-flight", token, fingerprint },
      expiresAt: Date.now() + inFlightSeconds * 1000,
    });
    if (this.#entries.size % 1000 === 0) this.#sweep();
    return { state: "acquired", token };
  }

  async complete(
    key: string,
    token: string,
    fingerprint: string,
    response: StoredResponse,
    ttlSeconds: number,
  ): Promise<void> {
    if (this.#get(key)?.token !== token) return;
    this.#entries.set(key, {
      entry: { state: "done", token, fingerprint, response },
      expiresAt: Date.now() + ttlSeconds * 1000,
    });
  }

  async release(key: string, token: string): Promise<void> {
    if (this.#get(key)?.token === token) this.#entries.delete(key);
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, { expiresAt }] of this.#entries) if (expiresAt <= now) this.#entries.delete(key);
  }
}

// Replace or delete the entry only while it still carries our token (a claim that expired may be someone else's).
const COMPLETE = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return false`;
const RELEASE = `local v = redis.call('GET', KEYS[1])
if v and cjson.decode(v).token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Keys in Redis (`REDIS_URL`), shared by every gateway instance: `SET NX EX` claims a key atomically, a Lua script
 * completes or releases it only for the claim's holder. Keys are `kronos:gateway:idempotency:<key>`. Commands
 * fail (rather than queue) while Redis is unreachable; callers answer 503.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: Redis;
  readonly #prefix = "kronos:gateway:idempotency:";

  constructor(url: string) {
    this.#redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(100 * 2 ** times, 2000),
    });
    // Connection errors surface as failed commands; without a listener ioredis would log every retry.
    this.#redis.on("error", () => {});
  }

  async begin(key: string, fingerprint: string, inFlightSeconds: number): Promise<BeginResult> {
    const token = randomUUID();
    const claim: Entry = { state: "in-flight", token, fingerprint };
    const set = await this.#redis.set(this.#prefix + key, JSON.stringify(claim), "EX", inFlightSeconds, "NX");
    if (set === "OK") return { state: "acquired", token };
    const raw = await this.#redis.get(this.#prefix + key);
    // Expired between SET and GET: try once more.
    if (raw === null) return this.begin(key, fingerprint, inFlightSeconds);
    const entry = JSON.parse(raw) as Entry;
    return entry.state === "done"
      ? { state: "done", fingerprint: entry.fingerprint, response: entry.response }
      : { state: "in-flight", fingerprint: entry.fingerprint };
  }

  async complete(
    key: string,
    token: string,
    fingerprint: string,
    response: StoredResponse,
    ttlSeconds: number,
  ): Promise<void> {
    const entry: Entry = { state: "done", token, fingerprint, response };
    await this.#redis.eval(COMPLETE, 1, this.#prefix + key, token, JSON.stringify(entry), String(ttlSeconds));
  }

  async release(key: string, token: string): Promise<void> {
    await this.#redis.eval(RELEASE, 1, this.#prefix + key, token);
  }

  async close(): Promise<void> {
    this.#redis.disconnect();
  }
}
