// Publishing through the gateway from concurrent clients at a paced rate, counting every answer by message id.
import { Pool } from "undici";
import type { Ledger } from "./ledger.js";

/** Options of {@link publishLoad}. */
export interface PublishLoadOptions {
  readonly origin: string;
  readonly headers: Record<string, string>;
  readonly count: number;
  readonly clients: number;
  /** Publishes per second over all clients (0: as fast as they go). */
  readonly ratePerSecond: number;
  /** A client gives up on a request after this long and counts it as hung (a promise broken: never a hang). */
  readonly requestTimeoutMs: number;
  /** The JSON body of `POST /publish` for message `id` (its `headers["message-id"]` must be `id`). */
  readonly body: (id: string) => unknown;
  /** Message ids are `<idPrefix><n>`. */
  readonly idPrefix: string;
  readonly ledger: Ledger;
  /** Called once as the `n`-th publish starts, for each `n` in the map (e.g. to inject a fault at 30%). */
  readonly at?: ReadonlyMap<number, () => void>;
}

/** What the clients saw. */
export interface PublishLoadResult {
  readonly statuses: Record<string, number>;
  /** 5xx answers other than 503. */
  readonly serverErrors: number;
  /** 503s without a `Retry-After` header. */
  readonly withoutRetryAfter: number;
  /** Requests without an answer within `requestTimeoutMs`. */
  readonly hung: number;
  /** Time (performance.now()) of each 202, in the order they came. */
  readonly acceptedAt: number[];
  readonly samples: string[];
  readonly elapsedMs: number;
}

/** Sends `count` publishes and resolves once every one was answered (or timed out). */
export async function publishLoad(options: PublishLoadOptions): Promise<PublishLoadResult> {
  const pool = new Pool(options.origin, { connections: options.clients, pipelining: 1 });
  const statuses: Record<string, number> = {};
  const acceptedAt: number[] = [];
  const samples: string[] = [];
  let serverErrors = 0;
  let withoutRetryAfter = 0;
  let hung = 0;
  let next = 0;
  const started = performance.now();
  const interval = options.ratePerSecond > 0 ? 1000 / options.ratePerSecond : 0;

  const lane = async () => {
    for (;;) {
      const n = next++;
      if (n >= options.count) return;
      options.at?.get(n)?.();
      if (interval > 0) {
        const due = started + n * interval;
        const wait = due - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const id = `${options.idPrefix}${n}`;
      options.ledger.sent(id);
      try {
        const response = await pool.request({
          method: "POST",
          path: "/publish",
          headers: { ...options.headers, "content-type": "application/json" },
          body: JSON.stringify(options.body(id)),
          headersTimeout: options.requestTimeoutMs,
          bodyTimeout: options.requestTimeoutMs,
        });
        const text = await response.body.text();
        const status = response.statusCode;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 202) {
          options.ledger.acknowledged(id);
          acceptedAt.push(performance.now());
        } else {
          if (status >= 500 && status !== 503) serverErrors++;
          if (status === 503 && response.headers["retry-after"] === undefined) withoutRetryAfter++;
          if (samples.length < 5 && status !== 503) samples.push(`${status} ${text.slice(0, 200)}`);
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? "error";
        statuses[code] = (statuses[code] ?? 0) + 1;
        if (/TIMEOUT/.test(code)) hung++;
        if (samples.length < 5) samples.push(`${code}: ${String(error).slice(0, 200)}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, lane));
  } finally {
    await pool.close();
  }
  return {
    statuses,
    serverErrors,
    withoutRetryAfter,
    hung,
    acceptedAt,
    samples,
    elapsedMs: performance.now() - started,
  };
}

/**
 * The gateway's saturation: publishes per second answered 202 by `clients` clients sending as fast as they can for
 * `durationMs`. The battery's loads are fractions of it, so they mean the same on a slower machine.
 */
export async function measureSaturation(
  options: Omit<PublishLoadOptions, "count" | "ratePerSecond" | "at"> & { readonly durationMs: number },
): Promise<number> {
  // A warm-up second first (connections, the first metadata and schema look-ups), not counted.
  const warmUntil = performance.now() + 1000;
  const deadline = warmUntil + options.durationMs;
  let accepted = 0;
  let sent = 0;
  const pool = new Pool(options.origin, { connections: options.clients, pipelining: 1 });
  const lane = async () => {
    while (performance.now() < deadline) {
      const response = await pool.request({
        method: "POST",
        path: "/publish",
        headers: { ...options.headers, "content-type": "application/json" },
        body: JSON.stringify(options.body(`${options.idPrefix}sat-${sent++}`)),
        headersTimeout: options.requestTimeoutMs,
      });
      await response.body.dump();
      if (response.statusCode === 202 && performance.now() >= warmUntil) accepted++;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, lane));
  } finally {
    await pool.close();
  }
  return (accepted * 1000) / (performance.now() - warmUntil);
}

/** The broken promises a load's answers show: requests with no answer within their bound, 503s without Retry-After. */
export function loadProblems(load: PublishLoadResult, requestTimeoutMs: number): string[] {
  const problems: string[] = [];
  if (load.hung > 0) problems.push(`${load.hung} requests had no answer within ${requestTimeoutMs} ms`);
  if (load.withoutRetryAfter > 0) problems.push(`${load.withoutRetryAfter} answers 503 without Retry-After`);
  return problems;
}
