import { ensureStackUp } from "@kronos/local-stack";

/**
 * vitest global setup for integration tests: brings the local stack up if it is not (the stack command is
 * idempotent and holds a lock, so parallel test runs start each service once).
 */
export default async function setup(): Promise<void> {
  await ensureStackUp();
}
