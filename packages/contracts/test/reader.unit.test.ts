import type { Type } from "avsc";
import avsc from "avsc";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createAvroType } from "../src/avro.js";
import { createDecodeGuard } from "../src/decode-guard.js";
import { compileReader } from "../src/reader.js";
import { arbitraryForType } from "../src/testing/index.js";
import { EVERYTHING, LINKED_LIST, LOG_EVENT } from "./fixtures.js";

/** What the decoder did before the compiled reader: walk with the guard, then avsc's fromBuffer. */
function guardThenAvsc(type: Type): (bytes: Buffer) => unknown {
  const guard = createDecodeGuard(type);
  return (bytes) => {
    guard(bytes);
    return type.fromBuffer(bytes);
  };
}

type Outcome = { ok: true; value: unknown } | { ok: false };

function outcome(read: (bytes: Buffer) => unknown, bytes: Buffer): Outcome {
  try {
    return { ok: true, value: read(bytes) };
  } catch {
    return { ok: false };
  }
}

/** Deep equality that also compares prototypes (record and wrapped-branch classes), Buffers, Dates and -0. */
function identical(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (Buffer.isBuffer(a)) return a.equals(b as Buffer);
  if (a instanceof Date) return a.getTime() === (b as Date).getTime();
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length || keysA.some((key, i) => key !== keysB[i])) return false;
  return keysA.every((key) => identical((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

const schemas = [
  { name: "Everything", schema: EVERYTHING },
  { name: "LogWritten", schema: LOG_EVENT },
  { name: "Cell", schema: LINKED_LIST },
];

/** Bit flips, truncations, insertions of huge varints and trailing bytes of a valid encoding. */
function mutated(bytes: Buffer): fc.Arbitrary<Buffer> {
  const flip = fc.nat({ max: Math.max(0, bytes.length * 8 - 1) }).map((bit) => {
    const copy = Buffer.from(bytes);
    if (copy.length > 0) copy[bit >> 3] = (copy[bit >> 3] as number) ^ (1 << (bit & 7));
    return copy;
  });
  const cut = fc.nat({ max: bytes.length }).map((length) => bytes.subarray(0, length));
  const splice = fc
    .tuple(
      fc.nat({ max: bytes.length }),
      fc.constantFrom([0x80, 0x80, 0x80, 0x80, 0x10], [0xfe, 0xff, 0xff, 0xff, 0x0f], [0xff, 0xff, 0xff, 0xff, 0x7f]),
    )
    .map(([at, huge]) => Buffer.concat([bytes.subarray(0, at), Buffer.from(huge), bytes.subarray(at)]));
  const trailing = fc.uint8Array({ minLength: 1, maxLength: 4 }).map((extra) => Buffer.concat([bytes, extra]));
  return fc.oneof(flip, cut, splice, trailing);
}

describe("compiled reader", () => {
  it.each(schemas)("$name: reads what avsc reads, with the same classes (2,000 records each)", ({ schema }) => {
    const type = createAvroType(schema);
    const read = compileReader(type);
    for (const data of ["adversarial", "realistic"] as const) {
      fc.assert(
        fc.property(arbitraryForType(type, { data, maxDepth: 3, maxItems: 3 }), (value) => {
          const bytes = type.toBuffer(value);
          expect(identical(read(bytes, 0), type.fromBuffer(bytes))).toBe(true);
        }),
        { numRuns: 1_000 },
      );
    }
  });

  it.each(schemas)("$name: refuses exactly what the guard and avsc refused, reads the rest alike", ({ schema }) => {
    const type = createAvroType(schema);
    const read = compileReader(type);
    const before = guardThenAvsc(type);
    const encoded = arbitraryForType(type, { maxDepth: 3, maxItems: 3 }).map((value) => type.toBuffer(value));
    fc.assert(
      fc.property(
        encoded.chain((bytes) => mutated(bytes)),
        (bytes) => {
          const now = outcome((b) => read(b, 0), bytes);
          const then = outcome(before, bytes);
          expect(now.ok).toBe(then.ok);
          if (now.ok && then.ok) expect(identical(now.value, then.value)).toBe(true);
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it("reads from an offset (a framed message) and counts positions in messages from there", () => {
    const type = createAvroType(LOG_EVENT);
    const value = { level: "WARN", message: "m", labels: { a: "b" }, items: [], at: new Date(5), traceId: null };
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), type.toBuffer(value)]);
    expect(identical(compileReader(type)(framed, 5), type.fromBuffer(framed.subarray(5)))).toBe(true);
    expect(() => compileReader(type)(Buffer.concat([framed, Buffer.from([1])]), 5)).toThrow(
      `1 trailing bytes after the value (at byte ${framed.length - 5})`,
    );
  });

  it("reads ASCII, non-ASCII and long strings, and strings past the first text window", () => {
    const type = createAvroType({ type: "array", items: "string" });
    const strings = ["", "a", "ascii only", "héllo ✓ 𝄞", "x".repeat(5_000), "tail", "\u0080", "z".repeat(13)];
    const many = Array.from({ length: 300 }, (_, i) => `value-${i}-${"·".repeat(i % 3)}`);
    for (const value of [strings, many, [...many, ...strings, ...many]]) {
      expect(compileReader(type)(type.toBuffer(value), 0)).toEqual(value);
    }
    // Invalid UTF-8 reads as avsc reads it (replacement characters).
    const invalid = Buffer.from([2, 8, 0xff, 0xfe, 0x41, 0x42, 0]);
    expect(compileReader(type)(invalid, 0)).toEqual(type.fromBuffer(invalid));
  });

  it("checks uuids on the bytes as the uuid type does", () => {
    const type = createAvroType({ type: "string", logicalType: "uuid" });
    const plain = avsc.Type.forSchema("string");
    const read = compileReader(type);
    for (const text of ["123e4567-e89b-12d3-a456-426614174000", "ABCDEF00-0000-0000-0000-00000000000f"]) {
      expect(read(plain.toBuffer(text), 0)).toBe(text);
    }
    for (const text of [
      "123e4567-e89b-12d3-a456-42661417400",
      "123e4567-e89b-12d3-a456-4266141740000",
      "123e4567e89b-12d3-a456-4266141740000",
      "123e4567-e89b-12d3-a456-42661417400g",
      "123e4567-e89b-12d3-a456-42661417400é",
      "123e4567-e89b-12d3-a456-4266141740-0",
    ]) {
      expect(() => read(plain.toBuffer(text), 0)).toThrow(/not a UUID/);
    }
  });

  it("reads longs exactly as avsc and ExactLongType do, at every varint length", () => {
    const exact = createAvroType({ type: "array", items: "long" });
    const millis = createAvroType({ type: "array", items: { type: "long", logicalType: "timestamp-millis" } });
    const ints = createAvroType({ type: "array", items: "int" });
    const edges = [0, 1, -1, 63, -64, 64, 2 ** 31 - 1, -(2 ** 31), 2 ** 52 - 1, -(2 ** 52) - 1, 2 ** 53 - 1];
    const longs = [...edges, Number.MIN_SAFE_INTEGER, ...edges.map((n) => -n)];
    const bytes = exact.toBuffer(longs);
    expect(compileReader(exact)(bytes, 0)).toEqual(exact.fromBuffer(bytes));
    const dates = [0, -1, 1_700_000_000_123, 8.64e15, -(2 ** 52)].map((ms) => new Date(ms));
    expect(compileReader(millis)(millis.toBuffer(dates), 0)).toEqual(dates);
    // Over-long but valid varints (zero padding) read as avsc reads them.
    for (const varint of [
      [0x80, 0x00],
      [0x81, 0x80, 0x80, 0x00],
      [0xff, 0xff, 0xff, 0xff, 0x0f],
      [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
    ]) {
      const array = Buffer.from([2, ...varint, 0]);
      expect(outcome((b) => compileReader(exact)(b, 0), array)).toEqual(outcome(guardThenAvsc(exact), array));
      expect(outcome((b) => compileReader(ints)(b, 0), array)).toEqual(outcome(guardThenAvsc(ints), array));
    }
    // A Date out of range and a long beyond 64 bits are refused.
    expect(() => compileReader(millis)(exact.toBuffer([8.64e15 + 1]), 0)).toThrow(/outside the range of Date/);
    const eleven = Buffer.from([2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0]);
    expect(() => compileReader(exact)(eleven, 0)).toThrow(/longer than 10 bytes/);
  });

  it("reads a logical type it does not know through the type's own _fromValue", () => {
    class Upper extends avsc.types.LogicalType {
      protected override _fromValue(value: string): string {
        return value.toUpperCase();
      }
      protected override _toValue(value: string): string {
        return value.toLowerCase();
      }
    }
    const type = avsc.Type.forSchema(
      { type: "record", name: "R", fields: [{ name: "s", type: { type: "string", logicalType: "upper" } }] },
      { logicalTypes: { upper: Upper } },
    );
    const bytes = type.toBuffer({ s: "ABC" });
    expect(compileReader(type)(bytes, 0)).toEqual({ s: "ABC" });
  });

  it("keeps the guard's limits: nesting depth and empty items", () => {
    const cells = createAvroType(LINKED_LIST);
    let list: unknown = null;
    for (let i = 0; i < 30; i++) list = { head: i, tail: list };
    const bytes = cells.toBuffer(list);
    expect(() => compileReader(cells, { maxDepth: 29 })(bytes, 0)).toThrow(/nested deeper than 29/);
    expect(compileReader(cells, { maxDepth: 30 })(bytes, 0)).toEqual(list);
    const nulls = createAvroType({ type: "array", items: "null" });
    expect(() => compileReader(nulls, { maxEmptyItems: 9 })(nulls.toBuffer(Array(10).fill(null)), 0)).toThrow(
      /empty items/,
    );
  });
});
