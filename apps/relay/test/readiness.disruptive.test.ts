import { describeAppDisruptive } from "@kronos/app-kit/testing";
import { buildApp, type Config, loadConfig } from "../src/app.js";

describeAppDisruptive({ app: "relay", loadConfig, buildApp: (config: Config) => buildApp(config, { routes: [] }) });
