import type { Type } from "avsc";
import avsc from "avsc";
import { describeError, type Violation } from "./errors.js";
import { KronosLogicalType } from "./logical-types.js";

interface RecordLike {
  readonly name?: string;
  readonly fields: ReadonlyArray<{ name: string; type: Type; defaultValue(): unknown }>;
}
interface UnionLike {
  readonly types: readonly Type[];
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Every way `value` fails to match `type`, each with a readable path (`labels.region`, `items[2].sku`,
 * `attributes["k"]`, `payload["com.acme.Money"].amount` for a wrapped union branch) and what was expected.
 * Fields a record does not declare are violations too (`unknown field`), so a misspelt field is never dropped.
 * Returns `[]` when the value is valid. Never throws.
 */
export function validateValue(type: Type, value: unknown): Violation[] {
  const violations: Violation[] = [];
  collect(type, value, "", violations);
  return violations;
}

function collect(type: Type, value: unknown, prefix: string, out: Violation[]): void {
  try {
    type.isValid(value, {
      noUndeclaredFields: true,
      errorHook: (path, failedValue, failedType) => {
        const where = prefix + formatPath(type, value, path, prefix === "");
        if (isRecord(failedType) && isPlainObject(failedValue)) {
          // avsc stops at the first undeclared field of a record; report each, then check the declared fields.
          const declared = new Set(failedType.fields.map((field) => field.name));
          for (const key of Object.keys(failedValue)) {
            if (!declared.has(key)) {
              out.push({
                path: join(where, key),
                message: `unknown field: ${failedType.name ?? "the record"} declares ${[...declared].join(", ") || "no fields"}`,
              });
            }
          }
          for (const field of failedType.fields) {
            const fieldValue = failedValue[field.name];
            if (fieldValue === undefined && field.defaultValue() !== undefined) continue;
            collect(field.type, fieldValue, join(where, field.name), out);
          }
          return;
        }
        out.push({ path: where, message: expectation(failedType, failedValue) });
      },
    });
  } catch (error) {
    // avsc throws for a value two logical branches of an unwrapped union both accept.
    out.push({ path: prefix, message: `cannot be checked: ${describeError(error)}` });
  }
}

function join(prefix: string, field: string): string {
  const segment = IDENTIFIER.test(field) ? field : `[${JSON.stringify(field)}]`;
  return prefix === "" || segment.startsWith("[") ? `${prefix}${segment}` : `${prefix}.${segment}`;
}

/** avsc's raw path (field names, array indices, map keys, wrapped branch names as strings) in readable form. */
function formatPath(root: Type, rootValue: unknown, path: string[], atRoot: boolean): string {
  let type: Type | undefined = root;
  let value = rootValue;
  let out = "";
  let first = atRoot;
  for (const segment of path) {
    type = type === undefined ? undefined : settle(type, value);
    const typeName = type?.typeName;
    const container = value as Record<string, unknown> | undefined;
    if (typeName === "array") {
      out += `[${segment}]`;
      type = (type as unknown as { itemsType: Type }).itemsType;
    } else if (typeName === "map") {
      out += `[${JSON.stringify(segment)}]`;
      type = (type as unknown as { valuesType: Type }).valuesType;
    } else if (typeName === "union:wrapped") {
      out += `[${JSON.stringify(segment)}]`;
      type = (type as unknown as UnionLike).types.find((branch) => branch.branchName === segment);
    } else {
      out += first ? segment : `.${segment}`;
      type = isRecord(type) ? type.fields.find((field) => field.name === segment)?.type : undefined;
    }
    first = false;
    value = container?.[segment];
  }
  return out;
}

/** The type that actually checks `value`: a logical type's underlying type, an unwrapped union's branch. */
function settle(type: Type, value: unknown): Type {
  let current = type;
  for (;;) {
    if (avsc.Type.isType(current, "logical")) {
      current = (current as unknown as { underlyingType: Type }).underlyingType;
    } else if (current.typeName === "union:unwrapped") {
      const wanted = Array.isArray(value) ? ["array"] : ["record", "error", "map"];
      const branch = (current as unknown as UnionLike).types.find((t) => wanted.includes(t.typeName));
      if (!branch) return current;
      current = branch;
    } else {
      return current;
    }
  }
}

function isRecord(type: Type | undefined): type is Type & RecordLike {
  return type !== undefined && (type.typeName === "record" || type.typeName === "error");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function branchLabel(type: Type): string {
  if (type instanceof KronosLogicalType) return type.typeName.replace(/^logical:/, "");
  return type.name ?? type.typeName;
}

/** What `type` expected, in words. */
function expectation(type: Type, value: unknown): string {
  if (value === undefined) return "missing required field";
  if (type instanceof KronosLogicalType) return type.expectation;
  switch (type.typeName) {
    case "int":
      return "expected int (an integer from -2^31 to 2^31-1)";
    case "long":
      return "expected long (an integer within ±(2^53-1))";
    case "abstract:long":
      return "expected a bigint within the 64-bit range";
    case "float":
    case "double":
      return `expected ${type.typeName} (a number)`;
    case "bytes":
      return "expected bytes (a Buffer)";
    case "fixed":
      return `expected fixed ${type.name} (a Buffer of ${(type as unknown as { size: number }).size} bytes)`;
    case "enum":
      return `expected one of ${(type as unknown as { symbols: string[] }).symbols.join("|")}`;
    case "array":
      return "expected array";
    case "map":
      return "expected map (a plain object)";
    case "record":
    case "error":
      return `expected record ${type.name} (an object)`;
    case "union:unwrapped":
      return `expected one of ${(type as unknown as UnionLike).types.map(branchLabel).join("|")}`;
    case "union:wrapped": {
      const branches = (type as unknown as UnionLike).types.filter((t) => t.typeName !== "null");
      const nullable = branches.length < (type as unknown as UnionLike).types.length ? "null or " : "";
      return `expected ${nullable}an object with exactly one key naming the branch: ${branches
        .map((t) => JSON.stringify(t.branchName))
        .join("|")}`;
    }
    default:
      return `expected ${type.typeName}`;
  }
}
