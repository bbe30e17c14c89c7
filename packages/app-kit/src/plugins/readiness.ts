import fp from "fastify-plugin";
import { Readiness } from "../readiness.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The readiness checks `/readyz` runs; infrastructure plugins add theirs. */
    readiness: Readiness;
  }
}

/** Options of {@link readinessPlugin}. */
export interface ReadinessPluginOptions {
  /** Limit of each check, in ms. Default: 2000. */
  readonly timeoutMs?: number;
}

/** Decorates the app with an empty {@link Readiness}. Plugin name: `kronos-readiness`. */
export const readinessPlugin = fp<ReadinessPluginOptions>(
  async (app, options) => {
    app.decorate("readiness", new Readiness(options.timeoutMs));
  },
  { name: "kronos-readiness", fastify: "5.x" },
);
