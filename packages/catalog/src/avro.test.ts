import { describe, expect, it } from "vitest";
import { checkFieldPath, templateFields } from "./avro.js";
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
