import { startServer } from "@kronos/app-kit";
import { buildApp, loadConfig } from "./app.js";

// Boots the relay: configuration, listen, graceful shutdown on SIGTERM/SIGINT. Everything else is in app.ts.
await startServer({ loadConfig, buildApp });
