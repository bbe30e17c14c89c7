import { describe, expect, it } from "vitest";
import { contentProblems } from "./pack.js";

const map = (sources: string[]) => JSON.stringify({ version: 3, sources, mappings: "" });

describe("a package's contents", () => {
  it("passes with compiled code, declarations and source maps whose sources are in the package", () => {
    const files = ["package.json", "dist/index.js", "dist/index.js.map", "src/index.ts"];
    expect(contentProblems(files, () => map(["../src/index.ts"]))).toEqual([]);
  });

  it("names test files, missing compiled code and source maps pointing outside the package", () => {
    const files = ["package.json", "dist/a.test.js", "src/b.test.ts", "test/c.ts", "dist/x.d.ts.map"];
    expect(contentProblems(files, () => map(["../src/x.ts"]))).toEqual([
      "dist/a.test.js is a test file",
      "src/b.test.ts is a test file",
      "test/c.ts is a test file",
      "there is no compiled code (dist/*.js): build the package before packing it",
      "dist/x.d.ts.map points at src/x.ts, which is not in the package",
    ]);
    expect(
      contentProblems(["package.json", "dist/i.js", "dist/i.js.map"], () => map(["../../../elsewhere.ts"])),
    ).toEqual(["dist/i.js.map points at ../../elsewhere.ts, which is not in the package"]);
  });
});
