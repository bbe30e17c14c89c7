import { RegistrySerde } from "@kronos/contracts";
import fp from "fastify-plugin";

declare module "fastify" {
  interface FastifyInstance {
    /** Decodes dead letters with their writer schema (fetched from the registry by id, cached). */
    serde: RegistrySerde;
  }
}

/** Decorates `serde`, a {@link RegistrySerde} on the app's registry. Plugin name: `dlq-serde`. */
export const serdePlugin = fp(
  async (app) => {
    app.decorate("serde", new RegistrySerde({ ...app.config.schemaRegistry, retries: 1 }));
  },
  { name: "dlq-serde", fastify: "5.x", dependencies: ["kronos-config"] },
);
