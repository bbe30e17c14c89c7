import { defineConfig } from "vitest/config";

// The same three projects as @kronos/testkit/vitest (which this package cannot use: testkit depends on it).
const globalSetup = ["./test/global-setup.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["src/**/*.test.ts", "test/**/*.unit.test.ts"], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.int.test.ts"],
          globalSetup,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        extends: true,
        test: {
          name: "disruptive",
          include: ["test/**/*.disruptive.test.ts"],
          globalSetup,
          // Disruptive files run one after another.
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
