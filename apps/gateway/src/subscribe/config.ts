import type { Env, EnvReader } from "@kronos/app-kit";

/** Defaults of the subscribe settings (see {@link readSubscribeConfig}). */
export const SUBSCRIBE_DEFAULTS = {
  leaseMs: 30_000,
  maxLeaseMs: 600_000,
  prefetch: 50,
  maxPrefetch: 1000,
  heartbeatMs: 15_000,
  maxAttempts: 5,
  retryTiersMs: [1000, 5000, 30_000, 300_000] as readonly number[],
  maxSubscriptions: 1000,
  maxSettleItems: 5000,
} as const;

/** The fewest items a bulk settle may be allowed (`GATEWAY_SUBSCRIBE_MAX_SETTLE_ITEMS` below it is refused). */
export const MIN_SETTLE_ITEMS = 1000;

/** What the subscribe, ack and retry routes need beyond the shared configuration. */
export interface SubscribeConfig {
  /** Default lease of a delivery, in ms (`GATEWAY_SUBSCRIBE_LEASE_MS`); a subscription may ask for another. */
  readonly leaseMs: number;
  /** Longest lease a subscription may ask for (`GATEWAY_SUBSCRIBE_MAX_LEASE_MS`). */
  readonly maxLeaseMs: number;
  /** Default unacknowledged deliveries per subscription (`GATEWAY_SUBSCRIBE_PREFETCH`). */
  readonly prefetch: number;
  /** Cap of the `prefetch` query parameter (`GATEWAY_SUBSCRIBE_MAX_PREFETCH`). */
  readonly maxPrefetch: number;
  /** Interval of the comment heartbeats on idle streams (`GATEWAY_SUBSCRIBE_HEARTBEAT_MS`). */
  readonly heartbeatMs: number;
  /**
   * Retries a message gets before a failure dead-letters it, unless its destination has its own
   * (`GATEWAY_MAX_ATTEMPTS`): with 5, a message is delivered up to 6 times and its sixth failure dead-letters it.
   */
  readonly maxAttempts: number;
  /** Per-destination retries (`GATEWAY_MAX_ATTEMPTS_BY_DESTINATION="queue-or-topic=n,…"`). */
  readonly maxAttemptsByDestination: ReadonlyMap<string, number>;
  /** Delays a retry is rounded up to, in ms (`GATEWAY_RETRY_TIERS_MS="1000,5000,…"`): one delay queue or topic each. */
  readonly retryTiersMs: readonly number[];
  /** Most concurrent subscriptions on this instance (`GATEWAY_SUBSCRIBE_MAX_STREAMS`); beyond it 503. */
  readonly maxSubscriptions: number;
  /** Most items of one `POST /settle` (`GATEWAY_SUBSCRIBE_MAX_SETTLE_ITEMS`, at least 1000); beyond it 400. */
  readonly maxSettleItems: number;
}

/**
 * Reads the subscribe settings. Integers are range-checked by `reader`; the two list variables are parsed here and
 * their problems pushed to `problems` (naming the variable and the bad entry).
 */
export function readSubscribeConfig(env: Env, reader: EnvReader, problems: string[]): SubscribeConfig {
  const d = SUBSCRIBE_DEFAULTS;
  const maxLeaseMs = reader.integer("GATEWAY_SUBSCRIBE_MAX_LEASE_MS", d.maxLeaseMs, 1000, 86_400_000);
  const leaseMs = reader.integer("GATEWAY_SUBSCRIBE_LEASE_MS", d.leaseMs, 100, 86_400_000);
  const maxPrefetch = reader.integer("GATEWAY_SUBSCRIBE_MAX_PREFETCH", d.maxPrefetch, 1, 65_535);
  const prefetch = reader.integer("GATEWAY_SUBSCRIBE_PREFETCH", d.prefetch, 1, 65_535);
  const heartbeatMs = reader.integer("GATEWAY_SUBSCRIBE_HEARTBEAT_MS", d.heartbeatMs, 100, 3_600_000);
  const maxAttempts = reader.integer("GATEWAY_MAX_ATTEMPTS", d.maxAttempts, 0, 1000);
  const maxSubscriptions = reader.integer("GATEWAY_SUBSCRIBE_MAX_STREAMS", d.maxSubscriptions, 1, 1_000_000);
  const maxSettleItems = reader.integer(
    "GATEWAY_SUBSCRIBE_MAX_SETTLE_ITEMS",
    d.maxSettleItems,
    MIN_SETTLE_ITEMS,
    1_000_000,
  );
  if (leaseMs > maxLeaseMs) {
    problems.push(`GATEWAY_SUBSCRIBE_LEASE_MS=${leaseMs} is above GATEWAY_SUBSCRIBE_MAX_LEASE_MS=${maxLeaseMs}`);
  }
  if (prefetch > maxPrefetch) {
    problems.push(`GATEWAY_SUBSCRIBE_PREFETCH=${prefetch} is above GATEWAY_SUBSCRIBE_MAX_PREFETCH=${maxPrefetch}`);
  }
  return {
    leaseMs,
    maxLeaseMs,
    prefetch,
    maxPrefetch,
    heartbeatMs,
    maxAttempts,
    maxAttemptsByDestination: readAttemptsByDestination(env, problems),
    retryTiersMs: readTiers(env, problems),
    maxSubscriptions,
    maxSettleItems,
  };
}

function readTiers(env: Env, problems: string[]): readonly number[] {
  const name = "GATEWAY_RETRY_TIERS_MS";
  const raw = env[name]?.trim();
  if (!raw) return SUBSCRIBE_DEFAULTS.retryTiersMs;
  const tiers = raw.split(",").map((entry) => Number(entry.trim()));
  if (tiers.some((tier) => !Number.isInteger(tier) || tier < 1 || tier > 86_400_000)) {
    problems.push(`${name}="${raw}" must be comma-separated delays in ms, each an integer from 1 to 86400000`);
    return SUBSCRIBE_DEFAULTS.retryTiersMs;
  }
  return [...new Set(tiers)].sort((a, b) => a - b);
}

function readAttemptsByDestination(env: Env, problems: string[]): ReadonlyMap<string, number> {
  const name = "GATEWAY_MAX_ATTEMPTS_BY_DESTINATION";
  const raw = env[name]?.trim();
  const result = new Map<string, number>();
  if (!raw) return result;
  for (const entry of raw.split(",")) {
    const [destination, count] = entry.split("=").map((part) => part.trim());
    const attempts = Number(count);
    if (!destination || !count || !Number.isInteger(attempts) || attempts < 0 || attempts > 1000) {
      problems.push(`${name} entry "${entry.trim()}" must be <queue-or-topic>=<retries from 0 to 1000>`);
      continue;
    }
    result.set(destination, attempts);
  }
  return result;
}
