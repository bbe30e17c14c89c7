import type { FastifyPluginAsync } from "fastify";
import { Type } from "typebox";

const AboutBody = Type.Object({ app: Type.String(), description: Type.String() }, { additionalProperties: false });

/** `GET /`: what this app is (needs a principal, like every route but the probes and metrics). */
export const rootRoutes: FastifyPluginAsync = async (app) => {
  app.get("/", { schema: { response: { 200: AboutBody } } }, async () => ({
    app: app.config.app,
    description: "Bridges Kafka and RabbitMQ both ways, at-least-once, without loops or lost headers.",
  }));
};
