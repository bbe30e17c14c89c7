#!/usr/bin/env node
// The root commands (`npm start`, `npm test`, `npm run stack`). This file has no dependencies on purpose:
// it runs on a fresh clone, before anything is installed, and installs what the rest needs.
//
//   npm start            install if needed, bring the local stack up, build, run the three apps
//   npm test             install if needed, bring the local stack up, lint, typecheck, every test
//   npm run stack -- X   the local stack command (up | down | status | logs | restart), see --help
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const rootPackage = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const PNPM_VERSION = String(rootPackage.packageManager).replace(/^pnpm@/, "");
const cacheDir = process.env.KRONOS_CACHE_DIR || join(homedir(), ".cache", "kronos");
const STACK_CLI = join(root, "packages", "local-stack", "dist", "cli.js");
const SCHEMAS_CLI = join(root, "packages", "schema-cli", "bin", "kronos-schemas.js");
const PRINCIPALS_CLI = join(root, "apps", "gateway", "bin", "kronos-gateway-principals.js");

const USAGE = `Usage: node scripts/kronos.mjs <command>

Commands:
  start            Install dependencies if missing, bring the local stack up, build, create the
                   gateway's development API key (principal "dev", once), and run gateway (:3000,
                   one worker per core: GATEWAY_WORKERS=auto, REDIS_URL the stack's), relay (:3001)
                   and dlq-manager (:3002) in the foreground.
  test             Install dependencies (and promtool, for the alert rules) if missing, bring the
                   local stack up, then lint, typecheck and run every test (unit, integration,
                   then the disruptive ones).
                   start and test install stunnel (Debian's stunnel4: RabbitMQ's TLS front) if missing.
  stack <args>     The local stack command: up | down | status | logs [service] | restart <service>.
  schemas <args>   The schema catalog command: validate | generate | register (see \`schemas help\`).
  bench [names]    Bring the stack up, build, and run the benchmarks: all of them (codec, publish,
                   subscribe, request, relay, dlq), or the named ones (npm run bench -- relay);
                   each prints ratios against a baseline measured in the same run. relay and dlq
                   take --count (messages per leg): npm run bench -- relay --count 5000.
  battery [names]  Bring the stack up, build, and run the reliability battery: scenarios that kill
                   and restart the stack's brokers under load through the real apps and count what
                   was lost (npm run battery -- kafka-kill --short; --help lists them).
  release [opts]   Publish the typed event packages and @kronos/contracts whose versions are not in
                   the npm registry yet: the local stack's (started if needed) unless --registry
                   says otherwise; --base <ref> lets schema review set versions and changelogs;
                   --dry-run prints what it would publish (npm run release -- --help).
  help             This text.

Environment: KRONOS_CACHE_DIR (downloads, default ~/.cache/kronos), KRONOS_STATE_DIR
(stack data, logs and pid files, default ~/.local/state/kronos).`;

function fail(message) {
  console.error(`\n✖ ${message}`);
  process.exit(1);
}

function step(message) {
  console.log(`\n▶ ${message}`);
}

/** Runs a command with inherited stdio; exits this process with its status when it fails. */
function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, env: process.env, ...options });
  if (result.error) fail(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    process.exit(result.status ?? 1);
  }
}

function checkNode() {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20) fail(`Node ${process.versions.node} is too old: install Node 20 or newer.`);
}

/**
 * Finds pnpm at the version package.json names, or installs it with npm into the cache (corepack's
 * signature check fails on our machines, and a global install would touch the user's system).
 * Puts its bin folder first on PATH so turbo and package scripts find the same pnpm.
 */
