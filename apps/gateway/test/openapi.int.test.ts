import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { KronosApp } from "@kronos/app-kit";
import { testEndpoints } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, loadConfig } from "../src/app.js";
import { tempPrincipalsFile } from "./helpers.js";

describe("OpenAPI document", () => {
  let app: KronosApp;
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
  });

  it("equals the committed apps/gateway/openapi.json (rewrite it with `pnpm --filter @kronos/gateway openapi`)", async () => {
    const served = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    const committed = JSON.parse(readFileSync(join(import.meta.dirname, "..", "openapi.json"), "utf8"));
    expect(served).toEqual(committed);
  });
});
