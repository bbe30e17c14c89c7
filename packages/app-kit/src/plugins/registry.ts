import fp from "fastify-plugin";
import { createSchemaRegistryProbe, type SchemaRegistryProbe } from "../schema-registry.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The schema registry the app reads contracts from. */
    schemaRegistry: SchemaRegistryProbe;
  }
}

/** Decorates `schemaRegistry` and adds the `registry` readiness check. Plugin name: `kronos-registry`. */
export const registryPlugin = fp(
  async (app) => {
    const registry = createSchemaRegistryProbe(app.config.schemaRegistry);
    app.decorate("schemaRegistry", registry);
    app.readiness.add("registry", (timeoutMs) => registry.checkHealth(timeoutMs));
  },
  { name: "kronos-registry", fastify: "5.x", dependencies: ["kronos-config", "kronos-readiness"] },
);
