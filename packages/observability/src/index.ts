/**
 * @kronos/observability: what every Kronos app measures and logs with. Each app gets its own prom-client
 * registry (default Node.js metrics + an HTTP duration histogram) and the same structured-log options.
 */

export { AggregatorRegistry, type Registry } from "prom-client";
export {
  isLogLevel,
  type KronosLoggerOptions,
  LOG_LEVELS,
  type LoggerOptionsInput,
  type LogLevel,
  loggerOptions,
} from "./logging.js";
export {
  createHttpMetrics,
  createMetricsRegistry,
  HTTP_DURATION_BUCKETS,
  HTTP_REQUEST_DURATION,
  type HttpMetrics,
  type HttpObservation,
  type MetricsRegistryOptions,
} from "./metrics.js";
