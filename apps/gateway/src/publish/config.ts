import type { Env, EnvReader } from "@kronos/app-kit";

/** Default `GATEWAY_PUBLISH_TIMEOUT_MS`: the longest a publish request waits for the registry and the broker. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5000;
/** Default `GATEWAY_IDEMPOTENCY_TTL_SECONDS`: how long an `Idempotency-Key` and its answer are kept (24 h). */
export const DEFAULT_IDEMPOTENCY_TTL_SECONDS = 86_400;
/** Default `GATEWAY_PUBLISH_BATCH_MAX`: most messages in one `POST /publish/batch`. */
export const DEFAULT_PUBLISH_BATCH_MAX = 500;

/** What the publish routes need beyond the shared configuration. */
export interface PublishConfig {
  /** Upper bound of one publish (schema id lookup + broker acknowledgement), in ms (`GATEWAY_PUBLISH_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** Idempotency window in seconds (`GATEWAY_IDEMPOTENCY_TTL_SECONDS`). */
  readonly idempotencyTtlSeconds: number;
  /** Most messages in one batch (`GATEWAY_PUBLISH_BATCH_MAX`). */
  readonly batchMax: number;
  /** Redis for the idempotency keys (`REDIS_URL`); `undefined`: kept in memory, per instance. */
  readonly redisUrl: string | undefined;
}

/**
 * Reads `GATEWAY_PUBLISH_TIMEOUT_MS` (100–120000, default 5000), `GATEWAY_IDEMPOTENCY_TTL_SECONDS` (1–30 days,
 * default 86400), `GATEWAY_PUBLISH_BATCH_MAX` (1–10000, default 500) and `REDIS_URL` (`redis:` or `rediss:`,
 * unset = in-memory keys). Invalid values are reported by `reader.finish()`.
 */
export function readPublishConfig(env: Env, reader: EnvReader): PublishConfig {
  const timeoutMs = reader.integer("GATEWAY_PUBLISH_TIMEOUT_MS", DEFAULT_PUBLISH_TIMEOUT_MS, 100, 120_000);
  const idempotencyTtlSeconds = reader.integer(
    "GATEWAY_IDEMPOTENCY_TTL_SECONDS",
    DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    1,
    30 * 86_400,
  );
  const batchMax = reader.integer("GATEWAY_PUBLISH_BATCH_MAX", DEFAULT_PUBLISH_BATCH_MAX, 1, 10_000);
  const redisUrl =
    env.REDIS_URL?.trim() === "" || env.REDIS_URL === undefined
      ? undefined
      : reader.url("REDIS_URL", "redis://127.0.0.1:6379", ["redis:", "rediss:"]);
  return { timeoutMs, idempotencyTtlSeconds, batchMax, redisUrl };
}
