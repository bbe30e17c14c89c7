import { AVRO_PRIMITIVES } from "./model.js";
import type { Json, JsonObject } from "./types.js";

/** True when `value` is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The full name of `name` in `namespace` (Avro rules: a dotted name is already full). */
export function qualify(name: string, namespace: string): string {
  return name.includes(".") || namespace === "" ? name : `${namespace}.${name}`;
}

/** Namespace part of a full name (`""` for none). */
export function namespaceOf(fullName: string): string {
  const dot = fullName.lastIndexOf(".");
  return dot < 0 ? "" : fullName.slice(0, dot);
}

/** The namespace a named type's definition lives in: from its full name, its `namespace`, or the enclosing one. */
export function ownNamespace(node: JsonObject, enclosing: string): string {
  const name = String(node.name);
  if (name.includes(".")) return namespaceOf(name);
  return typeof node.namespace === "string" ? node.namespace : enclosing;
}

/** The non-null branch of `["null", T]`, else the type itself. */
function unwrapOptional(type: Json): Json {
  if (Array.isArray(type) && type.length === 2 && type[0] === "null") return type[1] ?? null;
  return type;
}

/** Looks up a named type by full name. */
export type TypeLookup = (fullName: string) => JsonObject | undefined;

const KEY_PRIMITIVES = new Set(["string", "int", "long", "bytes", "boolean"]);

/**
 * Follows a dotted field path (e.g. `meta.eventId`) from a record schema. Returns undefined when the path leads
 * to a scalar value (string, int, long, bytes, boolean, enum, or an optional one of them), else why it does not.
 */
export function checkFieldPath(record: JsonObject, path: string, lookup: TypeLookup): string | undefined {
  let current: JsonObject | undefined = record;
  let namespace = typeof record.name === "string" ? ownNamespace(record, "") : "";
  const segments = path.split(".");
  for (const [index, segment] of segments.entries()) {
    const fields: Json[] = Array.isArray(current?.fields) ? current.fields : [];
    const field = fields.find((f) => isObject(f) && f.name === segment);
    const walked = segments.slice(0, index + 1).join(".");
    if (!isObject(field)) return `field ${walked} does not exist`;
    let type = unwrapOptional(field.type ?? null);
    if (typeof type === "string" && !AVRO_PRIMITIVES.has(type)) {
      type = lookup(qualify(type, namespace)) ?? null;
      if (type === null) return `field ${walked} has an unknown type`;
    }
    const last = index === segments.length - 1;
    if (last) {
      const base = isObject(type) ? type.type : type;
      if (typeof base === "string" && (KEY_PRIMITIVES.has(base) || base === "enum")) return undefined;
      return `field ${walked} is not a scalar (string, int, long, bytes, boolean or enum)`;
    }
    if (!isObject(type) || (type.type !== "record" && type.type !== "error")) return `field ${walked} is not a record`;
    namespace = typeof type.name === "string" ? ownNamespace(type, namespace) : namespace;
    current = type;
  }
  return undefined;
}

/** Placeholders (`{field.path}`) of a routing key template. */
export function templateFields(template: string): string[] {
  return [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? "");
}
