/**
 * Publishing: `POST /publish`, `POST /publish/batch`, `GET /publish/destinations` (see {@link publishRoutes}),
 * on the message core (src/messages/), and the idempotency store.
 */
export { type PublishConfig, readPublishConfig } from "./config.js";
export {
  fingerprintOf,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
} from "./idempotency.js";
export { CONNECTION_CHECKS, createConnectionMetrics, createPublishMetrics, type PublishMetrics } from "./metrics.js";
export { type PublishRoutesOptions, publishRoutes } from "./routes.js";
