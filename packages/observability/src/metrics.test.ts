import { describe, expect, it } from "vitest";
import { createHttpMetrics, createMetricsRegistry, HTTP_REQUEST_DURATION } from "./metrics.js";

describe("createMetricsRegistry", () => {
  it("collects default Node metrics labelled with the app", async () => {
    const registry = createMetricsRegistry({ app: "demo" });
    const text = await registry.metrics();
    expect(text).toMatch(/process_cpu_user_seconds_total\{app="demo"\}/);
    expect(text).toContain("nodejs_eventloop_lag_seconds");
  });

  it("gives each app its own registry", async () => {
    const a = createMetricsRegistry({ app: "a", defaultMetrics: false });
    const b = createMetricsRegistry({ app: "b", defaultMetrics: false });
    createHttpMetrics(a).observe({ method: "GET", route: "/x", statusCode: 200, durationSeconds: 0.01 });
    createHttpMetrics(b);
    expect(await a.metrics()).toContain('route="/x"');
    expect(await b.metrics()).not.toContain('route="/x"');
  });
});

describe("createHttpMetrics", () => {
  it("records a request by method, route and status code", async () => {
    const registry = createMetricsRegistry({ app: "demo", defaultMetrics: false });
    const http = createHttpMetrics(registry);
    http.observe({ method: "GET", route: "/items/:id", statusCode: 404, durationSeconds: 0.002 });
    const text = await registry.metrics();
    expect(text).toContain(
      `${HTTP_REQUEST_DURATION}_count{app="demo",method="GET",route="/items/:id",status_code="404"} 1`,
    );
  });

  it("refuses to register twice in one registry", () => {
    const registry = createMetricsRegistry({ app: "demo", defaultMetrics: false });
    createHttpMetrics(registry);
    expect(() => createHttpMetrics(registry)).toThrow(/already been registered/);
  });
});
