import { fileURLToPath } from "node:url";
import type { EventDescriptor } from "@kronos/contracts";
import { describeEventConformance } from "@kronos/contracts/conformance";
import { describeRegisteredSchemas } from "@kronos/schema-cli/testing";
import * as exported from "../src/index.js";

const events = (Object.values(exported) as unknown[]).filter(
  (value): value is EventDescriptor<unknown> => typeof value === "object" && value !== null && "subject" in value,
);

describeEventConformance(events, { fixturesFile: fileURLToPath(new URL("./wire-fixtures.json", import.meta.url)) });
describeRegisteredSchemas(events);
