/**
 * The consume policy both brokers' subscriptions follow: the defaults, what retry tiers mean, which tier a retry
 * takes, the error codes a subscription writes into retry copies and dead letters, and the retry-or-dead-letter
 * decision. Pure: no broker here (the settle state machine that applies it is `settlement.ts`), so one table of
 * unit tests covers Kafka and RabbitMQ alike.
 *
 * Retry tiers are a SET of delays: order and duplicates carry no meaning (a retry picks its tier by its delay,
 * never by its attempt number), so both brokers take them in any order and use them sorted ascending, without
 * duplicates. Each tier is one delay queue `<queue>.retry.<ms>` or retry topic `<topic>.retry.<ms>`.
 *
 * No tiers (`retryTiersMs: []`) means no retries: every delivery has one attempt (`maxAttempts` is 1, and any other
 * value is refused), so `retry()` dead-letters at once with reason `max-attempts`, and a Kafka subscription
 * creates and consumes no retry topics. For consumers that never retry (the request/reply responders).
 */
import { TransportError } from "../errors.js";
import type { DeadLetterReason } from "./dead-letter.js";
import type { DeadLetterError, RetryOptions } from "./delivery.js";

/** Default most attempts (deliveries) before a retry becomes a dead letter with reason `max-attempts`. */
export const DEFAULT_MAX_ATTEMPTS = 5;

/** Default retry tiers in ms: 1 s, 5 s, 30 s, 5 min. */
export const DEFAULT_RETRY_TIERS_MS: readonly number[] = [1000, 5000, 30_000, 300_000];

/**
 * The error codes a subscription itself writes (`x-kronos-last-error-code` on a retry copy, `x-kronos-dl-error-code`
 * on a dead letter). A dead letter's code is always the code of the LAST error, and its reason says why it became
 * one: a message whose retries ran out is reason `max-attempts` with the code of its last retry. Codes given to
 * `deadLetter(reason, { code })` are the caller's (`DECODE_FAILED`, `REJECTED`, ...) and written as they are.
 */
export const CONSUME_ERROR_CODES = {
  /** `retry()` was called (a consumer asked for the message later); the default when the call names no code. */
  retry: "CLIENT_RETRY",
  /** The handler threw or rejected before settling its delivery, so the subscription retried it. */
  handlerFailed: "HANDLER_FAILED",
} as const;

/** Longest tier accepted: RabbitMQ's `x-message-ttl` is an unsigned 32-bit number of ms (about 49.7 days). */
export const MAX_RETRY_TIER_MS = 2 ** 32 - 1;

/**
 * Checks retry tiers and returns them sorted ascending without duplicates (empty: no retries), or `problem` saying
 * what is wrong (the caller words the error, naming its topic or queue and the `retryTiersMs` setting).
 */
export function normalizeRetryTiers(tiers: readonly number[]): { tiers: number[]; problem: string | undefined } {
  if (!Array.isArray(tiers)) return { tiers: [], problem: "must be an array of delays" };
  for (const tier of tiers) {
    if (!Number.isSafeInteger(tier) || tier < 1 || tier > MAX_RETRY_TIER_MS) {
      return {
        tiers: [],
        problem: `each delay must be an integer from 1 to ${MAX_RETRY_TIER_MS} ms, got ${String(tier)}`,
      };
    }
  }
  return { tiers: [...new Set(tiers)].sort((a, b) => a - b), problem: undefined };
}

/**
 * The tier a retry of `delayMs` waits in: the smallest tier ≥ `delayMs`, or the largest tier when `delayMs` is
 * beyond them all. `tiers` must be sorted ascending and non-empty ({@link normalizeRetryTiers}).
 */
export function retryTier(delayMs: number, tiers: readonly number[]): number {
  const largest = tiers[tiers.length - 1];
  if (largest === undefined) throw new RangeError("retryTier needs at least one tier");
  return tiers.find((tier) => tier >= delayMs) ?? largest;
}

