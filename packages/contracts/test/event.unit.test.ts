import { describe, expect, it } from "vitest";
import { ContractError, defineEvent, frame, unframe } from "../src/index.js";
import { EVERYTHING, LINKED_LIST } from "./fixtures.js";

const everything = defineEvent<Record<string, unknown>>({
  name: "kronos.fixtures.Everything",
  schema: EVERYTHING,
  source: "test/fixtures.ts",
});

const record = {
  nothing: null,
  flag: true,
  count: -2_147_483_648,
  total: Number.MIN_SAFE_INTEGER,
  ratio: 0.5,
  precise: Math.PI,
  label: "héllo ✓ 𝄞",
  blob: Buffer.from([0, 1, 255]),
  hash: Buffer.alloc(16, 7),
  level: "WARN",
  tags: ["a", "b"],
  labels: { region: "eu", "": "empty key" },
  maybeText: "text",
  mixed: [1, 2, 3],
  numbers: { double: 1.25 },
  // Two records share avsc's "object" bucket: wrapUnions "auto" wraps this union.
  payment: { "kronos.fixtures.pay.Card": { last4: "4242", expires: "2030-12-31" } },
  at: new Date("2024-05-01T12:34:56.789Z"),
  atMicros: 1_714_566_896_789_123n,
  localAt: new Date(0),
  localAtMicros: -1n,
  day: "2024-02-29",
  timeMs: 45_296_789,
  timeUs: 45_296_789_123,
  id: "123e4567-e89b-12d3-a456-426614174000",
  amount: "-12.30",
  fixedAmount: "12345678901234.5678",
  unknownLogical: "plain string",
  sameHash: Buffer.alloc(16, 1),
  tree: {
    value: 1,
    children: [
      { value: 2, children: [], next: null },
      { value: 3, children: [{ value: 4, children: [], next: null }], next: { value: 5, children: [], next: null } },
    ],
    next: null,
  },
  nested: [{ a: null, b: "ERROR", c: { iban: "DE00" } }],
  withDefault: "custom",
};

describe("defineEvent", () => {
  it("describes the event: name, subject by RecordNameStrategy, schema, source, binding", () => {
    expect(everything.name).toBe("kronos.fixtures.Everything");
    expect(everything.subject).toBe("kronos.fixtures.Everything");
    expect(everything.source).toBe("test/fixtures.ts");
    expect(everything.binding).toBeUndefined();
    const custom = defineEvent({
      name: "kronos.fixtures.Cell",
      subject: "s",
      schema: LINKED_LIST,
      source: "x",
      binding: { topic: "t" },
    });
    expect(custom.subject).toBe("s");
    expect(custom.binding).toEqual({ topic: "t" });
  });

  it("round-trips a record using every Avro and logical type, through the wire format", () => {
    expect(everything.validate(record)).toEqual([]);
    const { schemaId, payload } = unframe(frame(42, everything.encode(record)));
    expect(schemaId).toBe(42);
    expect(everything.decode(payload)).toEqual(record);
  });

  it("fills defaults for missing fields with defaults", () => {
    const { maybeText: _a, withDefault: _b, ...rest } = record;
    const decoded = everything.decode(everything.encode(rest));
    expect(decoded.maybeText).toBeNull();
    expect(decoded.withDefault).toBe("hello");
  });

  it("round-trips a long linked list", () => {
    const list = defineEvent<{ head: number; tail: unknown }>({
      name: "kronos.fixtures.Cell",
      schema: LINKED_LIST,
      source: "x",
    });
    let value: { head: number; tail: unknown } | null = null;
    for (let i = 0; i < 300; i++) value = { head: i, tail: value };
    expect(list.decode(list.encode(value as { head: number; tail: unknown }))).toEqual(value);
  });

  it("refuses invalid values with VALIDATION_FAILED and every violation", () => {
    try {
      everything.encode({ ...record, count: "x", level: "LOUD" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ContractError);
      expect((error as ContractError).code).toBe("VALIDATION_FAILED");
      expect((error as ContractError).violations?.map((v) => v.path)).toEqual(["count", "level"]);
      expect((error as ContractError).message).toMatch(/count: expected int/);
    }
  });

  it("refuses truncated input, trailing bytes and absurd lengths with DECODE_FAILED", () => {
    const bytes = everything.encode(record);
    for (const broken of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from([0])])]) {
      expect(() => everything.decode(broken)).toThrow(expect.objectContaining({ code: "DECODE_FAILED" }));
    }
    const strings = defineEvent({
      name: "S",
      schema: {
        type: "record",
        name: "S",
        fields: [
          { name: "s", type: "string" },
          { name: "a", type: { type: "array", items: "null" } },
        ],
      },
      source: "x",
    });
    // A string declaring 2^31 bytes (zig-zag varint of 2^31 = 0x80 0x80 0x80 0x80 0x10).
    expect(() => strings.decode(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x10]))).toThrow(/declared length 2147483648/);
    // An array of 2^31 nulls: zero-byte items, refused by the empty-item budget instead of looping for seconds.
    const start = performance.now();
    expect(() => strings.decode(Buffer.from([0x00, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00]))).toThrow(/empty items/);
    // Microseconds when refused up front; looping over 2^31 items would take seconds. Room for a busy machine.
    expect(performance.now() - start).toBeLessThan(500);
  });

  it("refuses a schema that is not a record of the event's name", () => {
    expect(() => defineEvent({ name: "a.B", schema: LINKED_LIST, source: "x" })).toThrow(
      expect.objectContaining({ code: "INVALID_SCHEMA" }),
    );
    expect(() => defineEvent({ name: "a.B", schema: { type: "record" }, source: "x" })).toThrow(
      expect.objectContaining({ code: "INVALID_SCHEMA" }),
    );
  });
});
