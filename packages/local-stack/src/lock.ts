import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { StackError } from "./errors.js";
import { isAlive } from "./processes.js";

/**
 * Runs `work` while holding an exclusive lock file, so that several test processes calling `ensureStackUp` at
 * once start each service only once. A lock left by a process that died is taken over.
 */
export async function withLock<T>(lockFile: string, work: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  mkdirSync(dirname(lockFile), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(lockFile, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lockFile, "utf8").trim() || "0");
      if (!holder || !isAlive(holder)) {
        rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StackError(`another stack command (pid ${holder}) has held ${lockFile} for too long.`);
      }
      await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockFile, { force: true });
  }
}
