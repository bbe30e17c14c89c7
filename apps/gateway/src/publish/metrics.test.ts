import type { ReadinessReport } from "@kronos/app-kit";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createConnectionMetrics } from "./metrics.js";

const report = (ok: Record<string, boolean>): ReadinessReport => ({
  ready: Object.values(ok).every(Boolean),
  checks: Object.fromEntries(Object.entries(ok).map(([name, value]) => [name, { ok: value, durationMs: 1 }])),
});

describe("gateway_broker_connected", () => {
  it("is 1 for each passing check and 0 for each failing or missing one, at every scrape", async () => {
    const registry = new Registry();
    let current = report({ kafka: true, rabbitmq: false });
    createConnectionMetrics(registry, async () => current);
    const values = async () =>
      Object.fromEntries(
        (await registry.getSingleMetric("gateway_broker_connected")?.get())?.values.map((v) => [
          v.labels.broker,
          v.value,
        ]) ?? [],
      );
    expect(await values()).toEqual({ kafka: 1, rabbitmq: 0, registry: 0 });
    current = report({ kafka: false, rabbitmq: true, registry: true });
    expect(await values()).toEqual({ kafka: 0, rabbitmq: 1, registry: 1 });
  });

  it("runs the checks once for concurrent scrapes", async () => {
    const registry = new Registry();
    let runs = 0;
    createConnectionMetrics(registry, async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return report({ kafka: true, rabbitmq: true, registry: true });
    });
    await Promise.all([registry.metrics(), registry.metrics(), registry.metrics()]);
    expect(runs).toBe(1);
    await registry.metrics();
    expect(runs).toBe(2);
  });
});
