import { collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** The app's name; added as the `app` label on every metric of the registry. */
  readonly app: string;
  /** Collect prom-client's default Node.js metrics (event loop lag, heap, GC, ...). Default: true. */
  readonly defaultMetrics?: boolean;
  /** Prefix of the default metric names. Default: none (`process_cpu_seconds_total`, ...). */
  readonly prefix?: string;
}

/**
 * Creates the app's own prom-client {@link Registry} (never the global one, so two apps in one process, or two
 * test instances, never share or double-register metrics), labelled `app=<name>`, with the default Node.js
 * metrics unless `defaultMetrics` is false.
 */
export function createMetricsRegistry(options: MetricsRegistryOptions): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app: options.app });
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, ...(options.prefix === undefined ? {} : { prefix: options.prefix }) });
  }
  return registry;
}

/** The HTTP request duration histogram's name. */
export const HTTP_REQUEST_DURATION = "http_request_duration_seconds";

/** Bucket bounds (seconds) of the HTTP histogram: 1 ms to 10 s, suited to an API in front of brokers. */
export const HTTP_DURATION_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** One finished HTTP request, as {@link HttpMetrics.observe} records it. */
export interface HttpObservation {
  /** HTTP method, upper case. */
  readonly method: string;
  /**
   * The route pattern (`/queues/:name`), never the raw URL, so label cardinality stays bounded. Requests that
   * matched no route should pass a constant such as `"unmatched"`.
   */
  readonly route: string;
  /** The response status code. */
  readonly statusCode: number;
  /** How long the request took, in seconds. */
  readonly durationSeconds: number;
}

/** HTTP metrics of one app; see {@link createHttpMetrics}. */
export interface HttpMetrics {
  /** The underlying histogram, `http_request_duration_seconds{method,route,status_code}`. */
  readonly histogram: Histogram<"method" | "route" | "status_code">;
  /** Records one finished request. */
  observe(observation: HttpObservation): void;
}

/**
 * Registers the HTTP request duration histogram (`http_request_duration_seconds`, labelled by method, route and
 * status code) in `registry`. Throws if the registry already holds a metric of that name.
 */
export function createHttpMetrics(registry: Registry): HttpMetrics {
  const histogram = new Histogram({
    name: HTTP_REQUEST_DURATION,
    help: "Duration of HTTP requests in seconds, by method, route pattern and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [...HTTP_DURATION_BUCKETS],
    registers: [registry],
  });
  return {
    histogram,
    observe({ method, route, statusCode, durationSeconds }) {
      histogram.observe({ method, route, status_code: String(statusCode) }, durationSeconds);
    },
  };
}
