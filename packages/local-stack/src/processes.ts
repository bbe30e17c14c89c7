import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Every process the stack starts carries `-Dkronos.stack=<service>` on its command line. A pid file alone
 * is not proof (pids are reused); the marker is how `down` knows it stops exactly what `up` started.
 */
export function marker(service: string): string {
  return `-Dkronos.stack=${service}`;
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    // No /proc (macOS): ask ps.
    const ps = spawnSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" });
    return ps.status === 0 ? ps.stdout.trim() : undefined;
  }
}

/**
 * The pid in `pidFile` if that process is alive and is the stack's `service` (its command line holds one of
 * `expected`, by default the service's {@link marker}); otherwise undefined.
 */
export function runningPid(
  pidFile: string,
  service: string,
  expected: readonly string[] = [marker(service)],
): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmd = commandLine(pid);
  return cmd !== undefined && expected.some((text) => cmd.includes(text)) ? pid : undefined;
}

/**
 * Starts `command` detached from this process (it outlives the CLI), with stdout and stderr appended to
 * `logFile`, and records its pid in `pidFile`.
 */
export function startDetached(options: {
  command: string;
  args: string[];
  cwd: string;
  logFile: string;
  pidFile: string;
  env?: NodeJS.ProcessEnv;
}): number {
  mkdirSync(dirname(options.logFile), { recursive: true });
  mkdirSync(dirname(options.pidFile), { recursive: true });
  const log = openSync(options.logFile, "a");
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      detached: true,
      stdio: ["ignore", log, log],
      env: options.env ?? process.env,
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
    child.unref();
    writeFileSync(options.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True while `pid` is alive; false once it has exited. */
export function isAlive(pid: number): boolean {
  return alive(pid);
}

/**
 * Stops a process politely (SIGTERM: Kafka then closes its logs cleanly), and forcibly (SIGKILL) if it has
 * not exited after `graceMs`. Removes the pid file.
 */
export async function stopProcess(pid: number, pidFile: string, graceMs = 30_000): Promise<void> {
  if (alive(pid)) {
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (alive(pid) && Date.now() < deadline) await sleep(200);
    if (alive(pid)) {
      process.kill(pid, "SIGKILL");
      while (alive(pid)) await sleep(100);
    }
  }
  rmSync(pidFile, { force: true });
}

/** Kills `pid` with SIGKILL (no clean shutdown: a crash) and resolves once it has exited. */
export async function killProcess(pid: number, timeoutMs = 30_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid, "SIGKILL");
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive ${timeoutMs / 1000} s after SIGKILL`);
    await sleep(50);
  }
}
