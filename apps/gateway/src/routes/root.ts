import type { FastifyPluginAsync } from "fastify";
import { Type } from "typebox";

const AboutBody = Type.Object({ app: Type.String(), description: Type.String() }, { additionalProperties: false });

/** `GET /`: what this app is. The gateway's feature routes come in later issues, each as a plugin like this one. */
export const rootRoutes: FastifyPluginAsync = async (app) => {
  app.get("/", { schema: { operationId: "getAbout", response: { 200: AboutBody } } }, async () => ({
    app: app.config.app,
    description: "HTTP in front of Kafka and RabbitMQ: publish, subscribe, ack, retry, request/reply, queue admin.",
  }));
};
