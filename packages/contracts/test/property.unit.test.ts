import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { defineEvent, frame, unframe } from "../src/index.js";
import { arbitraryForType } from "../src/testing/index.js";
import { EVERYTHING, LINKED_LIST, LOG_EVENT } from "./fixtures.js";

const RUNS = 10_000;

/** Deep equality ignoring prototypes (decoded records are avsc Record instances), exact for Buffer, Date, bigint. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((key) => same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}

const schemas = [
  { name: "kronos.fixtures.Everything", schema: EVERYTHING },
  { name: "kronos.log.LogWritten", schema: LOG_EVENT },
  { name: "kronos.fixtures.Cell", schema: LINKED_LIST },
];

describe("property: encode → frame → unframe → decode is the identity", () => {
  it("the equality used here can fail", () => {
    expect(same({ a: [1n, Buffer.from([1])] }, { a: [1n, Buffer.from([2])] })).toBe(false);
    expect(same({ a: new Date(1) }, { a: new Date(2) })).toBe(false);
    expect(same({ a: -0 }, { a: 0 })).toBe(false);
    expect(same({ a: 1 }, { a: 1, b: undefined })).toBe(false);
  });

  it.each(schemas)(
    `$name (${RUNS} generated records)`,
    async ({ name, schema }) => {
      const event = defineEvent<unknown>({ name, schema, source: "test/fixtures.ts" });
      const started = performance.now();
      // Async, yielding now and then: a long synchronous loop starves vitest's worker RPC on a busy machine.
      let checked = 0;
      await fc.assert(
        fc.asyncProperty(
          arbitraryForType(event.type, { maxDepth: 3, maxItems: 2 }),
          fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          async (value, schemaId) => {
            if (++checked % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
            const framed = frame(schemaId, event.encode(value));
            const { schemaId: id, payload } = unframe(framed);
            const decoded = event.decode(payload);
            // toEqual only on failure: it is ~10x slower than a plain walk and this runs 10,000 times.
            if (id !== schemaId || !same(decoded, value))
              expect({ id, decoded }).toEqual({ id: schemaId, decoded: value });
          },
        ),
        { numRuns: RUNS },
      );
      console.info(`property ${name}: ${RUNS} runs in ${Math.round(performance.now() - started)} ms`);
    },
    180_000,
  );
});
