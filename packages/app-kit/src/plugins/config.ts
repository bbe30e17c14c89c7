import fp from "fastify-plugin";
import type { ServiceConfig } from "../config.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The app's validated configuration (see `loadServiceConfig`). */
    config: ServiceConfig;
  }
}

/** Options of {@link configPlugin}. */
export interface ConfigPluginOptions {
  readonly config: ServiceConfig;
}

/** Decorates the app with its validated `config`. Plugin name: `kronos-config`. */
export const configPlugin = fp<ConfigPluginOptions>(
  async (app, options) => {
    app.decorate("config", options.config);
  },
  { name: "kronos-config", fastify: "5.x" },
);
