/**
 * Kept only for `rabbitmq/consumer.ts`, which another change is rewriting: backoff is broker-neutral and lives in
 * `src/backoff.ts`. Delete this file once that import points there.
 */
export { type BackoffOptions, backoffDelay } from "../backoff.js";
