import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/index.js";
import type { FixtureField } from "./catalog-fixture.js";
import { capture, reviewRepo } from "./review-fixture.js";

const level = (symbols: string[]) => ({ type: "enum", name: "Level", doc: "Levels.", symbols, default: "UNKNOWN" });
const id = { name: "id", type: { type: "string", logicalType: "uuid" }, doc: "Id." };

const v1: FixtureField[] = [
  id,
  { name: "severity", type: level(["UNKNOWN", "LOW", "HIGH"]), doc: "How bad." },
  { name: "count", type: "int", doc: "How many." },
  { name: "message", type: "string", doc: "What happened." },
  { name: "value", type: ["string", "long"], doc: "A measured value." },
  { name: "note", type: ["null", "string"], doc: "A note.", default: null },
];
// Compatible additions: a field with a default, an enum symbol, a promotion, a doc, a union branch.
const v2: FixtureField[] = [
  id,
  { name: "severity", type: level(["UNKNOWN", "LOW", "HIGH", "CRITICAL"]), doc: "How bad." },
  { name: "count", type: "long", doc: "How many." },
  { name: "message", type: "string", doc: "What happened, in one line." },
  { name: "value", type: ["string", "long", "double"], doc: "A measured value." },
  { name: "note", type: ["null", "string"], doc: "A note.", default: null },
  { name: "source", type: "string", doc: "Who saw it.", default: "unknown" },
];
// Docs only.
const v3: FixtureField[] = v2.map((f) => (f.name === "id" ? { ...f, doc: "The alert's id." } : f));
// A rename with an alias, a changed default, a changed logical type.
const v4: FixtureField[] = v3.map((f) => {
  if (f.name === "message") return { ...f, name: "text", aliases: ["message"] } as FixtureField;
  if (f.name === "source") return { ...f, default: "n/a" };
  if (f.name === "id") return { ...f, type: "string" };
  return f;
});
// Breaks: a field without a default, a narrowing, a union branch removed; plus a removal and an enum symbol removed.
const v5: FixtureField[] = [
  ...v4
    .filter((f) => f.name !== "note")
    .map((f) => {
      if (f.name === "count") return { ...f, type: "int" };
      // `long` could go (a long reads as a double); `double` cannot.
      if (f.name === "value") return { ...f, type: ["string", "long"] };
      if (f.name === "severity") return { ...f, type: level(["UNKNOWN", "HIGH", "CRITICAL"]) };
      return f;
    }),
  { name: "region", type: "string", doc: "Where." },
];

interface JsonReview {
  events: {
    name: string;
    status: string;
    baseVersion: string;
    headVersion: string;
    changes: { kind: string; path: string; description: string }[];
    verdict: { compatible: boolean; mode: string };
    breaking: boolean;
    reasons: string[];
    bump: string;
    destinations: { broker: string; name: string }[];
  }[];
  lint: { rule: string; entry: string; suppressed: unknown }[];
  packages: {
    name: string;
    bump: string;
    next: string;
    dependents: { direct: string[]; indirect: string[] };
  }[];
  summary: { exitCode: number; breaking: number; lintErrors: number };
}

async function review(schemas: string, ...args: string[]) {
  const md = capture();
  const code = await main(["review", "--schemas", schemas, "--base", "HEAD", ...args], md);
  const js = capture();
  const jsonCode = await main(["review", "--schemas", schemas, "--base", "HEAD", "--json", ...args], js);
  expect(jsonCode).toBe(code);
  return { code, markdown: md.text(), json: JSON.parse(js.text()) as JsonReview, stderr: md.stderr.join("\n") };
}

