// The release on the real thing: the packages published to a Verdaccio of its own (a fresh one, so what is tested
// is this checkout's code, not a version published earlier), then a service outside the workspace installs them
// from there with plain npm, type-checks against them and talks to the real Kafka and schema registry.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@kronos/app-kit/testing";
import { loadSettings, startService, stopService } from "@kronos/local-stack";
import { testEndpoints, uniqueName } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { publishedVersions } from "../src/npm-registry.js";
import { release } from "../src/release.js";
import { publishablePackages } from "../src/workspace.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const schemaRegistry = testEndpoints().registryUrl;

/**
 * The environment of a user's shell: without the `npm_config_*` variables npm sets for the scripts it runs (under
 * `npm test`, `npm_config_registry` would override the example's .npmrc and send its install to the public registry).
 */
const shellEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_config_")),
);

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...shellEnv, ...env }, timeout: 300_000 });
  const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${output.slice(-3000)}`);
  return result.stdout;
}

describe("npm run release, and a service outside the workspace installing what it published", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "kronos-release-registry-"));
  let settings: ReturnType<typeof loadSettings>;
  let registry: { url: string; token: undefined };
  const expected = publishablePackages(root).map((p) => `${p.name}@${p.version}`);

  beforeAll(async () => {
    const port = await freePort();
    settings = loadSettings({ ...process.env, KRONOS_STATE_DIR: stateDir, KRONOS_NPM_REGISTRY_PORT: String(port) });
    await startService("npm-registry", settings);
    registry = { url: `http://127.0.0.1:${port}/`, token: undefined };
  }, 180_000);

  afterAll(async () => {
    if (settings) await stopService("npm-registry", settings);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("a dry run packs and checks every package and publishes nothing", async () => {
    const result = await release({ root, registry, schemaRegistry, dryRun: true, build: false });
    expect(result.packages.filter((p) => p.action === "publish").map((p) => `${p.name}@${p.version}`)).toEqual(
      expected,
    );
    expect(result.published).toEqual([]);
    expect(await publishedVersions(registry, "@kronos/contracts")).toEqual([]);
  });

  it("publishes every package, contracts first, and a second run publishes nothing", async () => {
    const first = await release({ root, registry, schemaRegistry, build: false });
    expect(first.published).toEqual(expected);
    for (const pkg of publishablePackages(root)) {
      expect(await publishedVersions(registry, pkg.name)).toEqual([pkg.version]);
    }
    const again = await release({ root, registry, schemaRegistry, build: false });
    expect(again.published).toEqual([]);
    expect(again.packages.every((p) => p.action === "already-published")).toBe(true);
  });

  it("a service installs the packages with plain npm, type-checks and sends and reads an alert", () => {
    const service = mkdtempSync(join(tmpdir(), "kronos-example-"));
    try {
      cpSync(join(root, "examples", "gaia-alerts"), service, {
        recursive: true,
        filter: (source) => !/node_modules|dist/.test(source.slice(root.length)),
      });
      // As a service's repository would (the root README's quick start): @kronos/* from the Kronos registry, the rest
      // from the public one through npm's own cache (a fresh Verdaccio would fetch every packument again, e.g. the
      // megabytes of @types/node, on each run).
      writeFileSync(join(service, ".npmrc"), `@kronos:registry=${registry.url}\n`);
      run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], service);
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
      const checks = JSON.parse(report) as Array<{ event: string; pinned: number; latest: number; readable: boolean }>;
      const alert = checks.find((check) => check.event === "kronos.gaia.CriticalAlert");
      expect(alert?.readable).toBe(true);
      expect(alert?.pinned).toBeTypeOf("number");
      expect(alert?.latest).toBeGreaterThanOrEqual(alert?.pinned ?? Number.POSITIVE_INFINITY);
    } finally {
      rmSync(service, { recursive: true, force: true });
    }
  });
});
