import { describe, expect, it } from "vitest";
import { defineEvent } from "./event.js";
import { avroToJson, checkPayload, jsonToAvro } from "./json.js";

const event = defineEvent<unknown>({
  name: "test.Everything",
  source: "test",
  schema: {
    type: "record",
    name: "Everything",
    namespace: "test",
    fields: [
      { name: "at", type: { type: "long", logicalType: "timestamp-millis" } },
      { name: "micros", type: { type: "long", logicalType: "timestamp-micros" } },
      { name: "maybeAt", type: ["null", { type: "long", logicalType: "timestamp-millis" }], default: null },
      { name: "data", type: "bytes" },
      { name: "hash", type: { type: "fixed", name: "Hash", size: 4 } },
      { name: "amount", type: { type: "bytes", logicalType: "decimal", precision: 6, scale: 2 } },
      { name: "id", type: { type: "string", logicalType: "uuid" } },
      { name: "either", type: ["string", "int"] },
      {
        name: "wrapped",
        type: [
          "null",
          {
            type: "record",
            name: "A",
            fields: [{ name: "when", type: { type: "long", logicalType: "timestamp-millis" } }],
          },
          { type: "record", name: "B", fields: [{ name: "x", type: "int" }] },
        ],
        default: null,
      },
      { name: "times", type: { type: "array", items: { type: "long", logicalType: "timestamp-millis" } } },
      { name: "blobs", type: { type: "map", values: "bytes" } },
    ],
  },
});

const valid = {
  at: "2024-05-01T12:00:00.000Z",
  micros: "1714564800000000123",
  maybeAt: 1714564800000,
  data: Buffer.from("hi").toString("base64"),
  hash: Buffer.from([1, 2, 3, 4]).toString("base64"),
  amount: "12.30",
  id: "0b8e4a4c-8a3e-4d43-9d5c-6a1f1c1a2b3c",
  either: 7,
  wrapped: { "test.A": { when: "2024-05-01T00:00:00+02:00" } },
  times: [0, "1970-01-01T00:00:01Z"],
  blobs: { k: "AAE=" },
};

describe("jsonToAvro", () => {
  it("converts JSON into the Avro JS representation the codec encodes", () => {
    const { value, violations } = checkPayload(event.type, event.validate, valid);
    expect(violations).toEqual([]);
    const v = value as Record<string, unknown>;
    expect(v.at).toEqual(new Date("2024-05-01T12:00:00.000Z"));
    expect(v.micros).toBe(1714564800000000123n);
    expect(v.maybeAt).toEqual(new Date(1714564800000));
    expect(v.data).toEqual(Buffer.from("hi"));
    expect(v.hash).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(v.wrapped).toEqual({ "test.A": { when: new Date("2024-04-30T22:00:00.000Z") } });
    expect(v.times).toEqual([new Date(0), new Date(1000)]);
    expect(v.blobs).toEqual({ k: Buffer.from([0, 1]) });
    expect(event.decode(event.encode(value))).toEqual(value);
  });

  it("accepts null for an optional timestamp and leaves other values for the validator", () => {
    expect(jsonToAvro(event.type, { ...valid, maybeAt: null }).violations).toEqual([]);
    expect(jsonToAvro(event.type, { ...valid, either: "text" }).violations).toEqual([]);
  });

  it("reports every conversion and schema problem once, with its path", () => {
    const { violations } = checkPayload(event.type, event.validate, {
      ...valid,
      at: "yesterday",
      micros: 1.5,
      maybeAt: "soon",
      data: "***",
      hash: Buffer.from([1, 2]).toString("base64"),
      id: "nope",
      wrapped: { "test.A": { when: true } },
      times: [0, "x"],
      blobs: { "a b": 5 },
      extra: 1,
    });
    expect(violations.map((v) => v.path).sort()).toEqual(
      [
        "at",
        "micros",
        "maybeAt",
        "data",
        "hash",
        "id",
        'wrapped["test.A"].when',
        "times[1]",
        'blobs["a b"]',
        "extra",
      ].sort(),
    );
    expect(violations.find((v) => v.path === "at")?.message).toMatch(/ISO-8601/);
    expect(violations.find((v) => v.path === "hash")?.message).toBe("expected base64 of exactly 4 bytes, got 2");
  });

  it("reports missing fields", () => {
    const { violations } = checkPayload(event.type, event.validate, { ...valid, at: undefined, data: undefined });
    expect(violations).toEqual(
      expect.arrayContaining([
        { path: "at", message: "missing required field" },
        { path: "data", message: "missing required field" },
      ]),
    );
  });
});