describe("kronos-schemas review over a fixture history (one step per commit)", () => {
  const domain = "rv";
  const repo = reviewRepo(domain, v1);
  repo.commit("v1");
  const name = `kronos.${domain}.Thing`;

  it("nothing changed: exit 0 and says so", async () => {
    const { code, markdown, json } = await review(repo.schemas);
    expect(code).toBe(0);
    expect(markdown).toContain("<!-- kronos-schema-review -->\n## Schema review");
    expect(markdown).toContain("No event schema changed.");
    expect(json.events).toEqual([]);
  });

  it("step 2, compatible additions: each change in Avro terms, verdict ✅, minor bump, impact", async () => {
    repo.write(v2);
    const { code, markdown, json } = await review(repo.schemas);
    expect(code).toBe(0);
    const [event] = json.events;
    expect(event).toMatchObject({ name, status: "changed", baseVersion: "v1", headVersion: "v2", breaking: false });
    expect(event?.verdict).toMatchObject({ compatible: true, mode: "BACKWARD" });
    expect(event?.changes.map((c) => [c.kind, c.path])).toEqual([
      ["enum-symbols-added", "severity"],
      ["type-changed", "count"],
      ["doc-changed", "message"],
      ["union-branches-added", "value"],
      ["field-added", "source"],
    ]);
    expect(event?.bump).toBe("minor");
    expect(event?.destinations).toEqual([{ broker: "kafka", name: `kronos.${domain}.things`, channel: "things" }]);
    expect(json.packages).toEqual([
      expect.objectContaining({
        name: `@kronos/events-${domain}`,
        bump: "minor",
        // Below 1.0.0 a compatible change is a patch of the version: ^0.1.0 takes 0.1.1, never 0.2.0.
        next: "0.1.1",
        dependents: { direct: ["@kronos/consumer"], indirect: ["@kronos/edge"] },
      }),
    ]);
    expect(markdown).toContain(`### ✅ \`${name}\` — changed (v1 → v2, BACKWARD)`);
    expect(markdown).toContain("✅ **Nothing breaks.**");
    expect(markdown).toContain(
      "| enum symbols added | `severity` | enum Level at `severity`: symbols added `CRITICAL` |",
    );
    expect(markdown).toContain(
      "| type changed | `count` | `count` type changed from int to long (a legal Avro promotion: new readers read old data) |",
    );
    expect(markdown).toContain('| field added | `source` | `source` added (string) with default `"unknown"` |');
    expect(markdown).toContain("| union branches added | `value` | `value` union branches added: `double` |");
    expect(markdown).toContain("| doc changed | `message` | `message` doc changed |");
    expect(markdown).toContain("Checks under BACKWARD: BACKWARD vs v1 ✅");
    expect(markdown).toContain(`Travels on: Kafka topic \`kronos.${domain}.things\``);
    expect(markdown).toContain(
      `| \`@kronos/events-${domain}\` | minor | 0.1.0 → 0.1.1 | \`Thing\` | \`@kronos/consumer\`, \`@kronos/edge\` (indirect) |`,
    );
    repo.commit("v2");
  });

  it("step 3, docs only: a patch bump", async () => {
    repo.write(v3);
    const { code, json, markdown } = await review(repo.schemas);
    expect(code).toBe(0);
    expect(json.events[0]?.changes.map((c) => c.kind)).toEqual(["doc-changed"]);
    expect(json.events[0]?.bump).toBe("patch");
    expect(json.packages[0]).toMatchObject({ bump: "patch", next: "0.1.1" });
    expect(markdown).toContain("(v2 → v3, BACKWARD)");
    repo.commit("v3");
  });

  it("step 4, rename with an alias, default and logical type changed: compatible", async () => {
    repo.write(v4);
    const { code, json, markdown } = await review(repo.schemas);
    expect(code).toBe(0);
    expect(json.events[0]?.changes.map((c) => [c.kind, c.path])).toEqual([
      ["logical-type-changed", "id"],
      ["field-renamed", "text"],
      ["default-changed", "source"],
    ]);
    expect(markdown).toContain(
      "| field renamed | `text` | `message` renamed to `text` (the new field lists `message` in its aliases) |",
    );
    expect(markdown).toContain('| default changed | `source` | `source` default changed from `"unknown"` to `"n/a"` |');
    expect(markdown).toContain("| logical type changed | `id` | `id` logical type changed from uuid to none");
    repo.commit("v4");
  });

  it("step 5, breaking changes: exit 1, a reason per break, lint, a major bump", async () => {
    repo.write(v5);
    const { code, json, markdown } = await review(repo.schemas);
    expect(code).toBe(1);
    const event = json.events[0];
    expect(event).toMatchObject({ baseVersion: "v4", headVersion: "v5", breaking: true, bump: "major" });
    expect(event?.changes.map((c) => [c.kind, c.path])).toEqual([
      ["enum-symbols-removed", "severity"],
      ["type-changed", "count"],
      ["union-branches-removed", "value"],
      ["field-added", "region"],
      ["field-removed", "note"],
    ]);
    expect(event?.reasons).toEqual([
      "`count` changed from long to int (long cannot be promoted to int): consumers on v5 cannot read messages written with v4 (BACKWARD)",
      "`value` lost union branch `double`: consumers on v5 cannot read messages written with v4 whose `value` is a `double` (BACKWARD)",
      "`region` was added without a default: consumers on v5 cannot read messages written with v4, which have no `region` (BACKWARD)",
    ]);
    expect(json.lint).toEqual([
      expect.objectContaining({ rule: "new-field-default", entry: `${name}.region`, suppressed: null }),
    ]);
    expect(json.summary).toMatchObject({ exitCode: 1, breaking: 1, lintErrors: 1 });
    expect(json.packages[0]).toMatchObject({ bump: "major", next: "0.2.0" });
    expect(markdown).toContain("❌ **1 event break compatibility, 1 lint error.**");
    expect(markdown).toContain(`### ❌ \`${name}\` — changed (v4 → v5, BACKWARD)`);
    expect(markdown).toContain("**Breaks**\n\n- `count` changed from long to int");
    expect(markdown).toContain("| field removed | `note` | `note` removed (null \\| string, had a default) |");
    expect(markdown).toContain("| ❌ error | `new-field-default` | `rv/Thing.avsc:");
  });

  it("--write sets the generated package's version, and a second run leaves it", async () => {
    expect(repo.packageVersion()).toBe("0.1.0");
    const first = capture();
    expect(await main(["review", "--schemas", repo.schemas, "--base", "HEAD", "--write"], first)).toBe(1);
    expect(repo.packageVersion()).toBe("0.2.0");
    expect(first.text()).toContain("0.1.0 → 0.2.0 (written)");
    const second = capture();
    await main(["review", "--schemas", repo.schemas, "--base", "HEAD", "--write"], second);
    expect(repo.packageVersion()).toBe("0.2.0");
    expect(second.text()).toContain("0.2.0 (up to date)");
  });

  it("reviews against an older base: compares with that commit", async () => {
    const { json } = await review(repo.schemas, "--base", "HEAD~3");
    expect(json.events[0]).toMatchObject({ baseVersion: "v1", headVersion: "v2" });
  });
});

