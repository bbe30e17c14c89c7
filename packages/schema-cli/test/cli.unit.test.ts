import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CliOutput, findSchemasDir, main } from "../src/index.js";
import { writeCatalog } from "./catalog-fixture.js";

function capture(): CliOutput & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

const id = { name: "id", type: { type: "string", logicalType: "uuid" }, doc: "Id." };

describe("kronos-schemas validate", () => {
  it("accepts the repository's catalog", async () => {
    const output = capture();
    expect(await main(["validate"], output)).toBe(0);
    expect(output.stdout.join("\n")).toMatch(/16 events, \d+ types and \d+ destinations in .*schemas: valid/);
  });

  it("lists every problem of an invalid catalog with its file and entry, exit 1", async () => {
    const dir = writeCatalog("broken", [id]);
    writeFileSync(
      join(dir, "broken", "Orphan.avsc"),
      JSON.stringify({ type: "record", name: "Orphan", namespace: "kronos.broken", doc: "x", fields: [] }),
    );
    const output = capture();
    expect(await main(["validate", "--schemas", dir], output)).toBe(1);
    const text = output.stderr.join("\n");
    expect(text).toContain("the catalog is invalid");
    expect(text).toMatch(/broken\/Orphan\.avsc/);
  });
});

describe("kronos-schemas generate", () => {
  it("generates one domain's files", async () => {
    const dir = writeCatalog("gen", [id]);
    const out = join(dir, "..", `out-${Date.now()}`);
    const output = capture();
    expect(await main(["generate", "--schemas", dir, "--domain", "gen", "--out", out], output)).toBe(0);
    expect(readdirSync(join(out, "gen")).sort()).toEqual(["Thing.ts", "index.ts"]);
  });

  it("writes nothing when a schema is invalid", async () => {
    const dir = writeCatalog("bad", [{ name: "count", type: "integer", doc: "Not an Avro type." }]);
    const out = join(dir, "..", `out-bad-${Date.now()}`);
    const output = capture();
    expect(await main(["generate", "--schemas", dir, "--domain", "bad", "--out", out], output)).toBe(1);
    expect(output.stderr.join("\n")).toMatch(/bad\/Thing\.avsc/);
    expect(existsSync(out)).toBe(false);
  });
});

describe("usage", () => {
  it("prints help, and refuses unknown commands or missing options with exit 2", async () => {
    const help = capture();
    expect(await main(["--help"], help)).toBe(0);
    expect(help.stdout.join("\n")).toContain("Usage: kronos-schemas <command>");
    const unknown = capture();
    expect(await main(["publish"], unknown)).toBe(2);
    expect(unknown.stderr.join("\n")).toContain('unknown command "publish"');
    const missing = capture();
    expect(await main(["generate", "--domain", "auth"], missing)).toBe(2);
    expect(missing.stderr.join("\n")).toContain("generate needs --domain <d> and --out <dir>");
  });

  it("finds the workspace's schemas folder from a package folder", () => {
    expect(findSchemasDir(join(process.cwd(), "src"))).toBe(join(process.cwd(), "..", "..", "schemas"));
  });
});
