import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { TransportLogger } from "../logger.js";
import { type GaugeSample, registerScrapedGauge } from "./scraped-gauge.js";

type Label = "queue";
const sample = (queue: string, value: number): GaugeSample<Label> => ({ labels: { queue }, value });

function setup(read: () => Promise<ReadonlyArray<GaugeSample<Label>>>, onFailure?: () => Promise<void>) {
  const registry = new Registry();
  const warnings: string[] = [];
  const logger: TransportLogger = { debug() {}, info() {}, warn: (_f, m) => warnings.push(m), error() {} };
  registerScrapedGauge<Label>({
    registry,
    name: "test_depth",
    help: "test",
    labelNames: ["queue"],
    timeoutMs: 1000,
    logger,
    read,
    ...(onFailure ? { onFailure } : {}),
  });
  const values = async () =>
    Object.fromEntries(
      (await registry.getMetricsAsJSON())[0]?.values.map((v) => [String(v.labels.queue), v.value]) ?? [],
    );
  return { registry, warnings, values };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("registerScrapedGauge", () => {
  it("reads on every scrape and replaces all series: a series the read no longer returns goes", async () => {
    const reads = [[sample("a", 1), sample("b", 2)], [sample("a", 5)]];
    const { values } = setup(async () => reads.shift() ?? []);
    expect(await values()).toEqual({ a: 1, b: 2 });
    expect(await values()).toEqual({ a: 5 });
  });

  it("shares one read among concurrent scrapes", async () => {
    let calls = 0;
    let release: (samples: Array<GaugeSample<Label>>) => void = () => {};
    const { registry, values } = setup(() => {
      calls += 1;
      return new Promise((resolve) => {
        release = resolve;
      });
    });
    const scrapes = [registry.metrics(), registry.metrics(), values()];
    await vi.waitFor(() => expect(calls).toBe(1));
    release([sample("a", 3)]);
    const [first, second, third] = await Promise.all(scrapes);
    expect(calls).toBe(1);
    expect(first).toContain('test_depth{queue="a"} 3');
    expect(second).toBe(first);
    expect(third).toEqual({ a: 3 });
  });

  it("keeps the last values, logs and calls onFailure when a read fails; the next read starts afresh", async () => {
    const onFailure = vi.fn(async () => {});
    const reads: Array<() => Promise<Array<GaugeSample<Label>>>> = [
      async () => [sample("a", 1)],
      async () => {
        throw new Error("broker down");
      },
      async () => [sample("a", 2)],
    ];
    const { values, warnings } = setup(() => (reads.shift() ?? (async () => []))(), onFailure);
    expect(await values()).toEqual({ a: 1 });
    expect(await values()).toEqual({ a: 1 });
    expect(warnings).toEqual(["test_depth: read failed, kept last values"]);
    expect(onFailure).toHaveBeenCalledTimes(1);
    expect(await values()).toEqual({ a: 2 });
  });

  it("answers the scrape after timeoutMs when the read hangs, without waiting for onFailure", async () => {
    vi.useFakeTimers();
    const onFailure = vi.fn(() => new Promise<void>(() => {}));
    const { registry, warnings } = setup(() => new Promise(() => {}), onFailure);
    const scrape = registry.metrics();
    await vi.advanceTimersByTimeAsync(1000);
    expect(await scrape).toContain("# TYPE test_depth gauge");
    expect(warnings).toHaveLength(1);
    expect(onFailure).toHaveBeenCalledTimes(1);
  });
});
