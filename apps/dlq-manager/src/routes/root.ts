import type { FastifyPluginAsync } from "fastify";
import { Type } from "typebox";
import { PAGE } from "../web/page.js";

const AboutBody = Type.Object({ app: Type.String(), description: Type.String() }, { additionalProperties: false });

/**
 * `GET /`: the operators' page for browsers (`Accept: text/html`), else what this app is, as JSON. Public: the page
 * holds no data; it asks for an API key and sends it with each API call, which checks the rights.
 */
export const rootRoutes: FastifyPluginAsync = async (app) => {
  app.get("/", { config: { public: true }, schema: { response: { 200: AboutBody } } }, async (request, reply) => {
    if (request.headers.accept?.includes("text/html")) {
      // The page's own inline script and style; nothing else is loaded.
      return reply
        .type("text/html; charset=utf-8")
        .header("content-security-policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
        .serializer((payload: unknown) => String(payload))
        .send(PAGE);
    }
    return { app: app.config.app, description: "Where failed messages end up: inspect them decoded and replay them." };
  });
};
