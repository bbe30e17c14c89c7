import { kronosVitestConfig } from "@kronos/testkit/vitest";

export default kronosVitestConfig();
