import { describe, expect, it } from "vitest";
import { compileGlob, isAllowed, neededRight, parseRight } from "./acl.js";

describe("destination globs", () => {
  it.each([
    ["kronos.log.*", "kronos.log.app", true],
    ["kronos.log.*", "kronos.log.app.errors", true],
    ["kronos.log.*", "kronos.log", false],
    ["kronos.log.*", "kronos.logs.app", false],
    ["kronos.*", "kronos.gaia.alerts", true],
    ["kronos.log.?", "kronos.log.a", true],
    ["kronos.log.?", "kronos.log.ab", false],
    ["*", "anything.at-all", true],
    ["kronos.log", "kronos.log", true],
    ["kronos.log", "kronosXlog", false],
    ["kronos.log", "kronos.log.app", false],
  ])("%s matches %s: %s", (glob, name, expected) => {
    expect(compileGlob(glob)?.test(name)).toBe(expected);
  });

  it("refuses characters a destination never has", () => {
    expect(compileGlob("kronos log")).toBeUndefined();
    expect(compileGlob("a(b)")).toBeUndefined();
  });
});

describe("rights", () => {
  it("parses admin, produce:<glob> and consume:<glob>, nothing else", () => {
    expect(parseRight("admin")).toEqual({ action: "admin" });
    expect(parseRight("produce:kronos.*")?.action).toBe("produce");
    expect(parseRight("consume:q")?.action).toBe("consume");
    for (const bad of ["", "Admin", "produce", "produce:", "publish:x", "consume: x", "admin:x"]) {
      expect(parseRight(bad), bad).toBeUndefined();
    }
  });

  it("grants exactly what the ACL says; rights do not imply one another", () => {
    const acl = ["produce:kronos.log.*", "consume:kronos.gaia.alerts", "nonsense"];
    expect(isAllowed(acl, "produce", "kronos.log.app")).toBe(true);
    expect(isAllowed(acl, "produce", "kronos.gaia.alerts")).toBe(false);
    expect(isAllowed(acl, "consume", "kronos.gaia.alerts")).toBe(true);
    expect(isAllowed(acl, "consume", "kronos.log.app")).toBe(false);
    expect(isAllowed(acl, "admin")).toBe(false);
    expect(isAllowed(["admin"], "produce", "kronos.log.app")).toBe(false);
    expect(isAllowed(["produce:*"], "admin")).toBe(false);
    expect(isAllowed(["admin"], "admin")).toBe(true);
    expect(isAllowed([], "produce", "x")).toBe(false);
  });

  it("names the right needed", () => {
    expect(neededRight("admin")).toBe("admin");
    expect(neededRight("produce", "kronos.log.app")).toBe("produce:kronos.log.app");
    expect(neededRight("dlq:replay")).toBe("dlq:replay");
  });

  it("parses the dead-letter rights as plain rights, each granting only itself", () => {
    for (const right of ["dlq:read", "dlq:replay", "dlq:discard"] as const) {
      expect(parseRight(right)).toEqual({ action: right });
      expect(isAllowed([right], right)).toBe(true);
    }
    for (const bad of ["dlq:*", "dlq:read:x", "dlq", "DLQ:read"]) expect(parseRight(bad), bad).toBeUndefined();
    expect(isAllowed(["dlq:read"], "dlq:replay")).toBe(false);
    expect(isAllowed(["dlq:replay", "dlq:discard", "admin"], "dlq:read")).toBe(false);
    expect(isAllowed(["dlq:replay"], "produce", "kronos.log.app")).toBe(false);
  });
});
