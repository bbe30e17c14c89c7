import {
  DecimalType,
  type EventDescriptor,
  TimestampMicrosType,
  TimestampMillisType,
  type Violation,
} from "@kronos/contracts";

/** An avsc type, as event descriptors hold it. */
type Type = EventDescriptor<unknown>["type"];

interface Field {
  readonly name: string;
  readonly type: Type;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const INTEGER = /^-?\d+$/;
// ISO-8601 date-time with a zone (Z or ±hh:mm); a date alone is accepted as midnight UTC.
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2}))?$/;

/** The result of {@link jsonToAvro}: the converted value and the conversion problems, each with its path. */
export interface Conversion {
  readonly value: unknown;
  readonly violations: Violation[];
}

/**
 * Turns a JSON value (as `JSON.parse` gives it) into the Avro JS representation of `type` (see @kronos/contracts),
 * so that it can be validated and encoded:
 *
 * - timestamp-millis / local-timestamp-millis: an ISO-8601 date-time string with a zone (or a date, as midnight
 *   UTC) or epoch milliseconds → `Date`;
 * - timestamp-micros / local-timestamp-micros: an integer number or a decimal integer string → `bigint`;
 * - bytes and fixed: a base64 string → `Buffer` (a fixed's size is checked here);
 * - decimal: its string form stays a string (a JSON number is accepted and turned into its string);
 * - wrapped unions: `{ "<branch>": value }` converts the branch value; unwrapped unions take the plain value, the
 *   first branch that accepts it wins; records, arrays and maps are walked.
 *
 * Everything else is left as it is for the validator, which reports it with the same paths. Never throws: a value
 * that cannot be converted is left unchanged and reported in `violations` (path as the validator writes it, e.g.
 * `meta.occurredAt`, `items[2].sku`, `labels["k"]`).
 */
export function jsonToAvro(type: Type, json: unknown): Conversion {
  const violations: Violation[] = [];
  const value = convert(type, json, "", violations);
  return { value, violations };
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Turns a decoded Avro value (the JS representation @kronos/contracts gives) into JSON, the reverse of
 * {@link jsonToAvro}, so that a reply or a delivered event reads the way a publish payload is written:
 *
 * - `Date` (timestamp-millis) → ISO-8601 string with `Z`;
 * - `bigint` (timestamp-micros) → a number when it is a safe integer, else its decimal string;
 * - `Buffer` (bytes, fixed) → base64;
 * - records, maps, arrays and wrapped unions (`{ "<branch>": value }`) are walked; strings (decimal, date, uuid),
 *   numbers, booleans and null stay as they are (`NaN` and infinities become `null`, as in `JSON.stringify`).
 *
 * The result is plain JSON data: `JSON.stringify` needs no replacer for it.
 */
export function avroToJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (typeof value === "bigint") return value >= MIN_SAFE && value <= MAX_SAFE ? Number(value) : value.toString();
  if (Array.isArray(value)) return value.map(avroToJson);
  if (typeof value === "object") {
    const json: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) json[key] = avroToJson(item);
    return json;
  }
  if (typeof value === "number" && !Number.isFinite(value)) return null;
  return value;
}

