import { describe, expect, it } from "vitest";
import { checkFieldPath, lintSchema, scanSchema, templateFields } from "./avro.js";
import type { JsonObject } from "./types.js";

const address: JsonObject = {
  type: "record",
  name: "Address",
  namespace: "kronos.shop",
  doc: "An address.",
  fields: [{ name: "country", type: "string", doc: "ISO country code." }],
};

const order: JsonObject = {
  type: "record",
  name: "Order",
  namespace: "kronos.shop",
  doc: "An order.",
  fields: [
    { name: "id", type: "string", doc: "Id." },
    { name: "shipTo", type: ["null", "Address"], default: null, doc: "Where to ship." },
    { name: "lines", type: { type: "array", items: "string" }, doc: "Lines." },
    {
      name: "state",
      type: { type: "enum", name: "State", doc: "State.", symbols: ["UNKNOWN", "OPEN"], default: "UNKNOWN" },
      doc: "State.",
    },
    { name: "meta", type: "kronos.common.EventMeta", doc: "Header." },
  ],
};

describe("scanSchema", () => {
  it("resolves references against the enclosing namespace and lists definitions with explicit namespaces", () => {
    const scan = scanSchema(order);
    expect(scan.references).toEqual(["kronos.shop.Address", "kronos.common.EventMeta"]);
    expect(scan.definitions.map((d) => [d.name, d.kind, d.schema.namespace])).toEqual([
      ["kronos.shop.Order", "record", "kronos.shop"],
      ["kronos.shop.State", "enum", "kronos.shop"],
    ]);
  });
});

describe("checkFieldPath", () => {
  const lookup = (name: string) => (name === "kronos.shop.Address" ? address : undefined);

  it("accepts scalar fields, enums and paths through optional records", () => {
    expect(checkFieldPath(order, "id", lookup)).toBeUndefined();
    expect(checkFieldPath(order, "state", lookup)).toBeUndefined();
    expect(checkFieldPath(order, "shipTo.country", lookup)).toBeUndefined();
  });

  it("says why a path is not usable as a key", () => {
    expect(checkFieldPath(order, "customer", lookup)).toBe("field customer does not exist");
    expect(checkFieldPath(order, "lines", lookup)).toMatch(/^field lines is not a scalar/);
    expect(checkFieldPath(order, "shipTo", lookup)).toMatch(/^field shipTo is not a scalar/);
    expect(checkFieldPath(order, "id.x", lookup)).toBe("field id is not a record");
    expect(checkFieldPath(order, "meta.eventId", lookup)).toBe("field meta has an unknown type");
  });
});

describe("templateFields", () => {
  it("lists the placeholders of a routing key template", () => {
    expect(templateFields("alert.{severity}.{source.service}")).toEqual(["severity", "source.service"]);
    expect(templateFields("static.key")).toEqual([]);
  });
});

describe("lintSchema", () => {
  it("passes a schema that follows the rules", () => {
    expect(lintSchema(order)).toEqual([]);
  });

  it("checks records nested in arrays and maps, and enum defaults that are not symbols", () => {
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
    expect(lintSchema(schema)).toEqual([
      { entry: "kronos.x.Item", message: "record has no doc" },
      {
        entry: "kronos.x.Item.seenAt",
        message:
          'timestamp field must be {"type": "long", "logicalType": "timestamp-millis"} (or another timestamp logical type)',
      },
      { entry: "kronos.x.Kind", message: 'enum default "B" is not a symbol' },
      { entry: "kronos.x.Outer.choice", message: 'optional field must be ["null", T] (null first, one other branch)' },
    ]);
  });
});
