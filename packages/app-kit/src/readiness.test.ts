import { describe, expect, it } from "vitest";
import { Readiness } from "./readiness.js";

describe("Readiness", () => {
  it("is ready when every check passes", async () => {
    const readiness = new Readiness(100);
    readiness.add("a", async () => {});
    const report = await readiness.run();
    expect(report.ready).toBe(true);
    expect(report.checks.a?.ok).toBe(true);
  });

  it("names the failing check and its error", async () => {
    const readiness = new Readiness(100);
    readiness.add("a", async () => {});
    readiness.add("b", async () => {
      throw new Error("b is down");
    });
    const report = await readiness.run();
    expect(report.ready).toBe(false);
    expect(report.checks.b).toMatchObject({ ok: false, error: "b is down" });
  });

  it("never hangs on a check that ignores its timeout", async () => {
    const readiness = new Readiness(50);
    readiness.add("stuck", () => new Promise(() => {}));
    const started = Date.now();
    const report = await readiness.run();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(report.checks.stuck?.error).toMatch(/timed out/);
  });

  it("refuses two checks of one name", () => {
    const readiness = new Readiness();
    readiness.add("a", async () => {});
    expect(() => readiness.add("a", async () => {})).toThrow(/already registered/);
  });
});
