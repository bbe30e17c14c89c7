import { performance } from "node:perf_hooks";

type Op = (i: number) => unknown;

/** Options of {@link ratio}. */
export interface RatioOptions {
  /** Calls of each function per round. */
  iterations: number;
  /** Rounds; the median round is reported. */
  rounds: number;
  /** Await the candidate's result (for async code); the baseline is always called synchronously. */
  awaitCandidate?: boolean;
}

async function time(fn: Op, iterations: number, awaitResult: boolean): Promise<number> {
  const start = performance.now();
  if (awaitResult) for (let i = 0; i < iterations; i++) await fn(i);
  else for (let i = 0; i < iterations; i++) fn(i);
  return performance.now() - start;
}

/**
 * Runs `candidate` and `baseline` alternately (A B A B ...) so that machine noise hits both alike, and returns the
 * median of the per-round throughput ratios: candidate ops/s ÷ baseline ops/s (> 1: the candidate is faster).
 * One warm-up round of each comes first.
 */
export async function ratio(candidate: Op, baseline: Op, options: RatioOptions): Promise<number> {
  const awaitCandidate = options.awaitCandidate ?? false;
  await time(candidate, options.iterations, awaitCandidate);
  await time(baseline, options.iterations, false);
  const ratios: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const c = await time(candidate, options.iterations, awaitCandidate);
    const b = await time(baseline, options.iterations, false);
    ratios.push(b / c);
  }
  ratios.sort((x, y) => x - y);
  return ratios[Math.floor(ratios.length / 2)] ?? Number.NaN;
}

/** One contender of {@link alternate}: does as much work as it can before `until` (a `performance.now()` time). */
export interface Contender {
  readonly name: string;
  /** Runs until `until` or `max` messages, whichever comes first; resolves with the messages done. */
  run(until: number, max: number): Promise<number>;
}

/**
 * The body of a typical {@link Contender.run}: `lanes` loops at once, each calling `once` again and again until
 * `until` (a `performance.now()` time) or until `max` calls were started across the lanes. Resolves with how many
 * calls resolved true (done); a call that resolves false counts as not done.
 */
export async function runLanes(
  lanes: number,
  until: number,
  max: number,
  once: () => Promise<boolean>,
): Promise<number> {
  let done = 0;
  let issued = 0;
  const lane = async () => {
    while (issued < max && performance.now() < until) {
      issued++;
      if (await once()) done++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return done;
}

/** Options of {@link alternate}. */
export interface AlternateOptions {
  /** Measured rounds (one warm-up round comes first). */
  rounds: number;
  /** Length of each contender's turn, in ms. */
  turnMs: number;
  /** Most messages in one turn (the run is bounded by count and by time). */
  maxPerTurn: number;
  /** Length of the warm-up turns, in ms. Default: `turnMs / 2`. */
  warmupMs?: number;
  /** Called after each measured round (progress). */
  onRound?: (round: number) => void;
}

/**
 * Gives every contender a turn of `turnMs` in each round, in the same order (A B C ... A B C ...), so that noise
 * drifting over the run hits all of them alike, after one warm-up round. Returns each contender's throughput
 * (messages/s) per measured round, by name: compute ratios per round and take the median ({@link medianRatio}).
 */
export async function alternate(
  contenders: readonly Contender[],
  options: AlternateOptions,
): Promise<Map<string, number[]>> {
  const warmupMs = options.warmupMs ?? options.turnMs / 2;
  for (const contender of contenders) await contender.run(performance.now() + warmupMs, options.maxPerTurn);
  const results = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const contender of contenders) {
      const start = performance.now();
      const done = await contender.run(start + options.turnMs, options.maxPerTurn);
      results.get(contender.name)?.push((done * 1000) / (performance.now() - start));
    }
    options.onRound?.(round + 1);
  }
  return results;
}

/** The median of `xs` (NaN when empty). */
export function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Median over rounds of `a[i] / b[i]`: the per-round ratio, so both sides of each ratio saw the same noise. */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / (b[i] ?? Number.NaN)));
}
