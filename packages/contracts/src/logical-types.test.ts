import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createAvroType } from "./avro.js";
import { isUuidText } from "./logical-types.js";

function roundTrip(schema: object, value: unknown): unknown {
  const type = createAvroType(schema);
  return type.fromBuffer(type.toBuffer(value));
}

describe("Kronos logical types", () => {
  it("timestamp-millis and local-timestamp-millis are Dates, exact to the millisecond", () => {
    for (const logicalType of ["timestamp-millis", "local-timestamp-millis"]) {
      const schema = { type: "long", logicalType };
      for (const ms of [0, -1, 1_700_000_000_123, 8.64e15, -(2 ** 52)]) {
        const back = roundTrip(schema, new Date(ms));
        expect(back).toBeInstanceOf(Date);
        expect((back as Date).getTime()).toBe(ms);
      }
      expect(createAvroType(schema).isValid(new Date(Number.NaN))).toBe(false);
      expect(createAvroType(schema).isValid(1_700_000_000_000)).toBe(false);
    }
  });

  it("timestamp-micros and local-timestamp-micros are bigints, exact over 64 bits", () => {
    for (const logicalType of ["timestamp-micros", "local-timestamp-micros"]) {
      const schema = { type: "long", logicalType };
      for (const us of [0n, -1n, 1_700_000_000_123_456n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n + 1n]) {
        expect(roundTrip(schema, us)).toBe(us);
      }
      expect(createAvroType(schema).isValid(2n ** 63n)).toBe(false);
      expect(createAvroType(schema).isValid(5)).toBe(false);
    }
  });

  it("date is YYYY-MM-DD, written as days since the epoch", () => {
    const type = createAvroType({ type: "int", logicalType: "date" });
    expect(type.toBuffer("1970-01-02").equals(createAvroType("int").toBuffer(1))).toBe(true);
    for (const day of ["1970-01-01", "2024-02-29", "0000-01-01", "9999-12-31", "1969-12-31", "1600-03-01"]) {
      expect(type.fromBuffer(type.toBuffer(day))).toBe(day);
    }
    for (const bad of ["2023-02-29", "2024-13-01", "2024-1-01", "20240101", "", 19_000]) {
      expect(type.isValid(bad)).toBe(false);
    }
  });

  it("time-millis and time-micros are numbers within a day", () => {
    expect(roundTrip({ type: "int", logicalType: "time-millis" }, 86_399_999)).toBe(86_399_999);
    expect(roundTrip({ type: "long", logicalType: "time-micros" }, 86_399_999_999)).toBe(86_399_999_999);
    expect(createAvroType({ type: "int", logicalType: "time-millis" }).isValid(86_400_000)).toBe(false);
    expect(createAvroType({ type: "int", logicalType: "time-millis" }).isValid(-1)).toBe(false);
    expect(createAvroType({ type: "long", logicalType: "time-micros" }).isValid(1.5)).toBe(false);
  });

  it("uuid is a checked string", () => {
    const schema = { type: "string", logicalType: "uuid" };
    const id = "123e4567-e89b-12d3-a456-426614174000";
    expect(roundTrip(schema, id)).toBe(id);
    expect(createAvroType(schema).isValid("not-a-uuid")).toBe(false);
    const stringType = createAvroType("string");
    expect(() => createAvroType(schema).fromBuffer(stringType.toBuffer("nope"))).toThrow(/not a UUID/);
  });

  it("decimal on bytes is the exact decimal string, canonical to its scale", () => {
    const schema = { type: "bytes", logicalType: "decimal", precision: 5, scale: 2 };
    for (const value of ["-12.30", "0.00", "999.99", "-999.99", "0.01", "-0.01", "127.00", "-128.00", "1.28"]) {
      expect(roundTrip(schema, value)).toBe(value);
    }
    expect(roundTrip(schema, "-12.3")).toBe("-12.30");
    expect(roundTrip(schema, "7")).toBe("7.00");
    // Two's complement, big-endian, minimal: -1230 = 0xFB32.
    expect([...createAvroType(schema).toBuffer("-12.30")]).toEqual([4, 0xfb, 0x32]);
    const type = createAvroType(schema);
    for (const bad of ["1000.00", "1.234", "1e3", "12,30", "", " 1.00", 1.5]) {
      expect(type.isValid(bad)).toBe(false);
    }
  });

  it("decimal on fixed sign-extends to the fixed size", () => {
    const schema = { type: "fixed", name: "D4", size: 4, logicalType: "decimal", precision: 9, scale: 0 };
    const type = createAvroType(schema);
    expect([...type.toBuffer("-1")]).toEqual([0xff, 0xff, 0xff, 0xff]);
    for (const value of ["-1", "0", "999999999", "-999999999"])
      expect(type.fromBuffer(type.toBuffer(value))).toBe(value);
    expect(type.isValid("1000000000")).toBe(false);
  });

  it("falls back to the underlying type for unknown or invalid logical types", () => {
    expect(roundTrip({ type: "string", logicalType: "kronos-unknown" }, "x")).toBe("x");
    expect(roundTrip({ type: "bytes", logicalType: "decimal" }, Buffer.from([1]))).toEqual(Buffer.from([1]));
    expect(roundTrip({ type: "int", logicalType: "timestamp-millis" }, 5)).toBe(5);
    expect(roundTrip({ type: "fixed", name: "U", size: 16, logicalType: "uuid" }, Buffer.alloc(16))).toEqual(
      Buffer.alloc(16),
    );
  });

  it("resolves a plain long writer into a logical reader", () => {
    const writer = createAvroType({ type: "record", name: "R", fields: [{ name: "at", type: "long" }] });
    const reader = createAvroType({
      type: "record",
      name: "R",
      fields: [{ name: "at", type: { type: "long", logicalType: "timestamp-micros" } }],
    });
    const value = reader.fromBuffer(writer.toBuffer({ at: 42 }), reader.createResolver(writer));
    expect(value.at).toBe(42n);
    const millis = createAvroType({ type: "long", logicalType: "timestamp-millis" });
    const intWriter = createAvroType("int");
    expect(millis.fromBuffer(intWriter.toBuffer(7), millis.createResolver(intWriter))).toEqual(new Date(7));
  });
});

