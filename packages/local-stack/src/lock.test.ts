import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { withLock } from "./lock.js";

describe("withLock", () => {
  it("runs concurrent callers one at a time", async () => {
    const lock = join(mkdtempSync(join(tmpdir(), "lock-")), "stack.lock");
    const events: string[] = [];
    const worker = (name: string) =>
      withLock(lock, async () => {
        events.push(`${name}:start`);
        await sleep(30);
        events.push(`${name}:end`);
      });
    await Promise.all([worker("a"), worker("b")]);
    expect(events).toEqual(["a:start", "a:end", "b:start", "b:end"]);
  });

  it("takes over a lock left by a process that no longer exists", async () => {
    const lock = join(mkdtempSync(join(tmpdir(), "lock-")), "stack.lock");
    writeFileSync(lock, "999999999");
    await expect(withLock(lock, async () => "ran", 2000)).resolves.toBe("ran");
  });
});
