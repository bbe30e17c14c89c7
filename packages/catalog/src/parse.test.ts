import { describe, expect, it } from "vitest";
import { definitionOf, selfContainedOf } from "./inline.js";
import { parseSchema, parseSchemaFiles } from "./parse.js";

const order = {
  name: "Order",
  type: "record",
  doc: "An order.",
  namespace: "kronos.shop",
  fields: [
    { name: "orderId", doc: "Id.", type: "string" },
    { name: "shipTo", type: ["null", "Address"], default: null, doc: "Where to ship." },
    {
      name: "state",
      type: { type: "enum", name: "State", doc: "State.", symbols: ["UNKNOWN", "OPEN"], default: "UNKNOWN" },
      doc: "State.",
    },
    { name: "meta", type: "kronos.common.EventMeta", doc: "Header." },
  ],
};
const address = {
  type: "record",
  name: "Address",
  namespace: "kronos.shop",
  doc: "An address.",
  fields: [{ name: "country", type: "string", doc: "ISO country code." }],
};
const meta = { type: "record", name: "EventMeta", namespace: "kronos.common", doc: "Meta.", fields: [] };
const files = [
  { path: "shop/Order.avsc", content: JSON.stringify(order, null, 2) },
  { path: "shop/Address.avsc", content: JSON.stringify(address) },
  { path: "common/EventMeta.avsc", content: JSON.stringify(meta) },
];

describe("parseSchemaFiles", () => {
  it("resolves references against the enclosing namespace and lists definitions with explicit namespaces", () => {
    const set = parseSchemaFiles(files);
    expect(set.problems).toEqual([]);
    const file = set.files.find((f) => f.path === "shop/Order.avsc");
    expect(file?.references).toEqual(["kronos.shop.Address", "kronos.common.EventMeta"]);
    expect(file?.defined).toEqual(["kronos.shop.Order", "kronos.shop.State"]);
    const state = set.types.get("kronos.shop.State");
    expect(state && [state.kind, state.namespace, definitionOf(state).namespace]).toEqual([
      "enum",
      "kronos.shop",
      "kronos.shop",
    ]);
  });

  it("names the file, pointer, line and column of a problem, and keeps the other files", () => {
    const set = parseSchemaFiles([
      ...files.filter((f) => f.path !== "shop/Address.avsc"),
      { path: "shop/Address.avsc", content: '{\n  "type": "record",\n  "name": "Address",\n  "fields": [{}]\n}' },
    ]);
    expect(set.problems.map((p) => p.message)).toEqual([
      'shop/Address.avsc /fields/0/name: a field needs a valid "name", got undefined',
      'shop/Order.avsc:16:9 /fields/1/type/1: unknown type kronos.shop.Address ("Address" resolved in its namespace)',
    ]);
    expect(set.files.map((f) => f.path)).toEqual(["common/EventMeta.avsc", "shop/Order.avsc"]);
  });
});

describe("parseSchema", () => {
  it("parses a self-contained schema value, and throws the first problem", () => {
    const self = selfContainedOf("kronos.shop.Order", parseSchemaFiles(files).types);
    const { root, types } = parseSchema(self);
    expect(root.fullName).toBe("kronos.shop.Order");
    expect([...types.keys()].sort()).toEqual([
      "kronos.common.EventMeta",
      "kronos.shop.Address",
      "kronos.shop.Order",
      "kronos.shop.State",
    ]);
    expect(() => parseSchema({ type: "record", name: "X", fields: [{ name: "a", type: "Nope" }] })).toThrow(
      "(schema) /fields/0/type: unknown type Nope",
    );
  });
});

describe("selfContainedOf", () => {
  it("inlines named types of other files at their first use and refers to them by full name after that", () => {
    const twice = { ...order, fields: [...order.fields, { name: "billTo", type: "Address", doc: "Billing." }] };
    const set = parseSchemaFiles([...files.slice(1), { path: "shop/Order.avsc", content: JSON.stringify(twice) }]);
    const self = selfContainedOf("kronos.shop.Order", set.types) as { fields: Array<{ type: unknown }> };
    expect(self.fields[1]?.type).toEqual(["null", { ...address }]);
    expect(self.fields[4]?.type).toBe("kronos.shop.Address");
  });
});
