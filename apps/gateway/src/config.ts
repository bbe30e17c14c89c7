import { type Env, loadServiceConfig, type ServiceConfig, type ServiceDefinition } from "@kronos/app-kit";

/** The gateway's name, env prefix (`GATEWAY_PORT`, `GATEWAY_HOST`) and default port. */
export const SERVICE: ServiceDefinition = { app: "gateway", envPrefix: "GATEWAY", defaultPort: 3000 };

/** The gateway's configuration (today the shared variables only; its features add their own). */
export type Config = ServiceConfig;

/**
 * Reads the gateway's configuration from `env` (default `process.env`). Throws a `ConfigError` naming every invalid
 * variable. Variables and defaults: see README.md and the root .env.example.
 */
export function loadConfig(env: Env = process.env): Config {
  return loadServiceConfig(SERVICE, env);
}
