import { loadCatalogSync, loadRelayRoutes, type RelayRoute } from "@kronos/catalog";
import { RegistrySerde } from "@kronos/contracts";
import fp from "fastify-plugin";
import { Redis } from "ioredis";
import type { Config } from "../config.js";
import { RelayMetrics } from "../relay/metrics.js";
import { Relay } from "../relay/relay.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The running relay: its routes, their state and counters. */
    relay: Relay;
    /** Resolves once every route has started (they start after the app is ready, retrying while a broker is down). */
    relayStarted: Promise<void>;
  }
}

/** Options of {@link relayPlugin}. */
export interface RelayPluginOptions {
  readonly config: Config;
  /** Routes to run instead of the manifest's (tests); the manifest's topology is then not created. */
  readonly routes?: readonly RelayRoute[] | undefined;
}

/**
 * Loads the routes (the manifest's `x-kronos-relay`, or those given; `RELAY_ROUTES` selects), connects Redis, and
 * starts the {@link Relay} once the app is ready; closes it (and Redis) on close. Plugin name: `kronos-relay`.
 */
export const relayPlugin = fp<RelayPluginOptions>(
  async (app, options) => {
    const settings = options.config.relay;
    const loaded = options.routes
      ? { catalog: loadCatalogSync(settings.schemasDir), routes: [...options.routes] }
      : loadRelayRoutes(settings.schemasDir);
    const selected = settings.routes.filter((id) => id !== "none");
    const unknown = selected.filter((id) => !loaded.routes.some((route) => route.id === id));
    if (unknown.length > 0)
      throw new Error(`RELAY_ROUTES names routes the manifest does not have: ${unknown.join(", ")}`);
    const routes =
      settings.routes.length === 0 ? loaded.routes : loaded.routes.filter((r) => settings.routes.includes(r.id));

    const redis = new Redis(settings.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableAutoPipelining: true,
    });
    redis.on("error", (error: Error) => app.log.debug({ error: error.message }, "redis"));
    // Redis holds the dedup window: a relay with routes is not ready without it (one without routes needs none).
    if (routes.length > 0) {
      app.readiness.add("redis", async () => {
        await redis.ping();
      });
    }
    const relay = new Relay({
      settings,
      catalog: loaded.catalog,
      routes,
      ensureTopology: options.routes === undefined,
      kafka: app.kafka,
      kafkaBrokers: options.config.kafkaBrokers,
      kafkaSecurity: options.config.kafkaSecurity,
      amqp: app.amqp,
      managementCaFile: options.config.rabbitmq.tls?.caFile,
      serde: new RegistrySerde(options.config.schemaRegistry),
      redis,
      metrics: new RelayMetrics(app.metrics.registry),
      log: app.log.child({ component: "relay" }),
    });
    relay.metrics.trackLag(app.metrics.registry, () =>
      Promise.all(
        [...relay.routes.values()].map(async (route) => [route.route.id, await route.lag()] as [string, number | null]),
      ),
    );
    app.decorate("relay", relay);
    let started: Promise<void> = Promise.resolve();
    app.decorate("relayStarted", {
      getter: () => started,
    });
    app.addHook("onReady", async () => {
      started = redis
        .connect()
        .catch(() => {})
        .then(() => relay.start());
      started.catch(() => {});
    });
    app.addHook("onClose", async () => {
      await relay.close();
      redis.disconnect();
    });
  },
  {
    name: "kronos-relay",
    fastify: "5.x",
    dependencies: ["kronos-kafka", "kronos-amqp", "kronos-metrics", "kronos-readiness"],
  },
);
