import { fileURLToPath } from "node:url";
import { describeAppIntegration } from "@kronos/app-kit/testing";
import { afterAll } from "vitest";
import { buildApp, loadConfig } from "../src/app.js";
import { TestDatabase } from "./database.js";

const database = new TestDatabase();
afterAll(() => database.drop());

describeAppIntegration({
  app: "dlq-manager",
  envPrefix: "DLQ_MANAGER",
  // A database of this file's own, and no custody of the manifest's dead letters (other tests' and users').
  loadConfig: (env) => loadConfig({ DLQ_DATABASE_URL: database.url, DLQ_CATALOG_SOURCES: "false", ...env }),
  buildApp,
  extraChecks: ["postgres"],
  serverPath: fileURLToPath(new URL("../dist/server.js", import.meta.url)),
});
