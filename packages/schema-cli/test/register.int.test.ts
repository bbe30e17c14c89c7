import { randomBytes } from "node:crypto";
import { testEndpoints } from "@kronos/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { type CliOutput, main } from "../src/index.js";
import { writeCatalog, writeThing } from "./catalog-fixture.js";

const registryUrl = testEndpoints().registryUrl;
const domain = `it${randomBytes(4).toString("hex")}`;
const subject = `kronos.${domain}.Thing`;

function capture(): CliOutput & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => stdout.push(line), err: (line) => stderr.push(line) };
}

const v1 = [{ name: "id", type: { type: "string", logicalType: "uuid" }, doc: "Id." }];

afterAll(async () => {
  await fetch(`${registryUrl}/subjects/${subject}`, { method: "DELETE" });
  await fetch(`${registryUrl}/subjects/${subject}?permanent=true`, { method: "DELETE" });
});

describe("kronos-schemas register (real registry)", () => {
  const dir = writeCatalog(domain, v1);

  it("registers every subject with its compatibility, and a second run is a no-op", async () => {
    const first = capture();
    expect(await main(["register", "--schemas", dir, "--registry", registryUrl], first), first.stderr.join("\n")).toBe(
      0,
    );
    const line = first.stdout.find((l) => l.includes(subject));
    expect(line).toMatch(new RegExp(`${subject} → id \\d+ \\(BACKWARD\\)`));

    const second = capture();
    expect(await main(["register", "--schemas", dir, "--registry", registryUrl], second)).toBe(0);
    expect(second.stdout.find((l) => l.includes(subject))).toBe(line);
    const versions = (await (await fetch(`${registryUrl}/subjects/${subject}/versions`)).json()) as number[];
    expect(versions).toHaveLength(1);
    const config = (await (await fetch(`${registryUrl}/config/${subject}`)).json()) as { compatibilityLevel: string };
    expect(config.compatibilityLevel).toBe("BACKWARD");
  });

  it("refuses an incompatible change with the registry's reason and the field that broke it, exit 1", async () => {
    writeThing(dir, domain, [...v1, { name: "count", type: "int", doc: "A new field without a default." }]);
    const output = capture();
    expect(await main(["register", "--schemas", dir, "--registry", registryUrl], output)).toBe(1);
    const text = output.stderr.join("\n");
    expect(text).toContain("SCHEMA_INCOMPATIBLE");
    expect(text).toContain(`for subject ${subject}`);
    expect(text).toContain("field `count`");
  });

  it("says the registry cannot be reached, exit 2", async () => {
    const output = capture();
    expect(await main(["register", "--schemas", dir, "--registry", "http://127.0.0.1:1/apis/ccompat/v7"], output)).toBe(
      2,
    );
    expect(output.stderr.join("\n")).toContain("REGISTRY_UNAVAILABLE");
  });
});
