import { existsSync, readFileSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { EventDescriptor } from "../event.js";
import { frame, unframe } from "../framing.js";
import { arbitraryForType } from "./arbitrary.js";

/** One event's wire fixture: a known record (Avro JSON encoding) and its exact Confluent-framed bytes. */
interface WireFixture {
  schemaId: number;
  /** The record in Avro's JSON encoding (`type.toString`), independent of the binary codec under test. */
  record: string;
  framedHex: string;
}

/** The schema id written in wire fixtures: a constant, so fixtures do not depend on a registry. */
const FIXTURE_SCHEMA_ID = 7;

/**
 * Registers the conformance tests of a generated event package, for every descriptor in `events`:
 * - property: `runs` generated valid records → encode → frame → unframe → decode is deep-equal;
 * - wire fixture: the exact framed bytes of a known record, asserted both ways (encode equals the fixture, decode
 *   of the fixture equals the record). Fixtures live in `fixturesFile` (JSON); run the tests with
 *   `UPDATE_WIRE_FIXTURES=1` to (re)write it after a deliberate schema change, and review the diff.
 */
export function describeEventConformance(
  events: readonly EventDescriptor<unknown>[],
  options: { fixturesFile: string; runs?: number },
): void {
  const runs = options.runs ?? 10_000;
  const update = process.env.UPDATE_WIRE_FIXTURES === "1";
  const fixtures: Record<string, WireFixture> = existsSync(options.fixturesFile)
    ? JSON.parse(readFileSync(options.fixturesFile, "utf8"))
    : {};

  describe.each(events.map((event) => [event.name, event] as const))("%s", (_name, event) => {
    it(`round-trips ${runs} generated records through encode → frame → decode`, async () => {
      // Async, yielding to the event loop now and then: a long synchronous loop starves vitest's worker RPC
      // ("Timeout calling onTaskUpdate") when the machine is busy.
      let checked = 0;
      await fc.assert(
        fc.asyncProperty(arbitraryForType(event.type), async (record) => {
          if (++checked % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
          const framed = frame(FIXTURE_SCHEMA_ID, event.encode(record));
          const { schemaId, payload } = unframe(framed);
          expect(schemaId).toBe(FIXTURE_SCHEMA_ID);
          expect(event.decode(payload)).toEqual(record);
        }),
        { numRuns: runs, seed: 42 },
      );
    }, 120_000);

    it("matches its wire fixture both ways", () => {
      if (update) {
        const [sample] = fc.sample(arbitraryForType(event.type), { numRuns: 1, seed: 2026 });
        fixtures[event.name] = {
          schemaId: FIXTURE_SCHEMA_ID,
          record: event.type.toString(sample),
          framedHex: frame(FIXTURE_SCHEMA_ID, event.encode(sample)).toString("hex"),
        };
        writeFileSync(options.fixturesFile, `${JSON.stringify(sortKeys(fixtures), null, 2)}\n`);
      }
      const fixture = fixtures[event.name];
      if (!fixture) {
        throw new Error(
          `no wire fixture for ${event.name} in ${options.fixturesFile}: run with UPDATE_WIRE_FIXTURES=1`,
        );
      }
      const record = event.type.fromString(fixture.record);
      const framed = Buffer.from(fixture.framedHex, "hex");
      expect(frame(fixture.schemaId, event.encode(record)).toString("hex")).toBe(fixture.framedHex);
      const { schemaId, payload } = unframe(framed);
      expect(schemaId).toBe(fixture.schemaId);
      expect(event.decode(payload)).toEqual(record);
    });
  });
}

function sortKeys<T>(object: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
