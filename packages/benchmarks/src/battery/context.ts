// What every battery scenario gets: the run's size, a gateway, a principal, and the stack's endpoints.
import { startService } from "@kronos/local-stack";
import type { BenchHarness } from "../harness.js";
import type { MatrixKeys } from "./auth-matrix.js";
import type { Ledger } from "./ledger.js";
import { publishLoad } from "./load.js";

/** `full`: the figures (`npm run battery`); `short`: the CI version (`npm test`, disruptive project). */
export type BatterySize = "full" | "short";

export interface BatteryContext {
  readonly size: BatterySize;
  /** False with `--no-faults`: the same loads and counts with nothing broken (a baseline for the table). */
  readonly faults: boolean;
  readonly harness: BenchHarness;
  /** A unique prefix for this run's message ids, names and groups. */
  readonly run: string;
  readonly brokers: string[];
  readonly gateway: { readonly origin: string; readonly headers: Record<string, string> };
  /** The gateway's principals file (scenarios add and revoke principals in it). */
  readonly principalsFile: string;
  /** The JWT keys the gateway trusts. */
  readonly matrixKeys: MatrixKeys;
  /** The gateway's publish timeout (ms): a 503 must come within it. */
  readonly publishTimeoutMs: number;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `read` every 250 ms until it gives a value; its errors count as "not yet" (a process may be starting, a
 * broker restarting). Undefined after `limitMs`.
 */
export async function pollUntil<T>(read: () => Promise<T | undefined>, limitMs: number): Promise<T | undefined> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(250);
  }
  return undefined;
}

/**
 * After a broker came back at `backAt` (performance.now()): how long until the gateway answered 202 again, from the
 * load's own answers, else by publishing one message every 250 ms (each recorded in the ledger) for up to
 * `limitMs`. Undefined when it did not within the limit.
 */
export async function recoveryMs(
  context: BatteryContext,
  acceptedAt: readonly number[],
  backAt: number,
  probe: { readonly body: (id: string) => unknown; readonly ledger: Ledger; readonly idPrefix: string },
  limitMs: number,
): Promise<number | undefined> {
  const first = acceptedAt.find((time) => time >= backAt);
  if (first !== undefined) return first - backAt;
  const deadline = backAt + limitMs;
  let n = 0;
  while (performance.now() < deadline) {
    const result = await publishLoad({
      ...context.gateway,
      count: 1,
      clients: 1,
      ratePerSecond: 0,
      requestTimeoutMs: context.publishTimeoutMs + 5000,
      body: probe.body,
      idPrefix: `${probe.idPrefix}probe-${n++}-`,
      ledger: probe.ledger,
    });
    const at = result.acceptedAt[0];
    if (at !== undefined) return at - backAt;
    await sleep(250);
  }
  return undefined;
}

/** Starts a service the scenario killed, retrying for a while (a just-killed broker can refuse a quick restart). */
export async function restart(name: "kafka" | "rabbitmq"): Promise<void> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await startService(name);
      return;
    } catch (error) {
      lastError = error;
      await sleep(3000);
    }
  }
  throw lastError;
}
