import type { Type } from "avsc";
import type { Violation } from "./errors.js";
import { DecimalType, TimestampMicrosType, TimestampMillisType } from "./logical-types.js";

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
 * The JSON converter stage: turns a JSON value (as `JSON.parse` gives it) into the Avro JS representation of `type`
 * (the event descriptor's `type`), so that it can be validated and encoded:
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
  const walk: Walk = { segments: [], out: [] };
  const value = convert(type, json, walk);
  return { value, violations: walk.out };
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

/**
 * Where the conversion is in the value: the segments from the root, pushed and popped as it walks (no string is
 * built unless a violation is reported, which is rare; building every path was most of a valid payload's cost).
 * A number is an array index, a {@link Keyed} a map key or union branch name, a string a record field.
 */
type Segment = string | number | Keyed;

/** A map key or wrapped-union branch name: written `["key"]` in a path. */
class Keyed {
  constructor(readonly key: string) {}
}

/** The path of `segments` as the validator writes it, e.g. `meta.occurredAt`, `items[2].sku`, `labels["k"]`. */
function pathOf(segments: readonly Segment[]): string {
  let path = "";
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else if (segment instanceof Keyed) path += `[${JSON.stringify(segment.key)}]`;
    else if (!IDENTIFIER.test(segment)) path += `[${JSON.stringify(segment)}]`;
    else path += path === "" ? segment : `.${segment}`;
  }
  return path;
}

/** The conversion problems found so far, and where the walk is. */
interface Walk {
  readonly segments: Segment[];
  readonly out: Violation[];
}

