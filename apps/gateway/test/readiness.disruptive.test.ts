import { describeAppDisruptive } from "@kronos/app-kit/testing";
import { buildApp, loadConfig } from "../src/app.js";

describeAppDisruptive({ app: "gateway", loadConfig, buildApp });
