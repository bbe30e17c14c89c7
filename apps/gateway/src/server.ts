import { startServer } from "@kronos/app-kit";
import { buildApp, loadConfig } from "./app.js";

// Boots the gateway: configuration, listen, graceful shutdown on SIGTERM/SIGINT; with GATEWAY_WORKERS above 1, a
// node:cluster primary and that many workers on the one port. Everything else is in app.ts.
await startServer({ loadConfig, buildApp, workers: (config) => config.workers });
