// What the release tests share: a Verdaccio of their own, commands run as in a user's shell, and the example service
// installed from that Verdaccio with plain npm in a temporary folder.
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "@kronos/app-kit/testing";
import { loadSettings, startService, stopService } from "@kronos/local-stack";

/** The repository's root. */
export const root = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * The environment of a user's shell: without the `npm_config_*` variables npm sets for the scripts it runs (under
 * `npm test`, `npm_config_registry` would override the example's .npmrc and send its install to the public registry).
 */
export const shellEnv = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith("npm_config_")),
);

/** Runs a command in `cwd` with {@link shellEnv} (plus `env`); returns its stdout, throws with its output on failure. */
export function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...shellEnv, ...env }, timeout: 300_000 });
  const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${output.slice(-3000)}`);
  return result.stdout;
}

/** A fresh Verdaccio of the test's own (so what is tested is this checkout's packages, not ones published earlier). */
export interface TestNpmRegistry {
  readonly registry: { url: string; token: undefined };
  stop(): Promise<void>;
}

/** Starts {@link TestNpmRegistry} on a free port with a temporary state directory. */
export async function startTestNpmRegistry(): Promise<TestNpmRegistry> {
  const stateDir = mkdtempSync(join(tmpdir(), "kronos-release-registry-"));
  const port = await freePort();
  const settings = loadSettings({ ...process.env, KRONOS_STATE_DIR: stateDir, KRONOS_NPM_REGISTRY_PORT: String(port) });
  await startService("npm-registry", settings);
  return {
    registry: { url: `http://127.0.0.1:${port}/`, token: undefined },
    stop: async () => {
      await stopService("npm-registry", settings);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Copies `examples/gaia-alerts` into a new temporary folder, points `@kronos` at `registryUrl` as a service's
 * repository would (the rest comes from the public registry through npm's own cache: a fresh Verdaccio would fetch
 * every packument again, e.g. the megabytes of @types/node), lets `edit` change its package.json, and installs it
 * with plain npm. Returns the folder.
 */
export function installExample(registryUrl: string, edit: (pkg: Record<string, unknown>) => void = () => {}): string {
  const service = mkdtempSync(join(tmpdir(), "kronos-example-"));
  cpSync(join(root, "examples", "gaia-alerts"), service, {
    recursive: true,
    filter: (source) => !/node_modules|dist/.test(source.slice(root.length)),
  });
  const manifest = join(service, "package.json");
  const pkg = JSON.parse(readFileSync(manifest, "utf8")) as Record<string, unknown>;
  edit(pkg);
  writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
  writeFileSync(join(service, ".npmrc"), `@kronos:registry=${registryUrl}\n`);
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], service);
  return service;
}

/**
 * A temporary git repository holding a copy of this workspace's `schemas/` and of the workspace packages named in
 * `packages` (folder names under `packages/`, with their built `dist/`), the root's pnpm-workspace.yaml,
 * tsconfig.base.json and .gitignore, and each package's node_modules linked to the real one (its tools and
 * dependencies resolve as in the workspace). Nothing is committed yet. The real `schemas/` is never touched.
 */
export function copyWorkspace(packages: readonly string[]): { root: string; git: (...args: string[]) => string } {
  const copy = mkdtempSync(join(tmpdir(), "kronos-release-ws-"));
  const git = (...args: string[]) => run("git", args, copy);
  git("init", "--quiet", "--initial-branch=main");
  git("config", "user.email", "release@test.invalid");
  git("config", "user.name", "Release test");
  git("config", "commit.gpgsign", "false");
  for (const file of ["pnpm-workspace.yaml", "tsconfig.base.json", ".gitignore"]) {
    cpSync(join(root, file), join(copy, file));
  }
  cpSync(join(root, "schemas"), join(copy, "schemas"), { recursive: true });
  for (const name of packages) {
    const from = join(root, "packages", name);
    const to = join(copy, "packages", name);
    cpSync(from, to, {
      recursive: true,
      filter: (source) => !/[/\\](node_modules|\.turbo)([/\\]|$)/.test(source.slice(from.length)),
    });
    symlinkSync(join(from, "node_modules"), join(to, "node_modules"));
  }
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"));
  return { root: copy, git };
}
