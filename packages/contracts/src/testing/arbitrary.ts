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
}

const DAY_MIN = -719_528; // 0000-01-01
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
        const keys = fc.string({ unit: "binary", maxLength: 8 }).filter((k) => k !== "__proto__");
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
