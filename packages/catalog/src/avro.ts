import type { Json, JsonObject } from "./types.js";

/** Avro primitive type names. */
export const AVRO_PRIMITIVES: ReadonlySet<string> = new Set([
  "null",
  "boolean",
  "int",
  "long",
  "float",
  "double",
  "bytes",
  "string",
]);

const NAMED_KINDS = new Set(["record", "error", "enum", "fixed"]);
const TIMESTAMP_LOGICAL_TYPES = new Set([
  "timestamp-millis",
  "timestamp-micros",
  "local-timestamp-millis",
  "local-timestamp-micros",
]);

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

/** Full name and namespace of a named-type definition seen in `enclosing` namespace. */
function definitionName(def: JsonObject, enclosing: string): { name: string; namespace: string } | undefined {
  if (typeof def.name !== "string") return undefined;
  const namespace = def.name.includes(".")
    ? namespaceOf(def.name)
    : typeof def.namespace === "string"
      ? def.namespace
      : enclosing;
  const name = qualify(def.name, namespace);
  return { name, namespace };
}

/** A named type defined in a schema. */
export interface Definition {
  name: string;
  kind: "record" | "enum" | "fixed";
  /** The definition with `namespace` explicit, so it reads the same anywhere. */
  schema: JsonObject;
}

/** Named types a schema defines and the full names of the named types it references. */
export interface SchemaScan {
  definitions: Definition[];
  references: string[];
}

/** Walks a schema: every named type it defines and every non-primitive name it references (full names). */
export function scanSchema(schema: Json, enclosing = ""): SchemaScan {
  const scan: SchemaScan = { definitions: [], references: [] };
  const visit = (node: Json, namespace: string): void => {
    if (typeof node === "string") {
      if (!AVRO_PRIMITIVES.has(node)) scan.references.push(qualify(node, namespace));
      return;
    }
    if (Array.isArray(node)) {
      for (const branch of node) visit(branch, namespace);
      return;
    }
    if (!isObject(node)) return;
    const type = node.type;
    if (typeof type === "string" && NAMED_KINDS.has(type)) {
      const named = definitionName(node, namespace);
      if (named === undefined) return;
      scan.definitions.push({
        name: named.name,
        kind: type === "error" ? "record" : (type as Definition["kind"]),
        schema: { ...node, namespace: named.namespace },
      });
      if (Array.isArray(node.fields)) {
        for (const field of node.fields)
          if (isObject(field) && field.type !== undefined) visit(field.type, named.namespace);
      }
      return;
    }
    if (type === "array" && node.items !== undefined) visit(node.items, namespace);
    else if (type === "map" && node.values !== undefined) visit(node.values, namespace);
    else if (type !== undefined && typeof type !== "string") visit(type, namespace);
    else if (typeof type === "string" && !AVRO_PRIMITIVES.has(type) && type !== "array" && type !== "map") {
      // `{"type": "kronos.user.Role"}`: a reference written as an object.
      scan.references.push(qualify(type, namespace));
    }
  };
  visit(schema, enclosing);
  return scan;
}

/** A rule violation found by {@link lintSchema}. */
export interface LintProblem {
  /** Type or field, e.g. `kronos.auth.LoginFailed` or `kronos.auth.LoginFailed.reason`. */
  entry: string;
  message: string;
}

function hasDoc(node: JsonObject): boolean {
  return typeof node.doc === "string" && node.doc.trim() !== "";
}

/** The non-null branch of `["null", T]`, else the type itself. */
function unwrapOptional(type: Json): Json {
  if (Array.isArray(type) && type.length === 2 && type[0] === "null") return type[1] ?? null;
  return type;
}

function isTimestampName(name: string): boolean {
  return name === "timestamp" || /[a-z0-9]At$/.test(name);
}

/**
 * Checks the Kronos schema rules: every named type and every field has a `doc`; every enum has a `default`
 * symbol (so it can grow); optional fields are `["null", T]` with `"default": null`; fields named `timestamp` or
 * ending in `At` are longs with a timestamp logical type. Returns every violation (empty when none).
 */
export function lintSchema(schema: Json, enclosing = ""): LintProblem[] {
  const problems: LintProblem[] = [];
  const visit = (node: Json, namespace: string): void => {
    if (Array.isArray(node)) {
      for (const branch of node) visit(branch, namespace);
      return;
    }
    if (!isObject(node)) return;
    const type = node.type;
    if (typeof type === "string" && NAMED_KINDS.has(type)) {
      const named = definitionName(node, namespace);
      if (named === undefined) {
        problems.push({ entry: "(schema)", message: `a ${type} has no name` });
        return;
      }
      if (!hasDoc(node)) problems.push({ entry: named.name, message: `${type} has no doc` });
      if (type === "enum") {
        const symbols = Array.isArray(node.symbols) ? node.symbols : [];
        if (node.default === undefined) {
          problems.push({
            entry: named.name,
            message: 'enum has no "default" symbol (add one, e.g. UNKNOWN, so the enum can grow)',
          });
        } else if (!symbols.includes(node.default)) {
          problems.push({ entry: named.name, message: `enum default ${JSON.stringify(node.default)} is not a symbol` });
        }
      }
      if (Array.isArray(node.fields)) {
        for (const field of node.fields) {
          if (!isObject(field) || typeof field.name !== "string") continue;
          lintField(field, `${named.name}.${field.name}`, problems);
          if (field.type !== undefined) visit(field.type, named.namespace);
        }
      }
      return;
    }
    if (type === "array" && node.items !== undefined) visit(node.items, namespace);
    else if (type === "map" && node.values !== undefined) visit(node.values, namespace);
    else if (type !== undefined && typeof type !== "string") visit(type, namespace);
  };
  visit(schema, enclosing);
  return problems;
}

function lintField(field: JsonObject, entry: string, problems: LintProblem[]): void {
  const name = field.name as string;
  if (!hasDoc(field)) problems.push({ entry, message: "field has no doc" });
  const type = field.type;
  if (Array.isArray(type) && type.includes("null")) {
    if (type.length !== 2 || type[0] !== "null") {
      problems.push({ entry, message: 'optional field must be ["null", T] (null first, one other branch)' });
    } else if (!("default" in field) || field.default !== null) {
      problems.push({ entry, message: 'optional field must have "default": null' });
    }
  }
  if (isTimestampName(name)) {
    const inner = unwrapOptional(type ?? null);
    const ok = isObject(inner) && inner.type === "long" && TIMESTAMP_LOGICAL_TYPES.has(String(inner.logicalType));
    if (!ok) {
      problems.push({
        entry,
        message:
          'timestamp field must be {"type": "long", "logicalType": "timestamp-millis"} (or another timestamp logical type)',
      });
    }
  }
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
  let namespace = definitionName(record, "")?.namespace ?? "";
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
    namespace = definitionName(type, namespace)?.namespace ?? namespace;
    current = type;
  }
  return undefined;
}

/** Placeholders (`{field.path}`) of a routing key template. */
export function templateFields(template: string): string[] {
  return [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? "");
}
