// Reading an app's Prometheus metrics (its /metrics) in a scenario.

/** The value of the first sample of metric `name` (any prefix, any labels) in a Prometheus text, else NaN. */
export function sample(text: string, name: string): number {
  return Number(new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
}

/** `origin`'s /metrics as text. */
export async function scrape(origin: string): Promise<string> {
  const response = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return response.text();
}

/** Least-squares slope of `points` ([x, y]), in y per x; NaN with fewer than two points. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}
