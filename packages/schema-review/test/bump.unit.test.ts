import { describe, expect, it } from "vitest";
import { bumpVersion, caretLine } from "../src/bump.js";

describe("bumpVersion", () => {
  it("bumps 1.x and later as semver says", () => {
    expect(bumpVersion("1.2.3", "major")).toBe("2.0.0");
    expect(bumpVersion("1.2.3", "minor")).toBe("1.3.0");
    expect(bumpVersion("1.2.3", "patch")).toBe("1.2.4");
    expect(bumpVersion("1.2.3", "none")).toBe("1.2.3");
  });

  it("below 1.0.0, moves each bump one place right, so ^0.y.z takes compatible releases and never a breaking one", () => {
    expect(bumpVersion("0.1.0", "major")).toBe("0.2.0");
    expect(bumpVersion("0.1.0", "minor")).toBe("0.1.1");
    expect(bumpVersion("0.1.0", "patch")).toBe("0.1.1");
    expect(bumpVersion("0.1.0", "none")).toBe("0.1.0");
  });

  it("names the part a caret range keeps fixed", () => {
    expect(caretLine("2.4.1")).toBe("2");
    expect(caretLine("0.3.7")).toBe("0.3");
  });
});
