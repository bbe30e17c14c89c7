import { AVRO_PRIMITIVES, isObject, type Json, type JsonObject, ownNamespace, qualify } from "@kronos/catalog";

/** Avro primitive type names. */
export type Primitive = "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string";

const NAMED_KINDS: ReadonlySet<string> = new Set(["record", "error", "enum", "fixed"]);

/** A field of an Avro record, normalized. */
export interface AvroField {
  name: string;
  type: AvroType;
  doc: string | undefined;
  /** True when the field declares a `default` (which may be `null`). */
  hasDefault: boolean;
  default: Json | undefined;
  aliases: string[];
}

/** An Avro type, normalized: names are full, named types appear expanded once and as `ref` after that. */
export type AvroType =
  | { kind: "primitive"; type: Primitive; logicalType: string | undefined }
  | {
      kind: "record";
      name: string;
      aliases: string[];
      doc: string | undefined;
      fields: AvroField[];
    }
  | {
      kind: "enum";
      name: string;
      aliases: string[];
      doc: string | undefined;
      symbols: string[];
      default: string | undefined;
    }
  | { kind: "fixed"; name: string; aliases: string[]; size: number; logicalType: string | undefined }
  | { kind: "array"; items: AvroType }
  | { kind: "map"; values: AvroType }
  | { kind: "union"; branches: AvroType[] }
  | { kind: "ref"; name: string };

/** Named Avro types (records, enums, fixed). */
export type NamedType = Extract<AvroType, { kind: "record" | "enum" | "fixed" }>;

/** A parsed schema: its root type and every named type it defines, by full name. */
export interface AvroSchema {
  root: AvroType;
  named: Map<string, NamedType>;
}

/** The unqualified part of a full name. */
export function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf(".") + 1);
}

function strings(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function text(value: Json | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * Normalizes a self-contained Avro schema (JSON) into an {@link AvroSchema}.
 * @throws Error naming the problem when the schema is not valid Avro (unknown name, missing fields...).
 */
export function parseAvro(json: Json): AvroSchema {
  const named = new Map<string, NamedType>();
  const visit = (node: Json, namespace: string): AvroType => {
    if (typeof node === "string") {
      if (AVRO_PRIMITIVES.has(node)) return { kind: "primitive", type: node as Primitive, logicalType: undefined };
      const name = qualify(node, namespace);
      if (!named.has(name)) throw new Error(`unknown type ${name}`);
      return { kind: "ref", name };
    }
    if (Array.isArray(node)) return { kind: "union", branches: node.map((branch) => visit(branch, namespace)) };
    if (!isObject(node)) throw new Error(`${JSON.stringify(node)} is not an Avro type`);
    const type = node.type;
    if (typeof type !== "string") return visit(type ?? null, namespace);
    const logicalType = text(node.logicalType);
    if (AVRO_PRIMITIVES.has(type)) return { kind: "primitive", type: type as Primitive, logicalType };
    if (type === "array") return { kind: "array", items: visit(node.items ?? null, namespace) };
    if (type === "map") return { kind: "map", values: visit(node.values ?? null, namespace) };
    if (!NAMED_KINDS.has(type)) return visit(type, namespace);
    if (typeof node.name !== "string") throw new Error(`a ${type} has no name`);
    const own = ownNamespace(node, namespace);
    const name = qualify(node.name, own);
    if (named.has(name)) throw new Error(`${name} is defined twice`);
    const aliases = strings(node.aliases).map((alias) => qualify(alias, own));
    if (type === "enum") {
      const def: NamedType = {
        kind: "enum",
        name,
        aliases,
        doc: text(node.doc),
        symbols: strings(node.symbols),
        default: text(node.default),
      };
      named.set(name, def);
      return def;
    }
    if (type === "fixed") {
      const def: NamedType = { kind: "fixed", name, aliases, size: Number(node.size), logicalType };
      named.set(name, def);
      return def;
    }
    const record: NamedType = { kind: "record", name, aliases, doc: text(node.doc), fields: [] };
    // Registered before its fields so a recursive reference resolves.
    named.set(name, record);
    for (const raw of Array.isArray(node.fields) ? node.fields : []) {
      if (!isObject(raw) || typeof raw.name !== "string") throw new Error(`${name} has a field without a name`);
      record.fields.push({
        name: raw.name,
        type: visit(raw.type ?? null, own),
        doc: text(raw.doc),
        hasDefault: "default" in raw,
        default: raw.default,
        aliases: strings(raw.aliases),
      });
    }
    return record;
  };
  return { root: visit(json, ""), named };
}

/** Follows a `ref` to its definition. */
export function deref(schema: AvroSchema, type: AvroType): AvroType {
  if (type.kind !== "ref") return type;
  const def = schema.named.get(type.name);
  if (def === undefined) throw new Error(`unknown type ${type.name}`);
  return def;
}

/** A short human description of a type: `long`, `long (timestamp-millis)`, `enum Level`, `null | string`. */
export function describe(schema: AvroSchema, type: AvroType): string {
  switch (type.kind) {
    case "primitive":
      return type.logicalType ? `${type.type} (${type.logicalType})` : type.type;
    case "ref":
      return describe(schema, deref(schema, type));
    case "record":
    case "enum":
      return `${type.kind} ${shortName(type.name)}`;
    case "fixed":
      return `fixed ${shortName(type.name)}(${type.size})`;
    case "array":
      return `array<${describe(schema, type.items)}>`;
    case "map":
      return `map<${describe(schema, type.values)}>`;
    case "union":
      return type.branches.map((b) => describe(schema, b)).join(" | ");
  }
}

/** Every named type a schema file defines (full name → definition with its namespace explicit). */
export function definitionsOf(schema: Json): Map<string, JsonObject> {
  const out = new Map<string, JsonObject>();
  const visit = (node: Json, namespace: string): void => {
    if (Array.isArray(node)) {
      for (const branch of node) visit(branch, namespace);
      return;
    }
    if (!isObject(node)) return;
    const type = node.type;
    if (typeof type === "string" && NAMED_KINDS.has(type) && typeof node.name === "string") {
      const own = ownNamespace(node, namespace);
      out.set(qualify(node.name, own), { ...node, namespace: own });
      for (const field of Array.isArray(node.fields) ? node.fields : []) {
        if (isObject(field) && field.type !== undefined) visit(field.type, own);
      }
      return;
    }
    if (type === "array" && node.items !== undefined) visit(node.items, namespace);
    else if (type === "map" && node.values !== undefined) visit(node.values, namespace);
    else if (type !== undefined && typeof type !== "string") visit(type, namespace);
  };
  visit(schema, "");
  return out;
}