describe("long", () => {
  it("round-trips every safe integer exactly, including negatives below -2^52 (inexact in plain avsc)", () => {
    const type = createAvroType("long");
    for (const n of [0, -1, 2 ** 52, -(2 ** 52) - 1, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -6e15]) {
      expect(type.fromBuffer(type.toBuffer(n))).toBe(n);
    }
    expect(type.isValid(2 ** 53)).toBe(false);
    const union = createAvroType(["null", "long"]);
    expect(union.fromBuffer(union.toBuffer(-6e15))).toBe(-6e15);
    expect(union.typeName).toBe("union:unwrapped");
    expect(createAvroType(["int", "long"]).typeName).toBe("union:wrapped");
  });
});

describe("isUuidText", () => {
  const PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

  it("accepts exactly what the 8-4-4-4-12 pattern accepts", () => {
    // UUIDs, UUIDs with one character replaced by anything (including non-ASCII), and arbitrary text.
    const oneOff = fc
      .tuple(fc.uuid(), fc.nat({ max: 35 }), fc.string({ unit: "binary", minLength: 1, maxLength: 1 }))
      .map(([uuid, at, ch]) => uuid.slice(0, at) + ch + uuid.slice(at + 1));
    const text = fc.oneof(
      fc.uuid(),
      fc.uuid().map((u) => u.toUpperCase()),
      oneOff,
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(text, (candidate) => {
        expect(isUuidText(candidate)).toBe(PATTERN.test(candidate));
      }),
      { numRuns: 5_000 },
    );
    expect(isUuidText("123e4567-e89b-12d3-a456-426614174000\n")).toBe(false);
  });
});