describe("avroToJson", () => {
  it("writes dates as ISO strings, bytes as base64, micros as numbers or strings", () => {
    expect(
      avroToJson({
        at: new Date("2024-05-01T12:00:00.000Z"),
        body: Buffer.from("héllo"),
        micros: 1_714_564_800_000_000n,
        huge: 2n ** 60n,
        nested: [{ when: new Date(0) }, null],
        map: { a: Buffer.from([0xff]) },
        union: { string: "x" },
        price: "12.50",
        n: 1.5,
        nan: Number.NaN,
        ok: true,
      }),
    ).toEqual({
      at: "2024-05-01T12:00:00.000Z",
      body: Buffer.from("héllo").toString("base64"),
      micros: 1_714_564_800_000_000,
      huge: "1152921504606846976",
      nested: [{ when: "1970-01-01T00:00:00.000Z" }, null],
      map: { a: "/w==" },
      union: { string: "x" },
      price: "12.50",
      n: 1.5,
      nan: null,
      ok: true,
    });
  });
});

describe("jsonToAvro walks only what converts", () => {
  const millis = { type: "long", logicalType: "timestamp-millis" };
  const record = (name: string, fields: Array<[string, unknown]>) => ({
    type: "record",
    name,
    namespace: "test",
    fields: fields.map(([field, type]) => ({ name: field, type })),
  });
  const list = (items: string) => ({ type: "array", items });
  const tree = defineEvent<unknown>({
    name: "test.Tree",
    source: "test",
    schema: record("Tree", [
      ["at", millis],
      ["labels", { type: "map", values: "string" }],
      [
        "plain",
        record("Plain", [
          ["name", "string"],
          ["children", list("Plain")],
        ]),
      ],
      [
        "dated",
        record("Dated", [
          ["when", ["null", millis]],
          ["children", list("Dated")],
        ]),
      ],
    ]),
  });

  it("takes subtrees without timestamps, bytes, fixed or decimals as they are, recursive ones too", () => {
    const json = {
      at: 0,
      labels: { a: "1", b: "2" },
      plain: { name: "root", children: [{ name: "leaf", children: [] }] },
      dated: { when: null, children: [{ when: "2024-05-01T00:00:00Z", children: [] }] },
    };
    const { value, violations } = checkPayload(tree.type, tree.validate, json);
    expect(violations).toEqual([]);
    const v = value as typeof json & { dated: { children: Array<{ when: unknown }> } };
    expect(v.labels).toBe(json.labels);
    expect(v.plain).toBe(json.plain);
    expect(v.dated).not.toBe(json.dated);
    expect(v.dated.children[0]?.when).toEqual(new Date("2024-05-01T00:00:00Z"));
    expect(tree.decode(tree.encode(value))).toEqual(value);
  });

  it("still reports what the validator finds inside a subtree taken as it is", () => {
    const { violations } = checkPayload(tree.type, tree.validate, {
      at: 0,
      labels: { a: 1 },
      plain: { name: "root", children: [{ name: 2, children: [] }] },
      dated: { when: null, children: [] },
    });
    expect(violations.map((v) => v.path).sort()).toEqual(['labels["a"]', "plain.children[0].name"]);
  });
});
