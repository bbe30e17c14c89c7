import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Env, EnvReader } from "@kronos/app-kit";

/** Default `RABBITMQ_MANAGEMENT_URL`: the local stack's management API with the guest account. */
export const DEFAULT_RABBITMQ_MANAGEMENT_URL = "http://guest:guest@127.0.0.1:15672";

/** What the queue administration routes need beyond the shared configuration. */
export interface QueuesConfig {
  /** RabbitMQ management API base URL with credentials (`RABBITMQ_MANAGEMENT_URL`), for live queue figures. */
  readonly rabbitmqManagementUrl: string;
  /** Absolute path of the schemas directory holding the contract manifest (`GATEWAY_SCHEMAS_DIR`). */
  readonly schemasDir: string;
}

/**
 * The `schemas/` folder of the repository the gateway runs from: `GATEWAY_SCHEMAS_DIR` when set (relative to the
 * working directory), otherwise the nearest ancestor of this module holding a `pnpm-workspace.yaml`, joined with
 * `schemas` (so it does not depend on the working directory), and `./schemas` when there is none.
 */
export function schemasDirOf(env: Env): string {
  const explicit = env.GATEWAY_SCHEMAS_DIR?.trim();
  if (explicit) return resolve(explicit);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return join(dir, "schemas");
    const parent = dirname(dir);
    if (parent === dir) return resolve("schemas");
    dir = parent;
  }
}

/**
 * Reads `RABBITMQ_MANAGEMENT_URL` (http or https, default {@link DEFAULT_RABBITMQ_MANAGEMENT_URL}; an invalid one is
 * reported by `reader.finish()`) and `GATEWAY_SCHEMAS_DIR` (see {@link schemasDirOf}; a missing or invalid catalog
 * stops the app when the queue routes load it).
 */
export function readQueuesConfig(env: Env, reader: EnvReader): QueuesConfig {
  return {
    rabbitmqManagementUrl: reader.url("RABBITMQ_MANAGEMENT_URL", DEFAULT_RABBITMQ_MANAGEMENT_URL, ["http:", "https:"]),
    schemasDir: schemasDirOf(env),
  };
}
