import { describe, expect, it } from "vitest";
import { isLogLevel, loggerOptions } from "./logging.js";

describe("loggerOptions", () => {
  it("puts the app name on every line and defaults to info", () => {
    const options = loggerOptions({ app: "relay" });
    expect(options.level).toBe("info");
    expect(options.base.app).toBe("relay");
    expect(options.timestamp()).toMatch(/^,"time":"\d{4}-\d\d-\d\dT/);
  });

  it("redacts credentials", () => {
    expect(loggerOptions({ app: "x" }).redact.paths).toContain("req.headers.authorization");
  });

  it("knows the levels", () => {
    expect(isLogLevel("debug")).toBe(true);
    expect(isLogLevel("verbose")).toBe(false);
  });
});
