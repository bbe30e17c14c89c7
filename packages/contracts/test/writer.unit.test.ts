import type { Type } from "avsc";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createAvroType } from "../src/avro.js";
import { arbitraryForType } from "../src/testing/index.js";
import { compileWriter, createTap, type WriterTap } from "../src/writer.js";
import { EVERYTHING, LINKED_LIST, LOG_EVENT } from "./fixtures.js";

const schemas = [
  { name: "Everything", schema: EVERYTHING },
  { name: "LogWritten", schema: LOG_EVENT },
  { name: "Cell", schema: LINKED_LIST },
];

type Outcome = { ok: true; bytes: Buffer } | { ok: false };

/** Writes `value` with `write` into a tap of `size` bytes, growing it once as the codec does when it overflows. */
function written(write: (tap: WriterTap, value: unknown) => void, value: unknown, size: number): Outcome {
  try {
    let tap = createTap(Buffer.alloc(size));
    write(tap, value);
    if (tap.pos > tap.buf.length) {
      tap = createTap(Buffer.alloc(tap.pos));
      write(tap, value);
    }
    return { ok: true, bytes: Buffer.from(tap.buf.subarray(0, tap.pos)) };
  } catch {
    return { ok: false };
  }
}

const avscWrite = (type: Type) => (tap: WriterTap, value: unknown) =>
  (type as unknown as { _write(tap: WriterTap, value: unknown): void })._write(tap, value);

/** A valid value with one part (the whole, a field, an item) replaced by anything at all. */
function corrupted(valid: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [[]];
  const walk = (value: unknown, path: (string | number)[]) => {
    if (typeof value !== "object" || value === null || Buffer.isBuffer(value) || value instanceof Date) return;
    for (const [key, item] of Object.entries(value)) {
      const next = [...path, Array.isArray(value) ? Number(key) : key];
      paths.push(next);
      walk(item, next);
    }
  };
  walk(valid, []);
  const replacement = fc.oneof(
    fc.anything(),
    fc.constantFrom(undefined, null, "", "x".repeat(70), "é", 1.5, -1, 2 ** 40, true, [], {}, new Date(Number.NaN)),
  );
  return fc.tuple(fc.constantFrom(...paths), replacement).map(([path, by]) => {
    if (path.length === 0) return by;
    const copy = structuredClone(valid) as Record<string | number, unknown>;
    let at = copy;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
    at[path[path.length - 1] as string | number] = by;
    return copy;
  });
}

describe("compiled writer", () => {
  it.each(schemas)("$name: writes the bytes avsc writes (2,000 values, small and large buffers)", ({ schema }) => {
    const type = createAvroType(schema);
    const write = compileWriter(type);
    for (const data of ["adversarial", "realistic"] as const) {
      fc.assert(
        fc.property(arbitraryForType(type, { data, maxDepth: 3, maxItems: 3 }), fc.nat({ max: 64 }), (value, size) => {
          const expected = type.toBuffer(value);
          // A buffer too small for the value exercises the writes past its end (pos moves on, nothing is written).
          expect(written(write, value, size)).toEqual({ ok: true, bytes: expected });
          expect(written(write, value, 4096)).toEqual({ ok: true, bytes: expected });
        }),
        { numRuns: 1_000 },
      );
    }
  });

  it.each(schemas)("$name: refuses what avsc refuses, else writes what avsc writes", ({ schema }) => {
    const type = createAvroType(schema);
    const write = compileWriter(type);
    const values = fc.sample(arbitraryForType(type, { data: "realistic", maxDepth: 3, maxItems: 3 }), {
      numRuns: 50,
      seed: 11,
    });
    let refused = 0;
    for (const valid of values) {
      for (const value of fc.sample(corrupted(valid), 40)) {
        const ours = written(write, value, 4096);
        const theirs = written(avscWrite(type), value, 4096);
        if (!theirs.ok) expect(ours).toEqual({ ok: false });
        // Where avsc writes, so do we, the same bytes, except that a record position holding a non-object is
        // refused here (avsc writes that record's defaults, or throws on its first field without one).
        else if (ours.ok) expect(ours.bytes).toEqual(theirs.bytes);
        else expect(type.isValid(value, { noUndeclaredFields: true })).toBe(false);
        if (!ours.ok) refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });

  it("writes non-ASCII and long strings through avsc's writer, and short ASCII ones itself, alike", () => {
    const type = createAvroType({ type: "array", items: "string" });
    const write = compileWriter(type);
    const strings = ["", "a", "héllo", "日本", "😀", "x".repeat(63), "x".repeat(64), "y".repeat(300), "a\u0080"];
    expect(written(write, strings, 8)).toEqual({ ok: true, bytes: type.toBuffer(strings) });
  });

  it("refuses a record with an undeclared key, and says when it checks every record's shape itself", () => {
    const flat = createAvroType({
      type: "record",
      name: "Flat",
      fields: [
        { name: "id", type: "string" },
        { name: "note", type: ["null", "string"], default: null },
      ],
    });
    const write = compileWriter(flat);
    expect(written(write, { id: "a" }, 64)).toEqual({ ok: true, bytes: flat.toBuffer({ id: "a" }) });
    expect(written(write, { note: null, id: "a" }, 64)).toEqual({ ok: true, bytes: flat.toBuffer({ id: "a" }) });
    expect(written(write, { id: "a", idd: "typo" }, 64)).toEqual({ ok: false });
    expect(write.checksShapes).toBe(true);
    // Everything has records under a union avsc writes: the codec keeps its shape check for those.
    expect(compileWriter(createAvroType(EVERYTHING)).checksShapes).toBe(false);
  });
});
