import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureVerdaccio } from "../downloads.js";
import { StackError } from "../errors.js";
import { assertPortFree, waitUntil } from "../ports.js";
import { isAlive, killProcess, runningPid, startDetached, stopProcess } from "../processes.js";
import type { StackSettings } from "../settings.js";
import type { ServiceStatus, StackService } from "./service.js";

const paths = (settings: StackSettings) => {
  const dir = join(settings.stateDir, "npm-registry");
  return {
    dir,
    configFile: join(dir, "config.yaml"),
    storage: join(dir, "storage"),
    pidFile: join(settings.stateDir, "run", "npm-registry.pid"),
    logFile: join(settings.stateDir, "logs", "npm-registry.log"),
  };
};

/**
 * What tells the stack's Verdaccio from another process: its command line holds the config file's path until
 * Verdaccio renames its process to its `web.title` (infra/local/verdaccio/config.yaml), which then names it.
 */
const markers = (settings: StackSettings) => [paths(settings).configFile, "Kronos npm registry"];

/** True when the npm registry at `port` answers its ping. */
export async function npmRegistryAnswers(port: number, timeoutMs = 2000): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/-/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The Verdaccio configuration for `settings`: infra/local/verdaccio/config.yaml with the state directory's storage. */
export function renderVerdaccioConfig(settings: StackSettings): string {
  const file = join(settings.infraDir, "verdaccio", "config.yaml");
  const template = readFileSync(file, "utf8");
  if (!/^storage: .*$/m.test(template))
    throw new StackError(`${file} has no "storage:" line to point at the state directory.`);
  return template.replace(/^storage: .*$/m, `storage: ${JSON.stringify(paths(settings).storage)}`);
}

/**
 * Verdaccio, a private npm registry, run with the machine's Node: it holds the `@kronos/*` packages that
 * `npm run release` publishes (storage under the state directory, kept across restarts) and proxies every other
 * package to the public registry, so a service outside the workspace installs everything from one URL.
 */
export const npmRegistryService: StackService = {
  name: "npm-registry",

  async up(settings) {
    const { dir, configFile, storage, pidFile, logFile } = paths(settings);
    if (runningPid(pidFile, "npm-registry", markers(settings)) !== undefined) {
      if (await waitUntil(() => npmRegistryAnswers(settings.npmRegistryPort), 30_000)) return;
      throw new StackError(
        `the npm registry (Verdaccio) is running but does not answer on port ${settings.npmRegistryPort}. See ${logFile}.`,
      );
    }
    const entry = ensureVerdaccio(settings);
    await assertPortFree(settings.npmRegistryPort, "the npm registry (Verdaccio)", "KRONOS_NPM_REGISTRY_PORT");
    mkdirSync(storage, { recursive: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(configFile, renderVerdaccioConfig(settings));
    const pid = startDetached({
      command: process.execPath,
      args: [entry, "--config", configFile, "--listen", `127.0.0.1:${settings.npmRegistryPort}`],
      cwd: dir,
      logFile,
      pidFile,
    });
    const ready = await waitUntil(() => npmRegistryAnswers(settings.npmRegistryPort), 60_000, {
      stillAlive: () => isAlive(pid),
    });
    if (!ready) {
      throw new StackError(
        `the npm registry (Verdaccio) did not answer on port ${settings.npmRegistryPort} within 60 s` +
          `${isAlive(pid) ? "" : " (it exited)"}. See ${logFile}.`,
      );
    }
  },

  async down(settings) {
    const { pidFile } = paths(settings);
    const pid = runningPid(pidFile, "npm-registry", markers(settings));
    if (pid !== undefined) await stopProcess(pid, pidFile);
  },

  async kill(settings) {
    const { pidFile } = paths(settings);
    const pid = runningPid(pidFile, "npm-registry", markers(settings));
    if (pid !== undefined) await killProcess(pid);
    return pid;
  },

  async status(settings): Promise<ServiceStatus> {
    const { pidFile, logFile } = paths(settings);
    const pid = runningPid(pidFile, "npm-registry", markers(settings));
    return {
      name: "npm-registry",
      ready: pid !== undefined && (await npmRegistryAnswers(settings.npmRegistryPort)),
      managed: true,
      ...(pid !== undefined ? { pid } : {}),
      endpoint: `http://127.0.0.1:${settings.npmRegistryPort}/`,
      detail: `Verdaccio ${settings.versions.verdaccio} (@kronos/* published here, the rest proxied to the public registry)`,
      logFile,
    };
  },
};
