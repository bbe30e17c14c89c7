import { fileURLToPath } from "node:url";
import { describeAppIntegration } from "@kronos/app-kit/testing";
import { buildApp, loadConfig } from "../src/app.js";

describeAppIntegration({
  app: "gateway",
  envPrefix: "GATEWAY",
  loadConfig,
  buildApp,
  serverPath: fileURLToPath(new URL("../dist/server.js", import.meta.url)),
});
