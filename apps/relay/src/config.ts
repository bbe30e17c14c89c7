import { type Env, loadServiceConfig, type ServiceConfig, type ServiceDefinition } from "@kronos/app-kit";

/** The relay's name, env prefix (`RELAY_PORT`, `RELAY_HOST`) and default port. */
export const SERVICE: ServiceDefinition = { app: "relay", envPrefix: "RELAY", defaultPort: 3001 };

/** The relay's configuration (today the shared variables only; its features add their own). */
export type Config = ServiceConfig;

/**
 * Reads the relay's configuration from `env` (default `process.env`). Throws a `ConfigError` naming every invalid
 * variable. Variables and defaults: see README.md and the root .env.example.
 */
export function loadConfig(env: Env = process.env): Config {
  return loadServiceConfig(SERVICE, env);
}
