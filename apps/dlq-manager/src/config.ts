import { type Env, loadServiceConfig, type ServiceConfig, type ServiceDefinition } from "@kronos/app-kit";

/** The dlq-manager's name, env prefix (`DLQ_MANAGER_PORT`, `DLQ_MANAGER_HOST`) and default port. */
export const SERVICE: ServiceDefinition = { app: "dlq-manager", envPrefix: "DLQ_MANAGER", defaultPort: 3002 };

/** The dlq-manager's configuration (today the shared variables only; its features add their own). */
export type Config = ServiceConfig;

/**
 * Reads the dlq-manager's configuration from `env` (default `process.env`). Throws a `ConfigError` naming every invalid
 * variable. Variables and defaults: see README.md and the root .env.example.
 */
export function loadConfig(env: Env = process.env): Config {
  return loadServiceConfig(SERVICE, env);
}
