import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CodegenError, generate, main, runGenerate } from "../src/index.js";

const fixture = (path: string): string => fileURLToPath(new URL(`./fixtures/${path}`, import.meta.url));

async function errorOf(files: Array<{ path: string; content: string }>): Promise<CodegenError> {
  try {
    generate({ files });
  } catch (err) {
    if (err instanceof CodegenError) return err;
    throw err;
  }
  throw new Error("generate did not throw");
}

const load = async (path: string) => [{ path, content: await readFile(fixture(`invalid/${path}`), "utf8") }];

describe("schema errors name the file, the place and the reason", () => {
  it("invalid JSON: line and column of the syntax error", async () => {
    const err = await errorOf(await load("bad-json/Broken.avsc"));
    expect(err.code).toBe("CODEGEN_INVALID_JSON");
    expect(err.file).toBe("bad-json/Broken.avsc");
    expect(err.location).toBe("7:5");
    expect(err.reason).toBe('expected "," or "]" in array, found "{"');
    expect(err.message).toBe('bad-json/Broken.avsc:7:5 /: expected "," or "]" in array, found "{"');
  });

  it("invalid Avro: a field without a type", async () => {
    const err = await errorOf(await load("no-type/NoType.avsc"));
    expect(err.code).toBe("CODEGEN_INVALID_SCHEMA");
    expect(err.file).toBe("no-type/NoType.avsc");
    expect(err.pointer).toBe("/fields/1");
    expect(err.location).toBe("/fields/1 (7:5)");
    expect(err.reason).toBe('field "missing" of fixtures.invalid.NoType has no "type"');
  });

  it("unknown type reference, resolved in the enclosing namespace", async () => {
    const err = await errorOf(await load("unknown-ref/UnknownRef.avsc"));
    expect(err.code).toBe("CODEGEN_UNKNOWN_TYPE");
    expect(err.file).toBe("unknown-ref/UnknownRef.avsc");
    expect(err.location).toBe("/fields/1/type/1 (7:39)");
    expect(err.reason).toBe('unknown type fixtures.invalid.Person ("Person" resolved in its namespace)');
  });

  it("a default that does not match its type", async () => {
    const err = await errorOf(await load("bad-default/BadDefault.avsc"));
    expect(err.pointer).toBe("/fields/0/default");
    expect(err.reason).toBe(
      'invalid default for field "count" of fixtures.invalid.BadDefault: expected an int, got "three"',
    );
  });

  it.each([
    [{ type: "record", name: "R", fields: [{ name: "a", type: ["int", ["null"]] }] }, "/fields/0/type/1", "directly"],
    [{ type: "record", name: "R", fields: [{ name: "a", type: ["int", "int"] }] }, "/fields/0/type/1", "two branches"],
    [
      {
        type: "record",
        name: "R",
        fields: [
          { name: "a", type: "int" },
          { name: "a", type: "int" },
        ],
      },
      "/fields/1/name",
      "duplicate field",
    ],
    [{ type: "enum", name: "E", symbols: ["A", "A"] }, "/symbols/1", "duplicate enum symbol"],
    [{ type: "enum", name: "E", symbols: ["A"], default: "B" }, "/default", "one of its symbols"],
    [{ type: "fixed", name: "F" }, "/size", "size"],
    [{ type: "record", name: "1bad", fields: [] }, "/name", "invalid name"],
    [
      { type: "record", name: "R", fields: [{ name: "a", type: { type: "R" } }] },
      "/fields/0/type/type",
      "plain string",
    ],
    [{ type: "string" }, "/type", "one named schema"],
  ])("invalid Avro %j at %s", async (schema, pointer, reason) => {
    const err = await errorOf([{ path: "x.avsc", content: JSON.stringify(schema) }]);
    expect(err.pointer).toBe(pointer);
    expect(err.reason).toContain(reason);
  });

  it("a type defined twice, in two files", async () => {
    const content = JSON.stringify({ type: "record", name: "R", namespace: "n", fields: [] });
    const err = await errorOf([
      { path: "a.avsc", content },
      { path: "b.avsc", content },
    ]);
    expect(err.code).toBe("CODEGEN_DUPLICATE_TYPE");
    expect(err.file).toBe("b.avsc");
    expect(err.reason).toBe("type n.R is already defined in a.avsc at /");
  });
});

