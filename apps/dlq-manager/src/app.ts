import { authPlugin, createFastify, healthRoutes, type KronosApp, registerInfrastructure } from "@kronos/app-kit";
import type { Config } from "./config.js";
import { custodyPlugin } from "./custody/plugin.js";
import { databasePlugin } from "./db/plugin.js";
import { replayPlugin } from "./replay/plugin.js";
import { deadLetterRoutes } from "./routes/dead-letters.js";
import { replayRoutes } from "./routes/replays.js";
import { rootRoutes } from "./routes/root.js";
import { serdePlugin } from "./serde-plugin.js";

export { type Config, loadConfig } from "./config.js";

/**
 * Builds the dlq-manager as a plugin tree: infrastructure first (config, readiness, error handling, metrics, Kafka,
 * RabbitMQ, schema registry), authentication (app-kit's: every route but `/`, `/healthz`, `/readyz` and `/metrics`
 * needs a principal, and its `dlq:*` right), PostgreSQL (migrated at start), then routes. Connects to nothing until the app is
 * ready (`listen`, `ready` or the first `inject`); `close()` closes every connection. Tests call it and use `inject`.
 */
export async function buildApp(config: Config): Promise<KronosApp> {
  const app = createFastify(config);

  await registerInfrastructure(app, config);
  await app.register(authPlugin, { ...config.auth, realm: "kronos-dlq-manager" });
  await app.register(databasePlugin, { url: config.databaseUrl });
  await app.register(serdePlugin);
  await app.register(custodyPlugin, { sources: config.sources, group: config.consumerGroup });
  await app.register(replayPlugin);

  await app.register(healthRoutes);
  await app.register(rootRoutes);
  await app.register(deadLetterRoutes);
  await app.register(replayRoutes, { maxRate: config.replayMaxRate });
  return app;
}
