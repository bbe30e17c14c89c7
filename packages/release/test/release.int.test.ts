// The release on the real thing: the packages published to a Verdaccio of its own (a fresh one, so what is tested
// is this checkout's code, not a version published earlier), then a service outside the workspace installs them
// from there with plain npm, type-checks against them and talks to the real Kafka and schema registry.
import { rmSync } from "node:fs";
import { testEndpoints, uniqueName } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishedVersions } from "../src/npm-registry.js";
import { release } from "../src/release.js";
import { publishablePackages } from "../src/workspace.js";
import { installExample, root, run, startTestNpmRegistry, type TestNpmRegistry } from "./release-fixture.js";

const schemaRegistry = testEndpoints().registryUrl;
/** Packing eight packages (twice, for the idempotent run) took 46–66 s on a loaded 2-core machine: over vitest's 60 s. */
const RELEASE_TIMEOUT_MS = 180_000;

describe("npm run release, and a service outside the workspace installing what it published", () => {
  let npm: TestNpmRegistry;
  let registry: TestNpmRegistry["registry"];
  const expected = publishablePackages(root).map((p) => `${p.name}@${p.version}`);

  beforeAll(async () => {
    npm = await startTestNpmRegistry();
    registry = npm.registry;
  }, 180_000);

  afterAll(async () => {
    await npm?.stop();
  });

  it(
    "a dry run packs and checks every package and publishes nothing",
    async () => {
      const result = await release({ root, registry, schemaRegistry, dryRun: true, build: false });
      expect(result.packages.filter((p) => p.action === "publish").map((p) => `${p.name}@${p.version}`)).toEqual(
        expected,
      );
      expect(result.published).toEqual([]);
      expect(await publishedVersions(registry, "@kronos/contracts")).toEqual([]);
    },
    RELEASE_TIMEOUT_MS,
  );

  it(
    "publishes every package, contracts first, and a second run publishes nothing",
    async () => {
      const first = await release({ root, registry, schemaRegistry, build: false });
      expect(first.published).toEqual(expected);
      for (const pkg of publishablePackages(root)) {
        expect(await publishedVersions(registry, pkg.name)).toEqual([pkg.version]);
      }
      const again = await release({ root, registry, schemaRegistry, build: false });
      expect(again.published).toEqual([]);
      expect(again.packages.every((p) => p.action === "already-published")).toBe(true);
    },
    RELEASE_TIMEOUT_MS,
  );

  it(
    "a service installs the packages with plain npm, type-checks and sends and reads an alert",
    () => {
      const service = installExample(registry.url);
      try {
        // skipLibCheck is off in the example: a package shipping a broken or missing declaration fails here.
        run("npx", ["tsc", "-p", "."], service);
        const { kafkaBrokers, registryUrl } = testEndpoints();
        const topic = uniqueName("example.gaia.alerts");
        const line = run("node", ["dist/main.js"], service, {
          KAFKA_BROKERS: kafkaBrokers,
          SCHEMA_REGISTRY_URL: registryUrl,
          TOPIC: topic,
        });
        const read = JSON.parse(line.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
        expect(read).toMatchObject({ topic, subject: "kronos.gaia.CriticalAlert", severity: "CRITICAL" });
        expect(read.labels).toEqual({ rule: "auth-brute-force", region: "eu-west-1" });
        // The installed package knows which registered version of each event it was released against, and the
        // registry's latest is readable by it.
        const report = run(
          "npx",
          ["--no-install", "kronos-check-registry", "--json", "--registry", registryUrl],
          service,
        );
        const checks = JSON.parse(report) as Array<{
          event: string;
          pinned: number;
          latest: number;
          readable: boolean;
        }>;
        const alert = checks.find((check) => check.event === "kronos.gaia.CriticalAlert");
        expect(alert?.readable).toBe(true);
        expect(alert?.pinned).toBeTypeOf("number");
        expect(alert?.latest).toBeGreaterThanOrEqual(alert?.pinned ?? Number.POSITIVE_INFINITY);
      } finally {
        rmSync(service, { recursive: true, force: true });
      }
    },
    RELEASE_TIMEOUT_MS,
  );
});
