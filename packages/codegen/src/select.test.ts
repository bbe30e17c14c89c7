import { describe, expect, it } from "vitest";
import { selectFolder } from "./select.js";

const file = (path: string, imports: string[] = []) => ({
  path,
  content: imports.map((target) => `import type { X } from "${target}";`).join("\n"),
});

describe("selectFolder", () => {
  const files = [
    file("auth/Login.ts", ["../common/Meta.js"]),
    file("auth/index.ts", ["./Login.js"]),
    file("common/Meta.ts", ["../user/Role.js"]),
    file("user/Role.ts"),
    file("user/Created.ts", ["../common/Meta.js"]),
    file("index.ts", ["./auth/index.js"]),
  ];

  it("keeps the folder and what it imports, transitively, and nothing else", () => {
    expect(selectFolder(files, "auth").map((f) => f.path)).toEqual([
      "auth/Login.ts",
      "auth/index.ts",
      "common/Meta.ts",
      "user/Role.ts",
    ]);
  });

  it("fails on a folder with no generated file", () => {
    expect(() => selectFolder(files, "billing")).toThrow('no generated file lies in "billing/"');
  });
});
