import type { LintFinding } from "@kronos/catalog";
import { describe, expect, it } from "vitest";
import { lintFiles } from "../src/lint.js";
import { buildView } from "../src/snapshot.js";

type Files = Record<string, object | string>;

const META = { type: "record", name: "EventMeta", namespace: "kronos.common", doc: "Header.", fields: [] };

function manifest(events: Record<string, { file: string; mode?: string }>): string {
  const entries = Object.entries(events)
    .map(
      ([id, e]) =>
        `    ${id}:\n      payload:\n        schema:\n          $ref: ./${e.file}\n${e.mode ? `      x-kronos-compatibility: ${e.mode}\n` : ""}`,
    )
    .join("");
  return `asyncapi: 3.0.0\ncomponents:\n  messages:\n${entries}`;
}

function snapshot(label: string, files: Files) {
  const map = new Map<string, string>();
  for (const [file, content] of Object.entries(files)) {
    map.set(file, typeof content === "string" ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
  return { label, files: map };
}

/** Lints `file` of `head` against `base` (default: nothing of it existed). */
function lint(head: Files, base: Files = {}, file = "gaia/Alert.avsc"): LintFinding[] {
  const withManifest = (files: Files): Files => ({
    "common/EventMeta.avsc": META,
    "asyncapi.yaml": manifest({ Alert: { file: "gaia/Alert.avsc", mode: "BACKWARD" } }),
    ...files,
  });
  const h = snapshot("head", withManifest(head));
  return lintFiles(buildView(h, true), buildView(snapshot("base", withManifest(base)), true), [file]);
}

function alert(fields: object[], extra: object = {}): object {
  return { type: "record", name: "Alert", namespace: "kronos.gaia", doc: "An alert.", fields, ...extra };
}

const ok = { name: "id", type: "string", doc: "The id." };

function rules(findings: LintFinding[], unsuppressedOnly = true): string[] {
  return findings.filter((f) => !unsuppressedOnly || f.suppressed === null).map((f) => f.rule);
}

describe("lint rules: each passes on a good fixture and fails on a bad one", () => {
  it("a clean schema has no findings", () => {
    expect(lint({ "gaia/Alert.avsc": alert([ok]) })).toEqual([]);
  });

  it("doc-required", () => {
    const findings = lint({ "gaia/Alert.avsc": alert([{ name: "id", type: "string" }], { doc: " " }) });
    expect(rules(findings)).toEqual(["doc-required", "doc-required"]);
    expect(findings.map((f) => f.message)).toEqual(["record Alert has no doc", "field `id` has no doc"]);
    expect(findings[1]).toMatchObject({ entry: "kronos.gaia.Alert.id", file: "gaia/Alert.avsc", line: 8 });
  });

  it("record-name-case", () => {
    const bad = { ...(alert([ok]) as object), name: "alert" };
    const findings = lint({ "gaia/alert.avsc": bad }, {}, "gaia/alert.avsc");
    expect(rules(findings)).toContain("record-name-case");
    expect(findings.find((f) => f.rule === "record-name-case")?.message).toBe("record name alert is not PascalCase");
  });

  it("field-name-case", () => {
    const findings = lint({ "gaia/Alert.avsc": alert([{ ...ok, name: "source_service" }]) });
    expect(rules(findings)).toEqual(["field-name-case"]);
    expect(findings[0]?.message).toBe("field name `source_service` is not camelCase");
  });

  it("namespace-folder", () => {
    const findings = lint({ "gaia/Alert.avsc": alert([ok], { namespace: "kronos.log" }) });
    expect(rules(findings)).toContain("namespace-folder");
    expect(findings[0]?.message).toBe('namespace "kronos.log" does not match its folder gaia/ (expected kronos.gaia)');
  });

  it("enum-default", () => {
    const level = (extra: object) => ({
      type: "enum",
      name: "Level",
      doc: "Level.",
      symbols: ["UNKNOWN", "HIGH"],
      ...extra,
    });
    expect(lint({ "gaia/Alert.avsc": alert([{ ...ok, name: "level", type: level({ default: "UNKNOWN" }) }]) })).toEqual(
      [],
    );
    const findings = lint({ "gaia/Alert.avsc": alert([{ ...ok, name: "level", type: level({}) }]) });
    expect(rules(findings)).toEqual(["enum-default"]);
    expect(findings[0]?.message).toContain('enum Level has no "default" symbol');
  });

  it("optional-field", () => {
    const good = { ...ok, name: "note", type: ["null", "string"], default: null };
    expect(lint({ "gaia/Alert.avsc": alert([good]) })).toEqual([]);
    const nullLast = lint({
      "gaia/Alert.avsc": alert([{ ...ok, name: "note", type: ["string", "null"], default: "" }]),
    });
    expect(nullLast.map((f) => f.message)).toEqual([
      'optional field `note` must be ["null", T] (null first, one other branch)',
    ]);
    const noDefault = lint({ "gaia/Alert.avsc": alert([{ ...ok, name: "note", type: ["null", "string"] }]) });
    expect(noDefault.map((f) => f.message)).toEqual(['optional field `note` must have "default": null']);
  });

  it("timestamp-logical-type", () => {
    const good = { ...ok, name: "raisedAt", type: { type: "long", logicalType: "timestamp-millis" } };
    expect(lint({ "gaia/Alert.avsc": alert([good]) })).toEqual([]);
    expect(rules(lint({ "gaia/Alert.avsc": alert([{ ...ok, name: "raisedAt", type: "long" }]) }))).toEqual([
      "timestamp-logical-type",
    ]);
  });

  it("new-field-default (BACKWARD subject)", () => {
    const base = { "gaia/Alert.avsc": alert([ok]) };
    const withDefault = { ...ok, name: "note", type: "string", default: "" };
    expect(lint({ "gaia/Alert.avsc": alert([ok, withDefault]) }, base)).toEqual([]);
    const findings = lint({ "gaia/Alert.avsc": alert([ok, { ...ok, name: "note", type: "string" }]) }, base);
    expect(rules(findings)).toEqual(["new-field-default"]);
    expect(findings[0]?.message).toBe(
      "new field `note` has no default: consumers on the new schema cannot read messages written before it (BACKWARD)",
    );
  });

  it("manifest-entry", () => {
    const findings = lint({
      "gaia/Alert.avsc": alert([ok]),
      "gaia/Other.avsc": alert([ok], { name: "Other" }),
      "asyncapi.yaml": manifest({
        Alert: { file: "gaia/Alert.avsc" },
        Gone: { file: "gaia/Gone.avsc" },
      }),
    });
    expect(findings.map((f) => [f.rule, f.file, f.message])).toEqual([
      [
        "manifest-entry",
        "gaia/Other.avsc",
        "event kronos.gaia.Other has no entry under components.messages in asyncapi.yaml (add one with its payload $ref, owner and channels)",
      ],
      [
        "manifest-entry",
        "asyncapi.yaml",
        "components.messages.Gone names schema ./gaia/Gone.avsc, which does not exist",
      ],
    ]);
    expect(findings[1]?.line).toBe(8);
  });
});

describe("disabling a rule with a reason", () => {
  const undocumented = { name: "id", type: "string" };

  it("per node (a field): suppressed with its reason, the review does not fail on it", () => {
    const field = { ...undocumented, "kronos.lint.disable": { "doc-required": "self-explanatory id" } };
    const findings = lint({ "gaia/Alert.avsc": alert([field]) });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.suppressed).toEqual({ scope: "node", reason: "self-explanatory id" });
  });

  it("per file", () => {
    const schema = alert([undocumented, { ...undocumented, name: "other" }], {
      "kronos.lint.disable-file": { "doc-required": "generated from a legacy IDL" },
    });
    const findings = lint({ "gaia/Alert.avsc": schema });
    expect(rules(findings)).toEqual([]);
    expect(rules(findings, false)).toEqual(["doc-required", "doc-required"]);
    expect(findings.every((f) => f.suppressed?.scope === "file")).toBe(true);
  });

  it("a disable without a reason, or of an unknown rule, is an error and suppresses nothing", () => {
    const field = { ...undocumented, "kronos.lint.disable": { "doc-required": "", "no-such-rule": "why" } };
    const findings = lint({ "gaia/Alert.avsc": alert([field]) });
    expect(findings.map((f) => [f.rule, f.message, f.suppressed])).toEqual([
      ["lint-disable", 'kronos.lint.disable of "doc-required" needs a reason (a non-empty string)', null],
      ["lint-disable", 'kronos.lint.disable names unknown rule "no-such-rule"', null],
      ["doc-required", "field `id` has no doc", null],
    ]);
  });
});
