import { describe, expect, it } from "vitest";
import { parseJson } from "./json.js";
import { LINT_RULES, type LintRuleId, lintSchema } from "./lint.js";
import type { JsonObject } from "./types.js";

const field = (extra: JsonObject): JsonObject => ({ name: "id", type: "string", doc: "Id.", ...extra });
const record = (fields: JsonObject[], extra: JsonObject = {}): JsonObject => ({
  type: "record",
  name: "Alert",
  namespace: "kronos.gaia",
  doc: "An alert.",
  fields,
  ...extra,
});
const rules = (schema: JsonObject, file = "gaia/Alert.avsc"): Array<[LintRuleId, string]> =>
  lintSchema(schema, { file }).map((f) => [f.rule, f.message]);

describe("the rule table", () => {
  it("gives every rule an id, a severity and what it checks", () => {
    for (const [id, rule] of Object.entries(LINT_RULES)) {
      expect(id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(["error", "warning"]).toContain(rule.severity);
      expect(rule.checks.length).toBeGreaterThan(10);
    }
  });
});

describe("lintSchema, one rule at a time", () => {
  it("passes a schema that follows every rule", () => {
    expect(rules(record([field({})]))).toEqual([]);
  });

  it("doc-required", () => {
    const { doc: _, ...undocumented } = record([field({ doc: " " })]);
    expect(rules(undocumented)).toEqual([
      ["doc-required", "record Alert has no doc"],
      ["doc-required", "field `id` has no doc"],
    ]);
  });

  it("record-name-case", () => {
    expect(rules(record([field({})], { name: "alert" }), "gaia/alert.avsc")).toEqual([
      ["record-name-case", "record name alert is not PascalCase"],
    ]);
  });

  it("field-name-case", () => {
    expect(rules(record([field({ name: "source_service" })]))).toEqual([
      ["field-name-case", "field name `source_service` is not camelCase"],
    ]);
  });

  it("namespace-folder", () => {
    expect(rules(record([field({})]), "log/Alert.avsc")).toEqual([
      ["namespace-folder", 'namespace "kronos.gaia" does not match its folder log/ (expected kronos.log)'],
    ]);
    expect(rules(record([field({})]), "gaia/Other.avsc")).toEqual([
      ["namespace-folder", "the file must be named after its type: Alert.avsc"],
    ]);
    expect(rules(record([field({})]), "Alert.avsc")[0]).toEqual([
      "namespace-folder",
      "schemas must live in a domain folder: <domain>/<Name>.avsc",
    ]);
  });

  it("enum-default", () => {
    const level = (extra: JsonObject) =>
      field({ name: "level", type: { type: "enum", name: "Level", doc: "L.", symbols: ["A"], ...extra } });
    expect(rules(record([level({ default: "A" })]))).toEqual([]);
    expect(rules(record([level({})]))).toEqual([
      ["enum-default", 'enum Level has no "default" symbol: add one (e.g. UNKNOWN) so that symbols can be added later'],
    ]);
    expect(rules(record([level({ default: "B" })]))).toEqual([
      ["enum-default", 'enum default "B" is not one of its symbols'],
    ]);
  });

  it("optional-field", () => {
    expect(rules(record([field({ type: ["null", "string"], default: null })]))).toEqual([]);
    expect(rules(record([field({ type: ["string", "null"], default: "x" })]))).toEqual([
      ["optional-field", 'optional field `id` must be ["null", T] (null first, one other branch)'],
    ]);
    expect(rules(record([field({ type: ["null", "string"] })]))).toEqual([
      ["optional-field", 'optional field `id` must have "default": null'],
    ]);
  });

  it("timestamp-logical-type", () => {
    const at = (type: JsonObject | string) => record([field({ name: "raisedAt", type })]);
    expect(rules(at({ type: "long", logicalType: "timestamp-micros" }))).toEqual([]);
    expect(rules(at("long"))).toEqual([
      [
        "timestamp-logical-type",
        '`raisedAt` must be {"type": "long", "logicalType": "timestamp-millis"} (or another timestamp logical type)',
      ],
    ]);
  });

  it("lint-disable: a disable with a reason suppresses; one without, or of an unknown rule, is a finding", () => {
    const findings = lintSchema(
      record([field({ name: "a_b", "kronos.lint.disable": { "field-name-case": "legacy IDL" } })], {
        "kronos.lint.disable-file": { "no-such-rule": "x", "doc-required": "" },
      }),
      { file: "gaia/Alert.avsc" },
    );
    expect(findings.map((f) => [f.rule, f.message, f.suppressed])).toEqual([
      ["lint-disable", 'kronos.lint.disable-file names unknown rule "no-such-rule"', null],
      ["lint-disable", 'kronos.lint.disable-file of "doc-required" needs a reason (a non-empty string)', null],
      ["field-name-case", "field name `a_b` is not camelCase", { scope: "node", reason: "legacy IDL" }],
    ]);
  });

  it("checks records nested in arrays and maps, and gives lines when given positions", () => {
    const schema: JsonObject = {
      type: "record",
      name: "Outer",
      namespace: "kronos.x",
      doc: "Outer.",
      fields: [
        {
          name: "items",
          doc: "Items.",
          type: {
            type: "array",
            items: { type: "record", name: "Item", fields: [{ name: "seenAt", type: "long", doc: "When." }] },
          },
        },
        {
          name: "kinds",
          doc: "Kinds.",
          type: { type: "map", values: { type: "enum", name: "Kind", doc: "Kind.", symbols: ["A"], default: "B" } },
        },
        { name: "choice", doc: "Choice.", type: ["null", "int", "string"], default: null },
      ],
    };
    const text = JSON.stringify(schema, null, 2);
    const findings = lintSchema(schema, { positions: parseJson("x/Outer.avsc", text).positions });
    expect(findings.map((f) => [f.entry, f.pointer, f.line, f.message])).toEqual([
      ["kronos.x.Item", "/fields/0/type/items", 14, "record Item has no doc"],
      [
        "kronos.x.Item.seenAt",
        "/fields/0/type/items/fields/0",
        17,
        '`seenAt` must be {"type": "long", "logicalType": "timestamp-millis"} (or another timestamp logical type)',
      ],
      ["kronos.x.Kind", "/fields/1/type/values", 32, 'enum default "B" is not one of its symbols'],
      [
        "kronos.x.Outer.choice",
        "/fields/2",
        42,
        'optional field `choice` must be ["null", T] (null first, one other branch)',
      ],
    ]);
  });
});
