import { spawn } from "node:child_process";
import { createServer } from "node:net";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import type { Env, ServiceConfig } from "../config.js";

/** What the shared suites need from an app. */
export interface AppTestSpec<C extends ServiceConfig = ServiceConfig> {
  /** The app's name (`gateway`). */
  readonly app: string;
  /** Reads the app's configuration (its `loadConfig`). */
  readonly loadConfig: (env: Env) => C;
  /** Builds the app (its `buildApp`). */
  readonly buildApp: (config: C) => Promise<FastifyInstance> | FastifyInstance;
}

/** The `/readyz` body. */
export interface ReadyzBody {
  status: "ok" | "unavailable";
  checks: Record<string, { ok: boolean; error?: string; durationMs: number }>;
}

/**
 * Calls `GET /readyz` until `accept` returns true for the response, or throws after `timeoutMs` with the last
 * answer in the message.
 */
export async function pollReadyz(
  app: FastifyInstance,
  accept: (statusCode: number, body: ReadyzBody) => boolean,
  timeoutMs: number,
  intervalMs = 500,
): Promise<{ statusCode: number; body: ReadyzBody }> {
  const deadline = Date.now() + timeoutMs;
  let last: LightMyRequestResponse | undefined;
  for (;;) {
    last = await app.inject({ method: "GET", url: "/readyz" });
    const body = last.json<ReadyzBody>();
    if (accept(last.statusCode, body)) return { statusCode: last.statusCode, body };
    if (Date.now() > deadline) {
      throw new Error(
        `/readyz did not reach the expected state in ${timeoutMs} ms; last: ${last.statusCode} ${last.body}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/** A child process running a built server, with its output collected. */
export interface ServerProcess {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (null when killed by a signal) once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts `node <serverPath>` with `env` added to this process's environment. */
export function startServerProcess(serverPath: string, env: Record<string, string>): ServerProcess {
  const child = spawn(process.execPath, [serverPath], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Resolves when `GET url` answers `expectedStatus`; throws after `timeoutMs`. */
export async function waitForHttp(url: string, timeoutMs: number, expectedStatus = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      await response.arrayBuffer();
      if (response.status === expectedStatus) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer ${expectedStatus} within ${timeoutMs} ms (${last})`);
}
