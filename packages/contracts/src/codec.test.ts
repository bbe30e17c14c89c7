import { describe, expect, it } from "vitest";
import { defineEvent } from "./event.js";
import { RegistrySerde } from "./serde.js";
import { InMemorySchemaRegistry } from "./testing/index.js";

// Records in every position the encoder's shape check has to reach: nested, in an array, in a map, as an
// unwrapped union branch, as a wrapped union branch, plus a record whose fields all have defaults.
const SCHEMA = {
  type: "record",
  name: "Order",
  namespace: "kronos.test",
  fields: [
    { name: "id", type: "string" },
    {
      name: "customer",
      type: {
        type: "record",
        name: "Customer",
        fields: [
          { name: "name", type: "string" },
          { name: "tier", type: "int", default: 0 },
        ],
      },
    },
    {
      name: "lines",
      type: {
        type: "array",
        items: { type: "record", name: "Line", fields: [{ name: "sku", type: "string" }] },
      },
    },
    { name: "byRegion", type: { type: "map", values: "Line" } },
    { name: "gift", type: ["null", "Customer"], default: null },
    {
      name: "payment",
      type: [
        { type: "record", name: "Card", fields: [{ name: "last4", type: "string" }] },
        { type: "record", name: "Iban", fields: [{ name: "iban", type: "string" }] },
      ],
    },
    {
      name: "options",
      type: { type: "record", name: "Options", fields: [{ name: "express", type: "boolean", default: false }] },
    },
    { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
  ],
};

const order = defineEvent<Record<string, unknown>>({ name: "kronos.test.Order", schema: SCHEMA, source: "x" });
const valid = {
  id: "o-1",
  customer: { name: "Ada", tier: 2 },
  lines: [{ sku: "a" }, { sku: "b" }],
  byRegion: { eu: { sku: "c" } },
  gift: { name: "Bob", tier: 0 },
  payment: { "kronos.test.Card": { last4: "4242" } },
  options: { express: true },
  at: new Date(1_700_000_000_000),
};

function violationsOf(value: unknown): unknown {
  try {
    order.encode(value as Record<string, unknown>);
  } catch (error) {
    return (error as { code?: string; violations?: unknown }).violations;
  }
  return "encoded";
}

describe("encode fast path", () => {
  it("round-trips a valid value", () => {
    expect(order.decode(order.encode(valid))).toEqual(valid);
  });

  it.each([
    ["at the root", { ...valid, extra: 1 }, "extra"],
    ["in a nested record", { ...valid, customer: { name: "Ada", nmae: "x" } }, "customer.nmae"],
    ["in an array item", { ...valid, lines: [{ sku: "a" }, { sku: "b", qty: 2 }] }, "lines[1].qty"],
    ["in a map value", { ...valid, byRegion: { eu: { sku: "c", price: 1 } } }, 'byRegion["eu"].price'],
    ["in an unwrapped union branch", { ...valid, gift: { name: "Bob", note: "hi" } }, "gift.note"],
    [
      "in a wrapped union branch",
      { ...valid, payment: { "kronos.test.Card": { last4: "4242", cvc: "1" } } },
      'payment["kronos.test.Card"].cvc',
    ],
  ])("refuses an undeclared field %s, with its path", (_where, value, path) => {
    expect(violationsOf(value)).toEqual([
      expect.objectContaining({ path, message: expect.stringMatching(/^unknown field/) }),
    ]);
  });

  it("refuses a primitive where a record whose fields all have defaults is expected", () => {
    expect(violationsOf({ ...valid, options: 5 })).toEqual([
      { path: "options", message: "expected record kronos.test.Options (an object)" },
    ]);
  });

  it("lists every violation, undeclared fields and wrong types alike", () => {
    const violations = violationsOf({ ...valid, id: 7, customer: { name: "Ada", nmae: "x" }, at: "yesterday" });
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "id" }),
        expect.objectContaining({ path: "customer.nmae" }),
        expect.objectContaining({ path: "at", message: "expected a valid Date" }),
      ]),
    );
    expect(violations).toHaveLength(3);
  });

  it("encodes values larger than the scratch buffer, and the next small one after", () => {
    const big = {
      ...valid,
      id: "x".repeat(100_000),
      lines: Array.from({ length: 2_000 }, (_, i) => ({ sku: `s${i}` })),
    };
    expect(order.decode(order.encode(big))).toEqual(big);
    expect(order.decode(order.encode(valid))).toEqual(valid);
  });

  it("returns buffers that later encodes do not overwrite", () => {
    const first = order.encode(valid);
    const copy = Buffer.from(first);
    order.encode({ ...valid, id: "another order id" });
    expect(first).toEqual(copy);
  });
});

describe("RegistrySerde warm paths", () => {
  it("rejects (never throws) an invalid value once the id is cached, with its violations", async () => {
    const serde = new RegistrySerde({ client: new InMemorySchemaRegistry(), autoRegister: true });
    const bytes = await serde.encode(order, valid);
    expect(bytes.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 1]));
    expect(bytes.subarray(5)).toEqual(order.encode(valid));
    const pending = serde.encode(order, { ...valid, extra: true });
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).rejects.toMatchObject({ code: "VALIDATION_FAILED", violations: [{ path: "extra" }] });
  });

  it("still refuses truncated, trailing and huge-count frames once the writer is cached", async () => {
    const serde = new RegistrySerde({ client: new InMemorySchemaRegistry(), autoRegister: true });
    const bytes = await serde.encode(order, valid);
    expect(await serde.decode(order, bytes)).toEqual(valid);
    const header = bytes.subarray(0, 5);
    // id "o-1", customer, then `lines` declaring 2^40 items in a few bytes.
    const hugeCount = Buffer.concat([
      header,
      Buffer.from([6, 0x6f, 0x2d, 0x31, 6, 0x41, 0x64, 0x61, 4]),
      Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x40]),
    ]);
    for (const broken of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from([0])]), hugeCount]) {
      const started = performance.now();
      await expect(serde.decode(order, broken)).rejects.toMatchObject({ code: "DECODE_FAILED" });
      // Refused at once (microseconds); the bound only has to tell that from allocating or looping 2^40 times, with
      // room for a busy machine's pauses.
      expect(performance.now() - started).toBeLessThan(500);
    }
    await expect(serde.decode(order, Buffer.from([0, 0]))).rejects.toMatchObject({ code: "INCOMPLETE_HEADER" });
  });
});
