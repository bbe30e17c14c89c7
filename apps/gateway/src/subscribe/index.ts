/**
 * Subscribing: `GET /subscribe/:topic` (Server-Sent Events), `POST /ack|retry|reject/:messageId`, the delivery
 * handles and their leases, the SSE stream with backpressure, filters and the Kafka resume cursor.
 */
export { readSubscribeConfig, SUBSCRIBE_DEFAULTS, type SubscribeConfig } from "./config.js";
export { MAX_EVENT_ID_LENGTH } from "./cursor.js";
export { type SubscribeRoutesOptions, subscribeRoutes } from "./routes.js";
