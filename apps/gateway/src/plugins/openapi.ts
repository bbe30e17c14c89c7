import swagger from "@fastify/swagger";
import { isPublicRoute } from "@kronos/app-kit";
import fp from "fastify-plugin";
import { Type } from "typebox";
import type { GatewayErrorCode } from "../errors.js";
import { finishDocument, type OpenApiDocument } from "./openapi-document.js";

/** Options of {@link openApiPlugin}. */
export interface OpenApiPluginOptions {
  /** The document's `info.version`. */
  readonly version: string;
  /** Per operation id, the gateway error codes it answers with (listed in its error responses). */
  readonly errorCodes?: Readonly<Record<string, readonly GatewayErrorCode[]>>;
}

/** Operation ids of the routes whose schemas are not the gateway's (app-kit's health and metrics routes). */
const OPERATION_IDS: Readonly<Record<string, string>> = {
  "GET /healthz": "getHealth",
  "GET /readyz": "getReadiness",
  "GET /metrics": "getMetrics",
};

/**
 * Generates the OpenAPI 3 document from the route schemas (@fastify/swagger; register it before any route, so it
 * sees app-kit's `/metrics` too) and serves it at `GET /openapi.json` (public). Every operation has an
 * `operationId`; public routes say `security: []`; error bodies are shared components; `GET /subscribe/{topic}`
 * answers `text/event-stream` (see {@link finishDocument}). `apps/gateway/openapi.json` is the committed copy
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
      transform: ({ schema, url, route }) => {
        const methods = typeof route.method === "string" ? [route.method] : route.method;
        const operationId =
          (schema as { operationId?: string } | undefined)?.operationId ?? OPERATION_IDS[`${methods[0]} ${url}`];
        const open = isPublicRoute(url, route.config as { public?: boolean } | undefined);
        return {
          schema: {
            ...schema,
            ...(operationId === undefined ? {} : { operationId }),
            ...(open ? { security: [] } : {}),
          },
          url,
        };
      },
      // Only OpenAPI (not Swagger 2) documents are generated here.
      transformObject: (document) =>
        finishDocument((document as { openapiObject: object }).openapiObject as OpenApiDocument, {
          errorCodes: options.errorCodes ?? {},
          eventStreams: ["subscribe"],
          plainText: { getMetrics: "Prometheus metrics in the text exposition format" },
          noRetryAfter: ["getReadiness"],
        }),
    });
    app.get(
      "/openapi.json",
      {
        schema: {
          operationId: "getOpenApi",
          summary: "This OpenAPI document",
          tags: ["docs"],
          response: { 200: Type.Object({}, { additionalProperties: true, description: "OpenAPI 3.0 document" }) },
        },
        config: { public: true },
      },
      async () => app.swagger(),
    );
  },
  { name: "kronos-gateway-openapi", fastify: "5.x" },
);
