import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type ViteUserConfig } from "vitest/config";

// Built: dist/global-setup.js. Loaded from source by testkit's own vitest config: src/global-setup.ts.
const here = fileURLToPath(new URL(".", import.meta.url));
const globalSetup = existsSync(join(here, "global-setup.js"))
  ? join(here, "global-setup.js")
  : join(here, "global-setup.ts");

/**
 * The vitest configuration every Kronos package uses. Three projects, by scope:
 * - `unit`: `src/**\/*.test.ts` and `test/**\/*.unit.test.ts`; no network.
 * - `integration`: `test/**\/*.int.test.ts`, against the real Kafka, RabbitMQ and registry, which the global
 *   setup brings up first (once per run). Tests use unique names, so files run in parallel.
 * - `disruptive`: `test/**\/*.disruptive.test.ts`, tests that stop and start stack services. One file at a time,
 *   and `npm test` runs them after every other test.
 */
export function kronosVitestConfig(overrides: ViteUserConfig["test"] = {}): ViteUserConfig {
  return defineConfig({
    test: {
      ...overrides,
      projects: [
        {
          extends: true,
          // CI machines are shared and two-core: a generous timeout keeps CPU-heavy unit tests (fuzz, properties)
          // from failing on load alone; what they assert does not depend on time.
          test: { name: "unit", include: ["src/**/*.test.ts", "test/**/*.unit.test.ts"], testTimeout: 60_000 },
        },
        {
          extends: true,
          test: {
            name: "integration",
            include: ["test/**/*.int.test.ts"],
            globalSetup: [globalSetup],
            testTimeout: 60_000,
            hookTimeout: 180_000,
          },
        },
        {
          extends: true,
          test: {
            name: "disruptive",
            include: ["test/**/*.disruptive.test.ts"],
            globalSetup: [globalSetup],
            // Disruptive files run one after another (one worker; each file still gets a fresh one).
            fileParallelism: false,
            testTimeout: 300_000,
            hookTimeout: 300_000,
          },
        },
      ],
    },
  });
}
