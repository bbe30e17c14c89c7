/**
 * Queue administration: `GET /queues`, `POST /queues/create`, `DELETE /queues/:queueId`, all needing `admin`.
 * See README.md ("Queue administration") for the request and answer shapes.
 */
export { DEFAULT_RABBITMQ_MANAGEMENT_URL, type QueuesConfig, readQueuesConfig, schemasDirOf } from "./config.js";
export { RETRY_AFTER_SECONDS, STATUS_BY_TRANSPORT_CODE, toHttpError } from "./errors.js";
export { formatQueueId, isInternal, manifestDestinations, parseQueueId, type QueueRef } from "./managed.js";
export { type QueueRoutesOptions, queueRoutes, vhostOf } from "./routes.js";