function join(prefix: string, field: string): string {
  const segment = IDENTIFIER.test(field) ? field : `[${JSON.stringify(field)}]`;
  return prefix === "" || segment.startsWith("[") ? `${prefix}${segment}` : `${prefix}.${segment}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function convert(type: Type, json: unknown, path: string, out: Violation[]): unknown {
  if (type instanceof TimestampMillisType) return toDate(json, path, out);
  if (type instanceof TimestampMicrosType) return toMicros(json, path, out);
  if (type instanceof DecimalType) return typeof json === "number" && Number.isFinite(json) ? String(json) : json;
  const typeName = type.typeName;
  if (typeName.startsWith("logical:")) {
    // Other logical types (date, time, uuid, unknown ones) are JSON-native or convert like their underlying type.
    const underlying = (type as unknown as { underlyingType: Type }).underlyingType;
    return ["bytes", "fixed"].includes(underlying.typeName) ? convert(underlying, json, path, out) : json;
  }
  switch (typeName) {
    case "bytes":
      return toBuffer(json, path, out, undefined);
    case "fixed":
      return toBuffer(json, path, out, (type as unknown as { size: number }).size);
    case "array": {
      if (!Array.isArray(json)) return json;
      const items = (type as unknown as { itemsType: Type }).itemsType;
      return json.map((item, index) => convert(items, item, `${path}[${index}]`, out));
    }
    case "map": {
      if (!isPlainObject(json)) return json;
      const values = (type as unknown as { valuesType: Type }).valuesType;
      const result: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(json)) {
        result[key] = convert(values, item, `${path}[${JSON.stringify(key)}]`, out);
      }
      return result;
    }
    case "record":
    case "error": {
      if (!isPlainObject(json)) return json;
      const fields = (type as unknown as { fields: readonly Field[] }).fields;
      const result: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(json)) {
        const field = fields.find((f) => f.name === key);
        result[key] = field ? convert(field.type, item, join(path, key), out) : item;
      }
      return result;
    }
    case "union:wrapped":
      return convertWrapped(type, json, path, out);
    case "union:unwrapped":
      return convertUnwrapped(type, json, path, out);
    default:
      return json;
  }
}

function convertWrapped(type: Type, json: unknown, path: string, out: Violation[]): unknown {
  if (!isPlainObject(json)) return json;
  const keys = Object.keys(json);
  if (keys.length !== 1) return json;
  const name = keys[0] as string;
  const branch = (type as unknown as { types: readonly Type[] }).types.find((t) => t.branchName === name);
  if (!branch) return json;
  return { [name]: convert(branch, json[name], `${path}[${JSON.stringify(name)}]`, out) };
}

function convertUnwrapped(type: Type, json: unknown, path: string, out: Violation[]): unknown {
  if (json === null) return null;
  const branches = (type as unknown as { types: readonly Type[] }).types.filter((t) => t.typeName !== "null");
  let firstProblems: Violation[] | undefined;
  for (const branch of branches) {
    const problems: Violation[] = [];
    const value = convert(branch, json, path, problems);
    if (problems.length === 0 && branch.isValid(value)) return value;
    firstProblems ??= problems;
  }
  // No branch takes it as is: when exactly one branch could convert the value, report why that branch refused it.
  if (branches.length === 1 && firstProblems !== undefined && firstProblems.length > 0) {
    out.push(...firstProblems);
    return json;
  }
  // Let the validator name the branches (for records and arrays it also reports the nested problems).
  const objectBranch = branches.find((b) => ["record", "error", "map", "array"].includes(b.typeName));
  return objectBranch && typeof json === "object" ? convert(objectBranch, json, path, out) : json;
}

function toDate(json: unknown, path: string, out: Violation[]): unknown {
  let ms: number | undefined;
  if (typeof json === "number" && Number.isSafeInteger(json)) ms = json;
  else if (typeof json === "string" && ISO_DATE_TIME.test(json.trim())) ms = Date.parse(json.trim());
  if (ms === undefined || Number.isNaN(ms) || Math.abs(ms) > 8.64e15) {
    out.push({
      path,
      message:
        json === undefined
          ? "missing required field"
          : "expected a timestamp: an ISO-8601 date-time with a zone (e.g. 2024-05-01T12:00:00.000Z) or epoch milliseconds",
    });
    return json;
  }
  return new Date(ms);
}

function toMicros(json: unknown, path: string, out: Violation[]): unknown {
  if (typeof json === "number" && Number.isSafeInteger(json)) return BigInt(json);
  if (typeof json === "string" && INTEGER.test(json.trim())) return BigInt(json.trim());
  out.push({
    path,
    message:
      json === undefined
        ? "missing required field"
        : "expected microseconds since the epoch: an integer, or a string of decimal digits for values beyond 2^53",
  });
  return json;
}

function toBuffer(json: unknown, path: string, out: Violation[], size: number | undefined): unknown {
  if (typeof json !== "string" || !BASE64.test(json)) {
    out.push({
      path,
      message:
        json === undefined
          ? "missing required field"
          : `expected base64 (standard alphabet, padded)${size === undefined ? "" : ` of ${size} bytes`}`,
    });
    return json;
  }
  const buffer = Buffer.from(json, "base64");
  if (size !== undefined && buffer.length !== size) {
    out.push({ path, message: `expected base64 of exactly ${size} bytes, got ${buffer.length}` });
    return json;
  }
  return buffer;
}

/**
 * Validation of a JSON payload against an event's type: conversion ({@link jsonToAvro}) then the contracts
 * validator. Returns the converted value and every violation, conversion problems first; a path reported by the
 * conversion is not reported again by the validator.
 */
export function checkPayload(
  type: Type,
  validate: (value: unknown) => Violation[],
  json: unknown,
): { value: unknown; violations: Violation[] } {
  const { value, violations } = jsonToAvro(type, json);
  const converted = new Set(violations.map((v) => v.path));
  const rest = validate(value).filter((v) => !converted.has(v.path));
  return { value, violations: [...violations, ...rest] };
}
