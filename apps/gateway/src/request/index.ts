/**
 * Request/reply: `POST /request` (see {@link requestRoutes}) sends a publish-like message as a request on RabbitMQ
 * (direct reply-to) or Kafka (the gateway's reply topic) and answers with the decoded reply.
 */
export { DEFAULT_REPLY_TOPIC, type RequestConfig, readRequestConfig } from "./config.js";
export { createRequestMetrics, type RequestMetrics, type RequestOutcome } from "./metrics.js";
export { type RequestRoutesOptions, requestRoutes } from "./routes.js";
export { DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS } from "./schemas.js";
