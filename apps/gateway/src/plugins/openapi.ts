import swagger from "@fastify/swagger";
import fp from "fastify-plugin";

/** Options of {@link openApiPlugin}. */
export interface OpenApiPluginOptions {
  /** The document's `info.version`. */
  readonly version: string;
}

/**
 * Generates the OpenAPI 3 document from the route schemas (@fastify/swagger; register it before the routes) and
 * serves it at `GET /openapi.json` (public). `apps/gateway/openapi.json` is the committed copy
 * (`pnpm --filter @kronos/gateway openapi` rewrites it; a test fails when it differs). Plugin name:
 * `kronos-gateway-openapi`.
 */
export const openApiPlugin = fp<OpenApiPluginOptions>(
  async (app, options) => {
    await app.register(swagger, {
      openapi: {
        openapi: "3.0.3",
        info: {
          title: "Kronos gateway",
          description:
            "HTTP in front of Kafka and RabbitMQ. Every route but /healthz, /readyz, /metrics and /openapi.json " +
            "needs a JWT (Authorization: Bearer) or an API key (X-API-Key). Errors are { code, message }.",
          version: options.version,
        },
        components: {
          securitySchemes: {
            bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
            apiKey: { type: "apiKey", in: "header", name: "X-API-Key" },
          },
        },
        security: [{ bearer: [] }, { apiKey: [] }],
      },
    });
    app.get("/openapi.json", { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
  },
  { name: "kronos-gateway-openapi", fastify: "5.x" },
);
