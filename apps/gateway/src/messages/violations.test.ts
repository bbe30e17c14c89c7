import { describe, expect, it } from "vitest";
import { MAX_LISTED_VIOLATIONS, MAX_VIOLATION_TEXT, validationFailed } from "./violations.js";

describe("VALIDATION_FAILED bodies", () => {
  it("list every violation when there are few, without `more`", () => {
    const body = validationFailed("bad", [{ path: "a", message: "missing" }]);
    expect(body).toEqual({ code: "VALIDATION_FAILED", message: "bad", errors: [{ path: "a", message: "missing" }] });
  });

  it("list the first MAX_LISTED_VIOLATIONS and count the rest in `more`, keeping extra fields (index)", () => {
    const violations = Array.from({ length: 5000 }, (_, index) => ({ index, path: `p${index}`, message: "m" }));
    const body = validationFailed("bad", violations);
    expect(body.errors).toHaveLength(MAX_LISTED_VIOLATIONS);
    expect(body.errors[0]).toEqual({ index: 0, path: "p0", message: "m" });
    expect(body.more).toBe(5000 - MAX_LISTED_VIOLATIONS);
  });

  it("cut long paths and messages", () => {
    const body = validationFailed("bad", [{ path: "x".repeat(10_000), message: "y".repeat(10_000) }]);
    expect(body.errors[0]?.path).toHaveLength(MAX_VIOLATION_TEXT);
    expect(body.errors[0]?.message.endsWith("…")).toBe(true);
  });
});
