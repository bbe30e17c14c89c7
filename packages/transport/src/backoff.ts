/** Exponential backoff with jitter, as {@link backoffDelay} computes it. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. Default: 500. */
  readonly initialDelayMs?: number;
  /** Upper bound of any delay, jitter included, in ms. Default: 10000. */
  readonly maxDelayMs?: number;
  /** Growth factor between attempts. Default: 2. */
  readonly factor?: number;
  /** Random spread, as a fraction of the delay (0.2 = ±20%). Default: 0.2. */
  readonly jitter?: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): `initialDelayMs * factor^(attempt-1)`, spread
 * by ±`jitter` so many clients do not reconnect in lockstep, and never above `maxDelayMs`. `random` is injectable
 * for tests (default `Math.random`).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = {},
  random: () => number = Math.random,
): number {
  const initial = options.initialDelayMs ?? 500;
  const max = options.maxDelayMs ?? 10_000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.2;
  const base = initial * factor ** Math.max(0, attempt - 1);
  const spread = base * (1 + jitter * (random() * 2 - 1));
  return Math.round(Math.min(max, Math.max(0, spread)));
}
