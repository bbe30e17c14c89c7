import { readFileSync } from "node:fs";
import { join } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { KronosApp } from "@kronos/app-kit";
import { testEndpoints } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, loadConfig } from "../src/app.js";
import { GATEWAY_ERRORS } from "../src/errors.js";
import { PUBLISH_ERROR_CODES, REQUEST_ERROR_CODES } from "../src/messages/index.js";
import { tempPrincipalsFile } from "./helpers.js";

interface Operation {
  operationId?: string;
  security?: unknown[];
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: object }>;
}

describe("OpenAPI document", () => {
  let app: KronosApp;
  let document: Record<string, unknown> & { paths: Record<string, Record<string, Operation>> };
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
    );

  beforeAll(async () => {
    const endpoints = testEndpoints();
    app = await buildApp(
      loadConfig({
        KAFKA_BROKERS: endpoints.kafkaBrokers,
        SCHEMA_REGISTRY_URL: endpoints.registryUrl,
        RABBITMQ_URL: endpoints.rabbitmqUrl,
        LOG_LEVEL: "silent",
        GATEWAY_PRINCIPALS_FILE: tempPrincipalsFile(),
      }),
    );
    await app.ready();
    document = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
  });
  afterAll(async () => {
    await app?.close();
  });

  it("is served at GET /openapi.json without credentials, generated from the route schemas", async () => {
    const response = await app.inject({ method: "GET", url: "/openapi.json" });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toMatch(/^3\./);
    const publish = document.paths["/publish"].post;
    expect(Object.keys(publish.responses)).toEqual(expect.arrayContaining(["202", "400", "403", "422", "503"]));
    expect(publish.requestBody.content["application/json"].schema.required).toEqual(["topic", "payload"]);
    expect(document.paths["/publish/batch"].post.responses["207"]).toBeDefined();
    // The document is built from every route: app-kit's /metrics (registered first) too.
    expect(document.paths["/metrics"].get.operationId).toBe("getMetrics");
  });

  it("equals the committed apps/gateway/openapi.json (rewrite it with `pnpm --filter @kronos/gateway openapi`)", async () => {
    const served = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    const committed = JSON.parse(readFileSync(join(import.meta.dirname, "..", "openapi.json"), "utf8"));
    expect(served).toEqual(committed);
  });

  it("is valid OpenAPI 3.0 for a maintained validator (swagger-parser), with zero errors", async () => {
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it("gives every operation its own operationId", () => {
    const ids = operations().map(({ operation }) => operation.operationId);
    expect(ids.every((id) => typeof id === "string" && id !== "")).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("declares the public routes with security: [] and every other one with the document's security", () => {
    const open = operations()
      .filter(({ operation }) => Array.isArray(operation.security) && operation.security.length === 0)
      .map(({ method, path }) => `${method} ${path}`)
      .sort();
    expect(open).toEqual(["get /healthz", "get /metrics", "get /openapi.json", "get /readyz"]);
    expect(document.security).toEqual([{ bearer: [] }, { apiKey: [] }]);
  });

  it("declares GET /subscribe/{topic} as text/event-stream", () => {
    const ok = document.paths["/subscribe/{topic}"]?.get?.responses["200"];
    expect(Object.keys(ok?.content ?? {})).toEqual(["text/event-stream"]);
  });

  it("shares the error bodies as components", () => {
    const text = JSON.stringify(document.paths);
    expect(text).toContain('"#/components/schemas/ErrorBody"');
    expect(text).toContain('"#/components/schemas/UnprocessableBody"');
    expect(text).not.toContain("Stable error code, e.g. NOT_FOUND");
  });

  it("lists each message route's codes under the status the table gives, Retry-After exactly on the retriable", () => {
    const routes = [
      ["/publish", PUBLISH_ERROR_CODES],
      ["/publish/batch", PUBLISH_ERROR_CODES],
      ["/request", REQUEST_ERROR_CODES],
    ] as const;
    for (const [path, routeCodes] of routes) {
      const responses = document.paths[path]?.post?.responses ?? {};
      for (const code of routeCodes) {
        const { status, retriable } = GATEWAY_ERRORS[code];
        const response = responses[String(status)];
        expect(response?.description, `${path} ${code}`).toContain(code);
        expect(response?.headers?.["Retry-After"] !== undefined, `${path} ${code}`).toBe(retriable);
      }
    }
  });
});