function report(walk: Walk, message: string): void {
  walk.out.push({ path: pathOf(walk.segments), message });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** How each kind of type converts, worked out once per avsc type (types are shared by every request). */
type Plan =
  | { readonly kind: "timestamp-millis" | "timestamp-micros" | "decimal" | "bytes" | "as-is" }
  | { readonly kind: "fixed"; readonly size: number }
  | { readonly kind: "array"; readonly items: Type }
  | { readonly kind: "map"; readonly values: Type }
  | { readonly kind: "record"; readonly fields: ReadonlyMap<string, Type> }
  | { readonly kind: "wrapped"; readonly branches: ReadonlyMap<string, Type> }
  | { readonly kind: "unwrapped"; readonly branches: readonly Type[]; readonly objectBranch: Type | undefined }
  | { readonly kind: "underlying"; readonly type: Type };

const PLANS = new WeakMap<Type, Plan>();
const AS_IS: Plan = { kind: "as-is" };

/**
 * The plan of `type`; a record, array, map, union or logical type from which no converting type (timestamps,
 * bytes, fixed, decimal) can be reached is taken as it is, without walking it: converting it would copy the
 * same values.
 */
function planOf(type: Type): Plan {
  let plan = PLANS.get(type);
  if (!plan) {
    plan = makePlan(type);
    if (childrenOf(plan).length > 0 && !reachesConversion(type)) plan = AS_IS;
    PLANS.set(type, plan);
  }
  return plan;
}

/** The types a plan converts its parts with. */
function childrenOf(plan: Plan): readonly Type[] {
  switch (plan.kind) {
    case "array":
      return [plan.items];
    case "map":
      return [plan.values];
    case "record":
      return [...plan.fields.values()];
    case "wrapped":
      return [...plan.branches.values()];
    case "unwrapped":
      return plan.branches;
    case "underlying":
      return [plan.type];
    default:
      return [];
  }
}

/** The plans that change a JSON value themselves (the others only walk into their parts). */
const CONVERTING: ReadonlySet<Plan["kind"]> = new Set([
  "timestamp-millis",
  "timestamp-micros",
  "decimal",
  "bytes",
  "fixed",
]);

/** Whether a type that changes a JSON value can be reached from `root` (recursive schemas included). */
function reachesConversion(root: Type): boolean {
  const seen = new Set<Type>();
  const stack: Type[] = [root];
  for (let type = stack.pop(); type !== undefined; type = stack.pop()) {
    if (seen.has(type)) continue;
    seen.add(type);
    const plan = makePlan(type);
    if (CONVERTING.has(plan.kind)) return true;
    stack.push(...childrenOf(plan));
  }
  return false;
}

function makePlan(type: Type): Plan {
  if (type instanceof TimestampMillisType) return { kind: "timestamp-millis" };
  if (type instanceof TimestampMicrosType) return { kind: "timestamp-micros" };
  if (type instanceof DecimalType) return { kind: "decimal" };
  const typeName = type.typeName;
  const t = type as unknown as Record<string, unknown>;
  if (typeName.startsWith("logical:")) {
    // Other logical types (date, time, uuid, unknown ones) are JSON-native or convert like their underlying type.
    const underlying = t.underlyingType as Type;
    return ["bytes", "fixed"].includes(underlying.typeName)
      ? { kind: "underlying", type: underlying }
      : { kind: "as-is" };
  }
  switch (typeName) {
    case "bytes":
      return { kind: "bytes" };
    case "fixed":
      return { kind: "fixed", size: t.size as number };
    case "array":
      return { kind: "array", items: t.itemsType as Type };
    case "map":
      return { kind: "map", values: t.valuesType as Type };
    case "record":
    case "error":
      return { kind: "record", fields: new Map((t.fields as Field[]).map((f) => [f.name, f.type] as const)) };
    case "union:wrapped":
      return {
        kind: "wrapped",
        branches: new Map((t.types as Type[]).map((b) => [b.branchName as string, b] as const)),
      };
    case "union:unwrapped": {
      const branches = (t.types as Type[]).filter((b) => b.typeName !== "null");
      const objectBranch = branches.find((b) => ["record", "error", "map", "array"].includes(b.typeName));
      return { kind: "unwrapped", branches, objectBranch };
    }
    default:
      return { kind: "as-is" };
  }
}

function convert(type: Type, json: unknown, walk: Walk): unknown {
  const plan = planOf(type);
  switch (plan.kind) {
    case "as-is":
      return json;
    case "timestamp-millis":
      return toDate(json, walk);
    case "timestamp-micros":
      return toMicros(json, walk);
    case "decimal":
      return typeof json === "number" && Number.isFinite(json) ? String(json) : json;
    case "underlying":
      return convert(plan.type, json, walk);
    case "bytes":
      return toBuffer(json, walk, undefined);
    case "fixed":
      return toBuffer(json, walk, plan.size);
    case "array": {
      if (!Array.isArray(json)) return json;
      const result = new Array<unknown>(json.length);
      const { segments } = walk;
      for (let index = 0; index < json.length; index++) {
        segments.push(index);
        result[index] = convert(plan.items, json[index], walk);
        segments.pop();
      }
      return result;
    }
    case "map": {
      if (!isPlainObject(json)) return json;
      const result: Record<string, unknown> = {};
      for (const key in json) {
        if (!Object.hasOwn(json, key)) continue;
        walk.segments.push(new Keyed(key));
        result[key] = convert(plan.values, json[key], walk);
        walk.segments.pop();
      }
      return result;
    }
    case "record": {
      if (!isPlainObject(json)) return json;
      const result: Record<string, unknown> = {};
      for (const key in json) {
        if (!Object.hasOwn(json, key)) continue;
        const field = plan.fields.get(key);
        if (field === undefined) {
          result[key] = json[key];
          continue;
        }
        walk.segments.push(key);
        result[key] = convert(field, json[key], walk);
        walk.segments.pop();
      }
      return result;
    }
    case "wrapped":
      return convertWrapped(plan.branches, json, walk);
    case "unwrapped":
      return convertUnwrapped(plan.branches, plan.objectBranch, json, walk);
  }
}

function convertWrapped(branches: ReadonlyMap<string, Type>, json: unknown, walk: Walk): unknown {
  if (!isPlainObject(json)) return json;
  const keys = Object.keys(json);
  if (keys.length !== 1) return json;
  const name = keys[0] as string;
  const branch = branches.get(name);
  if (!branch) return json;
  walk.segments.push(new Keyed(name));
  const value = convert(branch, json[name], walk);
  walk.segments.pop();
  return { [name]: value };
}

function convertUnwrapped(
  branches: readonly Type[],
  objectBranch: Type | undefined,
  json: unknown,
  walk: Walk,
): unknown {
  if (json === null) return null;
  let firstProblems: Violation[] | undefined;
  for (const branch of branches) {
    const trial: Walk = { segments: walk.segments, out: [] };
    const value = convert(branch, json, trial);
    if (trial.out.length === 0 && branch.isValid(value)) return value;
    firstProblems ??= trial.out;
  }
  // No branch takes it as is: when exactly one branch could convert the value, report why that branch refused it.
  if (branches.length === 1 && firstProblems !== undefined && firstProblems.length > 0) {
    walk.out.push(...firstProblems);
    return json;
  }
  // Let the validator name the branches (for records and arrays it also reports the nested problems).
  return objectBranch && typeof json === "object" ? convert(objectBranch, json, walk) : json;
}

function toDate(json: unknown, walk: Walk): unknown {
  let ms: number | undefined;
  if (typeof json === "number" && Number.isSafeInteger(json)) ms = json;
  else if (typeof json === "string" && ISO_DATE_TIME.test(json.trim())) ms = Date.parse(json.trim());
  if (ms === undefined || Number.isNaN(ms) || Math.abs(ms) > 8.64e15) {
    report(
      walk,
      json === undefined
        ? "missing required field"
        : "expected a timestamp: an ISO-8601 date-time with a zone (e.g. 2024-05-01T12:00:00.000Z) or epoch milliseconds",
    );
    return json;
  }
  return new Date(ms);
}

function toMicros(json: unknown, walk: Walk): unknown {
  if (typeof json === "number" && Number.isSafeInteger(json)) return BigInt(json);
  if (typeof json === "string" && INTEGER.test(json.trim())) return BigInt(json.trim());
  report(
    walk,
    json === undefined
      ? "missing required field"
      : "expected microseconds since the epoch: an integer, or a string of decimal digits for values beyond 2^53",
  );
  return json;
}

function toBuffer(json: unknown, walk: Walk, size: number | undefined): unknown {
  if (typeof json !== "string" || !BASE64.test(json)) {
    report(
      walk,
      json === undefined
        ? "missing required field"
        : `expected base64 (standard alphabet, padded)${size === undefined ? "" : ` of ${size} bytes`}`,
    );
    return json;
  }
  const buffer = Buffer.from(json, "base64");
  if (size !== undefined && buffer.length !== size) {
    report(walk, `expected base64 of exactly ${size} bytes, got ${buffer.length}`);
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
  if (violations.length === 0) return { value, violations: validate(value) };
  const converted = new Set(violations.map((v) => v.path));
  const rest = validate(value).filter((v) => !converted.has(v.path));
  return { value, violations: [...violations, ...rest] };
}
