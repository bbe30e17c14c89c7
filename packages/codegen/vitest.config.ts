import { kronosVitestConfig } from "@kronos/testkit/vitest";

// The round-trip tests import what the generator wrote into test/generated: generate it before any test file loads.
export default kronosVitestConfig({ globalSetup: ["./test/global-setup.ts"] });