describe("transitive modes", () => {
  const t1: FixtureField[] = [{ name: "id", type: "string", doc: "Id." }];
  const t2: FixtureField[] = [...t1, { name: "note", type: "string", doc: "A note.", default: "" }];
  // `note` loses its default: v2 data has it, v1 data does not.
  const t3: FixtureField[] = [...t1, { name: "note", type: "string", doc: "A note." }];

  for (const [mode, expected] of [
    ["BACKWARD", 0],
    ["BACKWARD_TRANSITIVE", 1],
  ] as const) {
    it(`${mode}: ${expected === 0 ? "only the previous version, which can be read" : "catches the break against v1"}`, async () => {
      const repo = reviewRepo("tr", t1, mode);
      repo.commit("t1");
      repo.write(t2);
      repo.commit("t2");
      repo.write(t3);
      const { code, json, markdown } = await review(repo.schemas);
      expect(code).toBe(expected);
      if (expected === 1) {
        expect(json.events[0]?.reasons).toEqual([
          "`note` was added without a default: consumers on v3 cannot read messages written with v1, which have no `note` (BACKWARD)",
        ]);
        expect(markdown).toContain("Checks under BACKWARD_TRANSITIVE: BACKWARD vs v2 ✅ · BACKWARD vs v1 ❌");
      } else {
        expect(markdown).toContain("Checks under BACKWARD: BACKWARD vs v2 ✅");
      }
    });
  }

  it("FULL_TRANSITIVE names FORWARD breaks against each older version", async () => {
    const repo = reviewRepo("ft", [...t1, { name: "severity", type: "string", doc: "How bad." }], "FULL_TRANSITIVE");
    repo.commit("f1");
    repo.write([...t1, { name: "severity", type: "string", doc: "How bad it is." }]);
    repo.commit("f2");
    repo.write(t1);
    const { code, json } = await review(repo.schemas);
    expect(code).toBe(1);
    expect(json.events[0]?.reasons).toEqual([
      "`severity` was removed without a default: consumers on v2 cannot read messages written with v3 (FORWARD)",
      "`severity` was removed without a default: consumers on v1 cannot read messages written with v3 (FORWARD)",
    ]);
  });
});