/** Captures what the CLI prints. */
function capture() {
  const lines = { out: "", err: "" };
  const output = {
    out: (text: string): void => {
      lines.out += text;
    },
    err: (text: string): void => {
      lines.err += text;
    },
  };
  return { lines, output };
}

describe("runGenerate and the CLI write nothing on error", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "kronos-codegen-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** An output folder with one earlier generated file, to check it is untouched. */
  async function previousOutput(): Promise<string> {
    const out = join(dir, "out");
    await mkdir(out);
    await writeFile(
      join(out, "Old.ts"),
      "// Generated by @kronos/codegen 0.0.1 from schemas/Old.avsc — do not edit.\n",
    );
    return out;
  }
  const snapshot = async (path: string) =>
    (await readdir(path, { recursive: true })).sort().join(",") + (await readFile(join(path, "Old.ts"), "utf8"));

  it.each(["bad-json", "no-type", "unknown-ref"])(
    "%s: the CLI exits 1 and leaves the out dir untouched",
    async (name) => {
      const out = await previousOutput();
      const before = await snapshot(out);
      const { lines, output } = capture();
      const code = await main(["--schemas", fixture(`invalid/${name}`), "--out", out], output);
      expect(code).toBe(1);
      expect(lines.err).toMatch(
        /^kronos-codegen: \/.+\/invalid\/[a-z-]+\/\w+\.avsc:\d+:\d+ .+\nNothing was written\.\n$/,
      );
      expect(await snapshot(out)).toBe(before);
      expect((await readdir(dir)).sort()).toEqual(["out"]);
    },
  );

  it("the CLI creates no out dir when the schemas are invalid", async () => {
    const out = join(dir, "never");
    expect(await main(["--schemas", fixture("invalid/no-type"), "--out", out], capture().output)).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses to replace an out dir holding a file it did not generate", async () => {
    const out = await previousOutput();
    await writeFile(join(out, "handwritten.ts"), "export const x = 1;\n");
    await expect(runGenerate({ schemasDir: fixture("versions/v1"), outDir: out })).rejects.toMatchObject({
      code: "CODEGEN_OUTPUT_NOT_GENERATED",
    });
    expect((await readdir(out)).sort()).toEqual(["Old.ts", "handwritten.ts"]);
  });

  it("replaces the out dir and deletes stale generated files", async () => {
    const out = await previousOutput();
    const schemas = join(dir, "schemas");
    await cp(fixture("versions/v1"), schemas, { recursive: true });
    const result = await runGenerate({ schemasDir: schemas, outDir: out });
    expect(result).toEqual({ written: ["Account.ts", "index.ts"], removed: ["Old.ts"] });
    expect((await readdir(out)).sort()).toEqual(["Account.ts", "index.ts"]);
    expect((await readdir(dir)).sort()).toEqual(["out", "schemas"]);
  });

  it("the CLI reports bad usage with exit code 2", async () => {
    const { lines, output } = capture();
    expect(await main(["--schemas", fixture("versions/v1")], output)).toBe(2);
    expect(await main(["--nope"], output)).toBe(2);
    expect(lines.err).toContain("--schemas and --out are required");
    expect(lines.err).toContain("Unknown option '--nope'");
  });

  it("the CLI generates into --out and says what it wrote", async () => {
    const { lines, output } = capture();
    const out = join(dir, "gen");
    expect(await main(["--schemas", fixture("versions/v2"), "--out", out], output)).toBe(0);
    expect(lines.out).toBe(`kronos-codegen: wrote 2 files to ${out}\n`);
    expect(await readFile(join(out, "Account.ts"), "utf8")).toContain("export interface AccountOpenedInput {");
  });
});
