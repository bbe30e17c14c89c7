import { fileURLToPath } from "node:url";
import { describeAppIntegration } from "@kronos/app-kit/testing";
import { buildApp, type Config, loadConfig } from "../src/app.js";

// The generic app suite runs the relay without routes: the manifest's routes would relay the shared stack's real
// topics. The relay's own tests (relay.int.test.ts) run routes on topics and exchanges of their own.
process.env.RELAY_ROUTES = "none";

describeAppIntegration({
  app: "relay",
  envPrefix: "RELAY",
  loadConfig,
  buildApp: (config: Config) => buildApp(config, { routes: [] }),
  serverPath: fileURLToPath(new URL("../dist/server.js", import.meta.url)),
});
