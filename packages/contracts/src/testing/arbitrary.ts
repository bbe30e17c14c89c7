import type { Type } from "avsc";
import avsc from "avsc";
import fc, { type Arbitrary } from "fast-check";
import { createAvroType } from "../avro.js";
import {
  DateType,
  DecimalType,
  formatIsoDate,
  TimeMicrosType,
  TimeMillisType,
  TimestampMicrosType,
  TimestampMillisType,
  UuidType,
} from "../logical-types.js";

/** Options of {@link arbitraryForType}. */
export interface ArbitraryOptions {
  /** Deepest nesting of arrays, maps and records before recursive branches stop; default 4. */
  maxDepth?: number;
  /** Most items of an array or map; default 4. */
  maxItems?: number;
  /**
   * Which values to draw; default `"adversarial"`: full-unicode strings (any code point) up to 16 code points, any
   * safe integer for longs, any double, timestamps from year -140,000 to +275,000, dates in 0000–9999.
   * `"realistic"` draws what services send: printable ASCII strings of 1 to 32 characters, map keys that are ASCII
   * identifiers, ints from 0 to 100,000 (counts, sizes, durations), longs from 0 to 2^40 (versions, offsets), finite
   * doubles within ±10^6, bytes up to 64, timestamps in 2020–2030 and dates in 2000–2035.
   */
  data?: "adversarial" | "realistic";
}

const DAY_MIN = -719_528; // 0000-01-01
const REALISTIC_MS_MIN = Date.UTC(2020, 0, 1);
const REALISTIC_MS_MAX = Date.UTC(2030, 0, 1);
const REALISTIC_DAY_MIN = Date.UTC(2000, 0, 1) / 86_400_000;
const REALISTIC_DAY_MAX = Date.UTC(2035, 11, 31) / 86_400_000;
const IDENTIFIER_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";
const DAY_MAX = 2_932_896; // 9999-12-31
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The exact decimal text of an unscaled integer at `scale` ("-1230", 2 → "-12.30"). */
export function formatDecimal(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0");
  const whole = digits.slice(0, digits.length - scale);
  return `${negative ? "-" : ""}${whole}${scale > 0 ? `.${digits.slice(digits.length - scale)}` : ""}`;
}

/**
 * A fast-check arbitrary of valid values of an Avro schema (or avsc type built with `createAvroType`), in the
 * Kronos representation: what `encode` accepts and `decode` gives back, deep-equal.
 * Map keys never include `__proto__` (avsc would set the decoded object's prototype).
 */
