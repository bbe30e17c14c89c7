import { EVOLUTION_MATRIX as MATRIX } from "@kronos/catalog/testing";
import { describe, expect, it } from "vitest";
import { checkResolution, explain, judge, parseAvro, type SchemaVersion } from "../src/index.js";

function version(label: string, json: object): SchemaVersion {
  return { label, source: "test", json: json as never, schema: parseAvro(json as never) };
}

function record(fields: object[]): object {
  return { type: "record", name: "Alert", namespace: "kronos.gaia", fields };
}

describe("the evolution matrix (BACKWARD: the reader is the new version)", () => {
  it.each(MATRIX)("$change", (row) => {
    const verdict = judge("BACKWARD", [version("v1", row.writer)], version("v2", row.reader));
    expect(verdict.compatible).toBe(row.compatible);
    if (row.reason) expect(verdict.reasons.join("\n")).toContain(row.reason);
    else expect(verdict.reasons).toEqual([]);
  });

  it("FORWARD is BACKWARD with the roles swapped", () => {
    for (const row of MATRIX) {
      const forward = judge("FORWARD", [version("v1", row.reader)], version("v2", row.writer));
      expect(forward.compatible, row.change).toBe(row.compatible);
    }
  });
});

describe("reasons", () => {
  const v3 = record([
    { name: "id", type: "string" },
    { name: "severity", type: "string" },
  ]);
  const v4 = record([{ name: "id", type: "string" }]);

  it("names the removed field, the versions and the mode (FORWARD)", () => {
    const verdict = judge("FORWARD", [version("v3", v3)], version("v4", v4));
    expect(verdict.reasons).toEqual([
      "`severity` was removed without a default: consumers on v3 cannot read messages written with v4 (FORWARD)",
    ]);
  });

  it("FULL checks both ways and BACKWARD alone accepts the removal", () => {
    expect(judge("BACKWARD", [version("v3", v3)], version("v4", v4)).compatible).toBe(true);
    const full = judge("FULL", [version("v3", v3)], version("v4", v4));
    expect(full.checks.map((c) => [c.direction, c.compatible])).toEqual([
      ["BACKWARD", true],
      ["FORWARD", false],
    ]);
  });

  it("NONE checks nothing", () => {
    expect(judge("NONE", [version("v3", v3)], version("v4", record([]))).checks).toEqual([]);
  });

  it("explains a type that only promotes the other way under FORWARD", () => {
    const problems = checkResolution(
      parseAvro(record([{ name: "n", type: "long" }]) as never),
      parseAvro(record([{ name: "n", type: "int" }]) as never),
    );
    expect(problems).toHaveLength(1);
    expect(explain(problems[0] as never, "FORWARD", "v1", "v2")).toBe(
      "`n` changed from int to long (long cannot be read as int): consumers on v1 cannot read messages written with v2 (FORWARD)",
    );
  });

  it("finds a break in a nested record by its dotted path", () => {
    const nested = (fields: object[]) => record([{ name: "meta", type: { type: "record", name: "Meta", fields } }]);
    const verdict = judge(
      "BACKWARD",
      [version("v1", nested([]))],
      version("v2", nested([{ name: "producer", type: "string" }])),
    );
    expect(verdict.reasons[0]).toMatch(/^`meta.producer` was added without a default/);
  });

  it("accepts a recursive record", () => {
    const tree = {
      type: "record",
      name: "Node",
      fields: [{ name: "children", type: { type: "array", items: "Node" } }],
    };
    expect(checkResolution(parseAvro(tree as never), parseAvro(tree as never))).toEqual([]);
  });
});

describe("transitive modes", () => {
  const v1 = record([{ name: "id", type: "string" }]);
  const v2 = record([
    { name: "id", type: "string" },
    { name: "note", type: "string", default: "" },
  ]);
  // v3 drops the default: v2 data still has `note`, but v1 data does not.
  const v3 = record([
    { name: "id", type: "string" },
    { name: "note", type: "string" },
  ]);

  it("BACKWARD (latest only) accepts what BACKWARD_TRANSITIVE refuses against v1", () => {
    const history = [version("v1", v1), version("v2", v2)];
    expect(judge("BACKWARD", history, version("v3", v3)).compatible).toBe(true);
    const transitive = judge("BACKWARD_TRANSITIVE", history, version("v3", v3));
    expect(transitive.compatible).toBe(false);
    expect(transitive.checks.map((c) => [c.against, c.compatible])).toEqual([
      ["v2", true],
      ["v1", false],
    ]);
    expect(transitive.reasons).toEqual([
      "`note` was added without a default: consumers on v3 cannot read messages written with v1, which have no `note` (BACKWARD)",
    ]);
  });
});