function ensurePnpm() {
  const onPath = spawnSync("pnpm", ["--version"], { encoding: "utf8" });
  if (onPath.status === 0 && onPath.stdout.trim() === PNPM_VERSION) return;
  const prefix = join(cacheDir, "tools", `pnpm-${PNPM_VERSION}`);
  const bin = join(prefix, "node_modules", ".bin");
  if (!existsSync(join(bin, "pnpm"))) {
    step(`Installing pnpm ${PNPM_VERSION} into ${prefix}`);
    // Install into a temporary folder and rename it into place, so an interrupted install leaves nothing half-done.
    const partial = `${prefix}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    const npm = spawnSync(
      "npm",
      ["install", "--prefix", partial, "--no-audit", "--no-fund", "--loglevel=error", `pnpm@${PNPM_VERSION}`],
      { stdio: "inherit" },
    );
    if (npm.status !== 0) fail(`npm could not install pnpm ${PNPM_VERSION}: check your access to the npm registry.`);
    rmSync(prefix, { recursive: true, force: true });
    renameSync(partial, prefix);
  }
  process.env.PATH = `${bin}:${process.env.PATH}`;
}

/** Whether `command` runs (found on PATH and answers `args`). */
function runs(command, args) {
  return spawnSync(command, args, { stdio: "ignore" }).status === 0;
}

/**
 * Makes sure `promtool` is on PATH: `npm test` checks and unit-tests the Prometheus alert rules with it. It comes
 * from Debian's `prometheus` package, installed with apt-get when we are root (`apt-get update` first if the install
 * fails for lack of package lists); otherwise this stops and says how to install it. The package's service is not
 * left running: Debian's policy-rc.d usually keeps it from starting, and if it started anyway it is stopped, so it
 * never holds port 9090 (the compose stack's Prometheus).
 */
function ensurePromtool() {
  if (runs("promtool", ["--version"])) return;
  const manual =
    "promtool (Prometheus' rule checker) is missing: install Debian's prometheus package " +
    "(sudo apt-get install --no-install-recommends prometheus) or put promtool from " +
    "https://prometheus.io/download/ on PATH, then run this again.";
  aptInstall("prometheus", "promtool", manual);
  // Only the rule checker is wanted: stop the server the package may have started.
  if (runs("systemctl", ["is-active", "--quiet", "prometheus"])) spawnSync("systemctl", ["stop", "prometheus"]);
  else spawnSync("service", ["prometheus", "stop"], { stdio: "ignore" });
  if (!runs("promtool", ["--version"]))
    fail(`the prometheus package is installed but promtool does not run. ${manual}`);
}

/**
 * Installs Debian package `pkg` (for `what`) with apt-get when we are root (`apt-get update` first if the install
 * fails for lack of package lists); otherwise, or if apt-get cannot, stops with `manual` (how to install it).
 */
function aptInstall(pkg, what, manual) {
  if (process.getuid?.() !== 0 || !runs("apt-get", ["--version"])) fail(manual);
  step(`Installing ${what} (apt-get install --no-install-recommends ${pkg})`);
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "--no-install-recommends", pkg], {
      stdio: "inherit",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    }).status === 0;
  if (!install()) {
    step("apt-get update (the package lists may be missing)");
    spawnSync("apt-get", ["update"], { stdio: "inherit" });
    if (!install()) fail(`apt-get could not install the ${pkg} package. ${manual}`);
  }
}

/**
 * Makes sure `stunnel` is on PATH: the local stack's amqps listener (RabbitMQ over TLS, service `rabbitmq-tls`) is
 * Debian's stunnel in front of the machine's RabbitMQ. Installed from the `stunnel4` package like promtool; the
 * package runs nothing by itself (no configuration in /etc/stunnel).
 */
function ensureStunnel() {
  if (runs("stunnel", ["-version"])) return;
  const manual =
    "stunnel (the TLS front of the local stack's RabbitMQ) is missing: install Debian's stunnel4 package " +
    "(sudo apt-get install --no-install-recommends stunnel4; macOS: brew install stunnel), then run this again.";
  aptInstall("stunnel4", "stunnel, RabbitMQ's TLS front", manual);
  if (!runs("stunnel", ["-version"])) fail(`the stunnel4 package is installed but stunnel does not run. ${manual}`);
}

function install() {
  step("Installing dependencies (pnpm install --frozen-lockfile)");
  run("pnpm", ["install", "--frozen-lockfile", "--prefer-offline"]);
}

function buildStackTool() {
  run("pnpm", ["turbo", "run", "build", "--filter=@kronos/local-stack", "--output-logs=errors-only"]);
}

function stack(args) {
  run(process.execPath, [STACK_CLI, ...args]);
}

function schemas(args) {
  run("pnpm", ["turbo", "run", "build", "--filter=@kronos/schema-cli", "--output-logs=errors-only"]);
  run(process.execPath, [SCHEMAS_CLI, ...args]);
}

function setup() {
  checkNode();
  ensurePnpm();
  ensureStunnel();
  install();
  buildStackTool();
}

/** Runs a step; on failure remembers it and goes on, so one run reports every failing step. */
function attempt(failures, name, command, args) {
  const result = spawnSync(command, args, { stdio: "inherit", cwd: root, env: process.env });
  if (result.error || result.status !== 0) failures.push(name);
}

function test() {
  setup();
  ensurePromtool();
  step("Bringing the local stack up");
  stack(["up"]);
  const failures = [];
  step("Lint and format check (biome ci)");
  attempt(failures, "lint", "pnpm", ["lint"]);
  step("Typecheck and tests (turbo)");
  // Concurrency 2: the machines have two cores, and the brokers need some of them too.
  attempt(failures, "typecheck and tests", "pnpm", [
    "turbo",
    "run",
    "typecheck",
    "test",
    "--concurrency=2",
    "--continue",
    "--output-logs=new-only",
  ]);
  step("Disruptive tests (they stop and start stack services, so they run one at a time)");
  attempt(failures, "disruptive tests", "pnpm", [
    "turbo",
    "run",
    "test:disruptive",
    "--concurrency=1",
    "--continue",
    "--output-logs=new-only",
  ]);
  if (failures.length > 0) fail(`failed: ${failures.join(", ")} (see the output above)`);
  console.log("\n✔ lint, typecheck and every test passed");
}

function start() {
  setup();
  step("Bringing the local stack up");
  stack(["up"]);
  step("Building");
  run("pnpm", ["turbo", "run", "build", "--output-logs=errors-only"]);
  step("Registering the catalog's schemas in the registry (idempotent)");
  run(process.execPath, [SCHEMAS_CLI, "register"]);
  // The apps refuse requests without credentials; a development principal makes them usable (never open). The
  // gateway, the relay and the dlq-manager share the principals file, so one key serves all three.
  step('The apps\' development principal "dev" (created once; its key is printed only then)');
  const devRights = "produce:*,consume:*,admin,dlq:read,dlq:replay,dlq:discard";
  run(process.execPath, [PRINCIPALS_CLI, "add", "dev", "--acl", devRights, "--if-missing"]);
  step("Starting the apps (Ctrl-C stops them; the stack keeps running: `npm run stack -- down` stops it)");
  // The gateway runs one worker per core; its workers share deliveries and rate limits through the stack's Redis.
  const env = {
    ...process.env,
    GATEWAY_WORKERS: process.env.GATEWAY_WORKERS || "auto",
    REDIS_URL: process.env.REDIS_URL || "redis://127.0.0.1:6379",
  };
  const child = spawn(process.execPath, [join(root, "scripts", "run-apps.mjs")], { stdio: "inherit", cwd: root, env });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

const RELEASE_CLI = join(root, "packages", "release", "bin", "kronos-release.js");

function release(args) {
  setup();
  if (args.some((arg) => arg === "--help" || arg === "-h")) {
    run("pnpm", ["turbo", "run", "build", "--filter=@kronos/release", "--output-logs=errors-only"]);
    run(process.execPath, [RELEASE_CLI, "--help"]);
    return;
  }
  // The stack's npm registry is the default destination; another registry needs no stack.
  if (!args.includes("--registry") && !process.env.KRONOS_NPM_REGISTRY_URL) {
    step("Bringing the local stack up (its npm registry receives the release)");
    stack(["up"]);
  }
  step("Building the packages to publish");
  run("pnpm", ["turbo", "run", "build", "--filter=@kronos/release...", "--output-logs=errors-only"]);
  step("Releasing");
  run(process.execPath, [RELEASE_CLI, "--no-build", ...args]);
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case "start":
    start();
    break;
  case "test":
    test();
    break;
  case "stack":
    setup();
    stack(rest);
    break;
  case "schemas":
    setup();
    schemas(rest);
    break;
  case "bench":
    setup();
    stack(["up"]);
    run("pnpm", ["turbo", "run", "build", "--filter=@kronos/benchmarks...", "--output-logs=errors-only"]);
    run("pnpm", ["--filter", "@kronos/benchmarks", "--silent", "bench", ...rest]);
    break;
  case "release":
    release(rest);
    break;
  case "battery":
    if (rest.some((arg) => arg === "--help" || arg === "-h")) {
      setup();
      run("pnpm", ["--filter", "@kronos/benchmarks", "--silent", "battery", "--help"]);
      break;
    }
    setup();
    stack(["up"]);
    run("pnpm", ["turbo", "run", "build", "--filter=@kronos/benchmarks...", "--output-logs=errors-only"]);
    run("pnpm", ["--filter", "@kronos/benchmarks", "--silent", "battery", ...rest]);
    break;
  case undefined:
  case "help":
  case "--help":
  case "-h":
    console.log(USAGE);
    break;
  default:
    console.error(USAGE);
    fail(`unknown command "${command}"`);
}