export function arbitraryForType(
  schemaOrType: Type | object | string,
  options: ArbitraryOptions = {},
): Arbitrary<unknown> {
  const type = avsc.Type.isType(schemaOrType) ? (schemaOrType as Type) : createAvroType(schemaOrType);
  const maxDepth = options.maxDepth ?? 4;
  const maxItems = options.maxItems ?? 4;
  const realistic = options.data === "realistic";
  const memo = new Map<string, Arbitrary<unknown>>();

  function recursive(t: Type): boolean {
    const name = t.typeName;
    return name === "array" || name === "map" || name === "record" || name === "error";
  }

  function of(t: Type, depth: number): Arbitrary<unknown> {
    const key = t.name === undefined ? undefined : `${t.name}@${depth}`;
    if (key !== undefined) {
      const known = memo.get(key);
      if (known) return known;
      // Named types may be recursive: build lazily.
      const lazy = fc.constant(null).chain(() => build(t, depth));
      memo.set(key, lazy);
      return lazy;
    }
    return build(t, depth);
  }

  function build(t: Type, depth: number): Arbitrary<unknown> {
    const x = t as unknown as Record<string, unknown>;
    if (realistic) {
      const value = realisticValue(t);
      if (value) return value;
    }
    if (t instanceof TimestampMillisType) {
      // Kronos refuses timestamps below -2^52 ms (avsc long zig-zag is inexact there).
      return fc.date({ min: new Date(-(2 ** 52)), max: new Date(8.64e15), noInvalidDate: true });
    }
    if (t instanceof TimestampMicrosType) return fc.bigInt(INT64_MIN, INT64_MAX);
    if (t instanceof DateType) return fc.integer({ min: DAY_MIN, max: DAY_MAX }).map(formatIsoDate);
    if (t instanceof TimeMillisType) return fc.integer({ min: 0, max: 86_399_999 });
    if (t instanceof TimeMicrosType) return fc.integer({ min: 0, max: 86_399_999_999 });
    if (t instanceof UuidType) return fc.uuid();
    if (t instanceof DecimalType) {
      const bound = 10n ** BigInt(t.precision) - 1n;
      return fc.bigInt(-bound, bound).map((n) => formatDecimal(n, t.scale));
    }
    if (avsc.Type.isType(t, "logical")) return of(x.underlyingType as Type, depth);
    switch (t.typeName) {
      case "null":
        return fc.constant(null);
      case "boolean":
        return fc.boolean();
      case "int":
        return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
      case "long":
        return fc.maxSafeInteger();
      case "float":
        return fc.float();
      case "double":
        return fc.double();
      case "string":
        return fc.string({ unit: "binary", maxLength: 16 });
      case "bytes":
        return fc.uint8Array({ maxLength: 16 }).map((bytes) => Buffer.from(bytes));
      case "fixed": {
        const size = x.size as number;
        return fc.uint8Array({ minLength: size, maxLength: size }).map((bytes) => Buffer.from(bytes));
      }
      case "enum":
        return fc.constantFrom(...(x.symbols as string[]));
      case "array": {
        const items = x.itemsType as Type;
        if (depth >= maxDepth) return fc.constant([]);
        return fc.array(of(items, depth + 1), { maxLength: maxItems });
      }
      case "map": {
        if (depth >= maxDepth) return fc.constant({});
        const keys = (realistic ? realisticKey() : fc.string({ unit: "binary", maxLength: 8 })).filter(
          (k) => k !== "__proto__",
        );
        return fc.dictionary(keys, of(x.valuesType as Type, depth + 1), { maxKeys: maxItems, noNullPrototype: true });
      }
      case "record":
      case "error": {
        const fields = x.fields as { name: string; type: Type }[];
        const shape: Record<string, Arbitrary<unknown>> = {};
        for (const field of fields) shape[field.name] = of(field.type, depth + 1);
        return fc.record(shape);
      }
      case "union:unwrapped":
      case "union:wrapped": {
        const wrapped = t.typeName === "union:wrapped";
        let branches = x.types as Type[];
        // Past the depth limit, prefer branches that end the recursion (e.g. null).
        if (depth >= maxDepth && branches.some((b) => !recursive(b))) branches = branches.filter((b) => !recursive(b));
        return fc.oneof(
          ...branches.map((branch) => {
            const value = of(branch, depth + 1);
            if (!wrapped || branch.typeName === "null") return value;
            const name = branch.branchName as string;
            return value.map((v) => ({ [name]: v }));
          }),
        );
      }
      default:
        throw new Error(`no arbitrary for Avro type ${t.typeName}`);
    }
  }

  return of(type, 0);
}

/** The realistic profile's arbitrary for a type it changes, else undefined (the adversarial one is used). */
function realisticValue(t: Type): Arbitrary<unknown> | undefined {
  if (t instanceof TimestampMillisType) {
    return fc.integer({ min: REALISTIC_MS_MIN, max: REALISTIC_MS_MAX }).map((ms) => new Date(ms));
  }
  if (t instanceof TimestampMicrosType) {
    return fc.bigInt(BigInt(REALISTIC_MS_MIN) * 1000n, BigInt(REALISTIC_MS_MAX) * 1000n);
  }
  if (t instanceof DateType) return fc.integer({ min: REALISTIC_DAY_MIN, max: REALISTIC_DAY_MAX }).map(formatIsoDate);
  if (avsc.Type.isType(t, "logical")) return undefined;
  switch (t.typeName) {
    case "int":
      return fc.nat({ max: 100_000 });
    case "long":
      return fc.nat({ max: 2 ** 40 });
    case "double":
      return fc.double({ min: -1e6, max: 1e6, noNaN: true });
    case "string":
      return fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 32 });
    case "bytes":
      return fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes));
    default:
      return undefined;
  }
}

/** Realistic map keys: ASCII identifiers of 1 to 16 characters. */
function realisticKey(): Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...IDENTIFIER_CHARS), minLength: 1, maxLength: 16 });
}
