/**
 * Publishing: `POST /publish`, `POST /publish/batch`, `GET /publish/destinations` (see {@link publishRoutes}),
 * the JSON ↔ Avro value conversions, destination resolution from the manifest bindings, and the idempotency store.
 */
export { type PublishConfig, readPublishConfig } from "./config.js";
export { avroToJson, type Conversion, checkPayload, jsonToAvro } from "./convert.js";
export { type Broker, type Destination, Destinations, defaultKey } from "./destinations.js";
export {
  fingerprintOf,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
} from "./idempotency.js";
export { CONNECTION_CHECKS, createConnectionMetrics, createPublishMetrics, type PublishMetrics } from "./metrics.js";
export { CONTENT_TYPE, RESERVED_HEADERS, RETRY_AFTER_SECONDS } from "./pipeline.js";
export { type PublishRoutesOptions, publishRoutes } from "./routes.js";
