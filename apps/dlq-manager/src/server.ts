import { startServer } from "@kronos/app-kit";
import { buildApp, loadConfig } from "./app.js";

// Boots the dlq-manager: configuration, listen, graceful shutdown on SIGTERM/SIGINT. Everything else is in app.ts.
await startServer({ loadConfig, buildApp });
