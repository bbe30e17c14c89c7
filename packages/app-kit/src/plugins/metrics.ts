import cluster from "node:cluster";
import { createHttpMetrics, createMetricsRegistry, type HttpMetrics, type Registry } from "@kronos/observability";
import fp from "fastify-plugin";
import { clusterMetrics } from "../cluster.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The app's own prom-client registry and its HTTP metrics. */
    metrics: { readonly registry: Registry; readonly http: HttpMetrics };
  }
}

/** The `route` label of requests that matched no route (bounded cardinality: never the raw URL). */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * Creates the app's own metrics registry (default Node metrics + `http_request_duration_seconds` by method, route
 * pattern and status code), times every response, and serves `GET /metrics` in the Prometheus text format. In a
 * cluster worker (see `startServer`'s `workers`), `/metrics` answers for the whole cluster: every worker's registry,
 * aggregated by the primary, whichever worker the scrape reaches.
 * Plugin name: `kronos-metrics`.
 */
export const metricsPlugin = fp(
  async (app) => {
    const registry = createMetricsRegistry({ app: app.config.app });
    const http = createHttpMetrics(registry);
    app.decorate("metrics", { registry, http });

    // A callback hook, not an async one: an async hook costs every answer a promise and a microtask turn.
    app.addHook("onResponse", (request, reply, done) => {
      http.observe({
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        statusCode: reply.statusCode,
        durationSeconds: reply.elapsedTime / 1000,
      });
      done();
    });

    app.get("/metrics", { logLevel: "warn" }, async (_request, reply) => {
      reply.type(registry.contentType);
      return cluster.isWorker ? clusterMetrics() : registry.metrics();
    });
  },
  { name: "kronos-metrics", fastify: "5.x", dependencies: ["kronos-config"] },
);
