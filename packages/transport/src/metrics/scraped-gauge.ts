import { Gauge, type Registry } from "prom-client";
import { describeError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import { withTimeout } from "../timeout.js";

/** One series of a {@link registerScrapedGauge} read: its label values and its value. */
export interface GaugeSample<Label extends string> {
  readonly labels: Readonly<Record<Label, string>>;
  readonly value: number;
}

/** What {@link registerScrapedGauge} needs besides the read itself. */
export interface ScrapedGaugeOptions<Label extends string> {
  readonly registry: Registry;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly Label[];
  /** Time limit of one read, in ms. */
  readonly timeoutMs: number;
  readonly logger: TransportLogger;
  /** Reads every series afresh. Series it no longer returns disappear from the gauge. */
  readonly read: () => Promise<ReadonlyArray<GaugeSample<Label>>>;
  /**
   * Called when a read failed or timed out, not awaited, e.g. to drop a connection; it must forget the connection
   * at once (synchronously) so the next read starts afresh.
   */
  readonly onFailure?: () => Promise<void>;
}

/**
 * Registers a gauge whose series are read from a broker when the registry is collected (on scrape), not on a
 * timer, so an app that is never scraped never asks. The guarantee: **a scrape never fails and never waits longer
 * than `timeoutMs` because of the broker**. A read that fails or times out is logged (warn) and leaves the values of
 * the last successful read; a successful read replaces all series. Concurrent scrapes share one read.
 */
export function registerScrapedGauge<Label extends string>(options: ScrapedGaugeOptions<Label>): Gauge<Label> {
  const { logger, read, timeoutMs, onFailure } = options;
  let running: Promise<ReadonlyArray<GaugeSample<Label>> | undefined> | undefined;
  const readOnce = async (): Promise<ReadonlyArray<GaugeSample<Label>> | undefined> => {
    try {
      return await withTimeout(read(), timeoutMs, `reading ${options.name}`);
    } catch (error) {
      logger.warn(
        { err: describeError(error), metric: options.name },
        `${options.name}: read failed, kept last values`,
      );
      // Not awaited: dropping a client that hangs can take as long as the hang, and the scrape must not wait.
      void onFailure?.().catch(() => {});
      return undefined;
    }
  };
  return new Gauge<Label>({
    name: options.name,
    help: options.help,
    labelNames: options.labelNames,
    registers: [options.registry],
    async collect() {
      running ??= readOnce().finally(() => {
        running = undefined;
      });
      const samples = await running;
      if (samples === undefined) return;
      this.reset();
      for (const { labels, value } of samples) this.set(labels as Partial<Record<Label, string>>, value);
    },
  });
}
