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