describe("review errors: a clear message and exit 2", () => {
  const fields: FixtureField[] = [{ name: "id", type: "string", doc: "Id." }];

  it("a base ref that does not exist", async () => {
    const repo = reviewRepo("er", fields);
    repo.commit("one");
    const output = capture();
    expect(await main(["review", "--schemas", repo.schemas, "--base", "no-such-branch"], output)).toBe(2);
    expect(output.stderr.join("\n")).toBe(
      `kronos-schemas: review could not run (REVIEW_BAD_REF): base ref "no-such-branch" does not name a commit in ${repo.root}`,
    );
  });

  it("a schema that does not parse at the head", async () => {
    const repo = reviewRepo("er", fields);
    repo.commit("one");
    writeFileSync(join(repo.schemas, "er", "Thing.avsc"), '{"type": "record", "name": ');
    const output = capture();
    expect(await main(["review", "--schemas", repo.schemas, "--base", "HEAD"], output)).toBe(2);
    expect(output.stderr.join("\n")).toMatch(
      /REVIEW_SCHEMA_UNPARSABLE\): er\/Thing\.avsc at working tree is not valid JSON: /,
    );
  });

  it("a schema that does not parse at the base", async () => {
    const repo = reviewRepo("er", fields);
    repo.write([{ name: "id", type: "no.such.Type", doc: "Id." }]);
    repo.commit("broken");
    repo.write(fields);
    const output = capture();
    expect(await main(["review", "--schemas", repo.schemas, "--base", "HEAD"], output)).toBe(2);
    expect(output.stderr.join("\n")).toMatch(
      /REVIEW_SCHEMA_UNPARSABLE\): er\/Thing\.avsc at base HEAD \([0-9a-f]{7}\) is not a valid Avro schema: .*no\.such\.Type/,
    );
  });

  it("an unreachable registry", async () => {
    const repo = reviewRepo("er", fields);
    repo.commit("one");
    const output = capture();
    const url = "http://127.0.0.1:9/apis/ccompat/v7";
    expect(await main(["review", "--schemas", repo.schemas, "--base", "HEAD", "--registry", url], output)).toBe(2);
    expect(output.stderr.join("\n")).toContain(
      `review could not run (REVIEW_REGISTRY_UNREACHABLE): the registry at ${url} cannot be reached`,
    );
  });

  it("review without --base is a usage error", async () => {
    const output = capture();
    expect(await main(["review"], output)).toBe(2);
    expect(output.stderr.join("\n")).toContain("review needs --base <git ref>");
  });
});
