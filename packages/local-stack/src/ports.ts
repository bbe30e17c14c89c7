import { spawnSync } from "node:child_process";
import { createConnection } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { StackError } from "./errors.js";

/** Resolves true when something accepts TCP connections on host:port within `timeoutMs`. */
export function isListening(port: number, host = "127.0.0.1", timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Best effort: which program listens on `port` ("pid 123, java"), from `ss`; undefined if unknown. */
export function portOwner(port: number): string | undefined {
  const ss = spawnSync("ss", ["-Hltnp", `sport = :${port}`], { encoding: "utf8" });
  if (ss.status !== 0) return undefined;
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(ss.stdout);
  return match ? `pid ${match[2]}, ${match[1]}` : undefined;
}

/**
 * Fails with a message naming the port when another program already listens on it.
 * @param variable the environment variable that moves this port elsewhere
 */
export async function assertPortFree(port: number, service: string, variable: string): Promise<void> {
  if (await isListening(port)) {
    const owner = portOwner(port);
    throw new StackError(
      `port ${port} is already in use${owner ? ` (by ${owner})` : ""}, so ${service} cannot start there. ` +
        `Stop that program, or give ${service} another port with ${variable}=<port>.`,
    );
  }
}

/**
 * Calls `probe` until it resolves true or `timeoutMs` passes.
 * @returns true if the probe succeeded in time
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  options: { intervalMs?: number; stillAlive?: () => boolean } = {},
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    if (options.stillAlive && !options.stillAlive()) return false;
    await sleep(options.intervalMs ?? 500);
  }
  return false;
}
