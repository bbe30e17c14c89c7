/**
 * Queue administration: `GET /queues`, `POST /queues/create`, `DELETE /queues/:queueId`, all needing `admin`.
 * See README.md ("Queue administration") for the request and answer shapes.
 */
export { DEFAULT_RABBITMQ_MANAGEMENT_URL, type QueuesConfig, readQueuesConfig } from "./config.js";
export { ADMIN_TRANSPORT_CODES, RETRY_AFTER_SECONDS, toHttpError } from "./errors.js";
export { formatQueueId, parseQueueId, type QueueRef } from "./managed.js";
export { type QueueRoutesOptions, queueRoutes, vhostOf } from "./routes.js";
