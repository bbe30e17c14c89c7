import { describeAppDisruptive } from "@kronos/app-kit/testing";
import { afterAll } from "vitest";
import { buildApp, loadConfig } from "../src/app.js";
import { TestDatabase } from "./database.js";

const database = new TestDatabase();
afterAll(() => database.drop());

describeAppDisruptive({
  app: "dlq-manager",
  // A database of this file's own, and no custody of the manifest's dead letters (other tests' and users').
  loadConfig: (env) => loadConfig({ DLQ_DATABASE_URL: database.url, DLQ_CATALOG_SOURCES: "false", ...env }),
  buildApp,
});
