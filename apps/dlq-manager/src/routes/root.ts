import type { FastifyPluginAsync } from "fastify";
import { Type } from "typebox";

const AboutBody = Type.Object({ app: Type.String(), description: Type.String() }, { additionalProperties: false });

/** `GET /`: what this app is. The dlq-manager's feature routes come in later issues, each as a plugin like this one. */
export const rootRoutes: FastifyPluginAsync = async (app) => {
  app.get("/", { schema: { response: { 200: AboutBody } } }, async () => ({
    app: app.config.app,
    description: "Where failed messages end up: inspect them decoded and replay them.",
  }));
};
