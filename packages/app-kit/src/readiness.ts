import { describeError, withTimeout } from "@kronos/transport";

/** One readiness check: resolves when the dependency works, rejects (with a useful message) when it does not. */
export type ReadinessCheck = (timeoutMs: number) => Promise<unknown>;

/** The outcome of one check, as `/readyz` reports it. */
export interface CheckResult {
  readonly ok: boolean;
  /** Why it failed; absent when ok. */
  readonly error?: string;
  /** How long the check took. */
  readonly durationMs: number;
}

/** The outcome of every check. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Record<string, CheckResult>;
}

/**
 * The dependencies an app needs to serve: infrastructure plugins add a check each (`kafka`, `rabbitmq`,
 * `registry`); `/readyz` runs them all in parallel, each bounded by a timeout, so it never hangs.
 */
export class Readiness {
  readonly #checks = new Map<string, ReadinessCheck>();
  readonly #timeoutMs: number;

  /** `timeoutMs`: the limit of each check (default 2000). */
  constructor(timeoutMs = 2000) {
    this.#timeoutMs = timeoutMs;
  }

  /** Adds the check `name`. Throws if a check of that name exists. */
  add(name: string, check: ReadinessCheck): void {
    if (this.#checks.has(name)) throw new Error(`readiness check "${name}" is already registered`);
    this.#checks.set(name, check);
  }

  /** Names of the registered checks. */
  names(): string[] {
    return [...this.#checks.keys()];
  }

  /** Runs every check in parallel; never rejects, never takes much longer than the timeout. */
  async run(): Promise<ReadinessReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]): Promise<[string, CheckResult]> => {
        const started = performance.now();
        const elapsed = () => Math.round(performance.now() - started);
        try {
          // The checks bound themselves; the outer limit guards against one that does not.
          await withTimeout(check(this.#timeoutMs), this.#timeoutMs + 250, `${name} check`);
          return [name, { ok: true, durationMs: elapsed() }];
        } catch (error) {
          return [name, { ok: false, error: describeError(error), durationMs: elapsed() }];
        }
      }),
    );
    const checks = Object.fromEntries(entries);
    return { ready: entries.every(([, result]) => result.ok), checks };
  }
}