/** The settings of {@link ConsumePolicy}, as the subscriptions' options spell them. */
export interface ConsumePolicyOptions {
  /**
   * Attempts before a retry becomes a dead letter with reason `max-attempts` (≥ 1). Default 5, or 1 when
   * `retryTiersMs` is empty (then only 1 is accepted).
   */
  readonly maxAttempts?: number | undefined;
  /**
   * Retry tiers in ms, in any order (see the module doc); `[]`: no retries (one attempt per delivery). Default
   * [1000, 5000, 30000, 300000].
   */
  readonly retryTiersMs?: readonly number[] | undefined;
  /**
   * A delivery not settled within this many ms is given back to the broker (released: it comes again with
   * `redelivered`, without counting an attempt), and settling it afterwards rejects with `ALREADY_SETTLED`.
   * Default: no lease (a delivery is held until it is settled or the subscription closes).
   */
  readonly leaseMs?: number | undefined;
}

/** The checked policy of one subscription. */
export interface ConsumePolicy {
  /** 1 when there are no retry tiers. */
  readonly maxAttempts: number;
  /** Sorted ascending, no duplicates; empty: no retries. */
  readonly retryTiersMs: readonly number[];
  readonly leaseMs: number | undefined;
}

/**
 * Checks `options` and applies the defaults. Throws `INVALID_OPTIONS` through `invalid` (which prefixes the
 * subscription it is about), naming the setting: `maxAttempts` not an integer ≥ 1 (or not 1 without retry
 * tiers), `retryTiersMs` not integers from 1 ms to 2³²−1 ms, `leaseMs` not an integer ≥ 1.
 */
export function consumePolicy(
  options: ConsumePolicyOptions,
  invalid: (message: string) => TransportError,
): ConsumePolicy {
  const { tiers, problem } = normalizeRetryTiers(options.retryTiersMs ?? DEFAULT_RETRY_TIERS_MS);
  if (problem !== undefined) throw invalid(`retryTiersMs ${problem}`);
  const maxAttempts = options.maxAttempts ?? (tiers.length === 0 ? 1 : DEFAULT_MAX_ATTEMPTS);
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw invalid(`maxAttempts must be an integer ≥ 1, got ${String(options.maxAttempts)}`);
  }
  if (tiers.length === 0 && maxAttempts !== 1) {
    throw invalid(`retryTiersMs [] allows no retries, so maxAttempts must be 1 (or left out), got ${maxAttempts}`);
  }
  const leaseMs = options.leaseMs;
  if (leaseMs !== undefined && (!Number.isSafeInteger(leaseMs) || leaseMs < 1)) {
    throw invalid(`leaseMs must be an integer ≥ 1 ms, got ${String(leaseMs)}`);
  }
  return { maxAttempts, retryTiersMs: tiers, leaseMs };
}

/** What to do with a delivery its consumer wants retried. */
export type RetryDecision =
  | { readonly action: "retry"; readonly tierMs: number; readonly error: DeadLetterError }
  | { readonly action: "dead-letter"; readonly reason: DeadLetterReason; readonly error: DeadLetterError };

/**
 * The retry-or-dead-letter decision for delivery `attempt`: at `maxAttempts` it becomes a dead letter with reason
 * `max-attempts`, else a retry copy in the tier of `options.delayMs`. Either way the error it carries is
 * `options.code` (default `CLIENT_RETRY`) with `options.reason` (default `retry requested at attempt <n>`).
 * Throws `INVALID_OPTIONS` when `delayMs` is not a number ≥ 0.
 */
export function decideRetry(policy: ConsumePolicy, attempt: number, options: RetryOptions): RetryDecision {
  const delayMs = options?.delayMs;
  if (typeof delayMs !== "number" || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new TransportError("INVALID_OPTIONS", `retry delayMs must be a number ≥ 0, got ${String(delayMs)}`);
  }
  const error: DeadLetterError = {
    code: options.code ?? CONSUME_ERROR_CODES.retry,
    message: options.reason ?? `retry requested at attempt ${attempt}`,
  };
  if (attempt >= policy.maxAttempts) return { action: "dead-letter", reason: "max-attempts", error };
  return { action: "retry", tierMs: retryTier(delayMs, policy.retryTiersMs), error };
}
