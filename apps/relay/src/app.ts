import { authPlugin, createFastify, healthRoutes, type KronosApp, registerInfrastructure } from "@kronos/app-kit";
import type { RelayRoute } from "@kronos/catalog";
import type { Config } from "./config.js";
import { relayPlugin } from "./plugins/relay.js";
import { relayRoutes } from "./routes/relay-routes.js";
import { rootRoutes } from "./routes/root.js";

export { type Config, loadConfig } from "./config.js";

/** Options of {@link buildApp} (tests). */
export interface BuildOptions {
  /** Routes to run instead of the manifest's `x-kronos-relay` routes. */
  readonly routes?: readonly RelayRoute[];
}

/**
 * Builds the relay as a plugin tree: infrastructure first (config, readiness, error handling, metrics, Kafka,
 * RabbitMQ, schema registry), authentication (app-kit's: every route but `/healthz`, `/readyz` and `/metrics` needs
 * a principal), the relay itself (routes, Redis), then the HTTP routes. Connects to nothing until the
 * app is ready (`listen`, `ready` or the first `inject`); the relay's routes start then (`app.relayStarted`).
 * `close()` stops them and closes every connection. Tests call it and use `inject`.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<KronosApp> {
  const app = createFastify(config);

  await registerInfrastructure(app, config);
  await app.register(authPlugin, { ...config.auth, realm: "kronos-relay" });
  await app.register(relayPlugin, { config, routes: options.routes });

  await app.register(healthRoutes);
  await app.register(rootRoutes);
  await app.register(relayRoutes);
  return app;
}
