/**
 * The one Avro model of the repository: what {@link parseSchemaFiles} and {@link parseSchema} give codegen, the
 * catalog loader and the schema review. Named types are defined once (a {@link NamedType}) and every use is a
 * `named` node pointing at it by full name; every node and definition knows its file and JSON pointer, so a
 * problem can be shown as `file:line:col`.
 */

import type { Position } from "./json.js";
import type { SchemaError } from "./schema-error.js";

/** Avro primitive type names. */
export type Primitive = "null" | "boolean" | "int" | "long" | "float" | "double" | "bytes" | "string";

/** The Avro primitive type names (the one list). */
export const AVRO_PRIMITIVES: ReadonlySet<string> = new Set<Primitive>([
  "null",
  "boolean",
  "int",
  "long",
  "float",
  "double",
  "bytes",
  "string",
]);

/** The `type` values that define a named type (the one list): `error` is a record. */
export const NAMED_KINDS: ReadonlySet<string> = new Set(["record", "error", "enum", "fixed"]);

/** The timestamp logical types (on a long). */
export const TIMESTAMP_LOGICAL_TYPES: ReadonlySet<string> = new Set([
  "timestamp-millis",
  "timestamp-micros",
  "local-timestamp-millis",
  "local-timestamp-micros",
]);

/** The logical types the Kronos runtime (@kronos/contracts) implements: the parser's default. */
export const KRONOS_LOGICAL_TYPES: readonly string[] = [
  "date",
  "decimal",
  "local-timestamp-micros",
  "local-timestamp-millis",
  "time-micros",
  "time-millis",
  "timestamp-micros",
  "timestamp-millis",
  "uuid",
];

/** One Avro type in a schema; a named type appears as a `named` node referring to its {@link NamedType}. */
export type AvroType =
  | {
      kind: "primitive";
      type: Primitive;
      /** `logicalType` as written, if any. */
      logicalType: string | undefined;
      /** The logical type that applies: implemented by the runtime, on the right type, with valid parameters. */
      logical: string | undefined;
      json: unknown;
    }
  | { kind: "named"; fullName: string; file: string; pointer: string; reference: string }
  | { kind: "array"; items: AvroType; json: Record<string, unknown> }
  | { kind: "map"; values: AvroType; json: Record<string, unknown> }
  | { kind: "union"; branches: AvroType[]; pointer: string };

/** A record field. */
export interface AvroField {
  name: string;
  doc: string | undefined;
  type: AvroType;
  /** True when the field declares a `default` (which may be `null`). */
  hasDefault: boolean;
  default: unknown;
  /** The field's `aliases` (old names readers map to it). */
  aliases: string[];
  pointer: string;
  json: Record<string, unknown>;
}

/** A named type (record, enum or fixed; an Avro `error` is a record) and where it is defined. */
export interface NamedType {
  kind: "record" | "enum" | "fixed";
  fullName: string;
  /** The unqualified name. */
  name: string;
  namespace: string;
  /** Full names of the type's aliases. */
  aliases: string[];
  doc: string | undefined;
  file: string;
  pointer: string;
  /** True for the one named schema at the top of its file. */
  topLevel: boolean;
  /** The definition as written. */
  json: Record<string, unknown>;
  fields: AvroField[];
  symbols: string[];
  enumDefault: string | undefined;
  size: number;
  /** `logicalType` as written (fixed), if any. */
  logicalType: string | undefined;
  /** The logical type that applies (fixed: decimal), see {@link AvroType}. */
  logical: string | undefined;
}

/** One parsed schema file. */
export interface ParsedFile {
  path: string;
  /** The parsed JSON document. */
  json: Record<string, unknown>;
  /** Full name of the named schema the file holds. */
  root: string;
  /** Full names of every named type defined in the file, in definition order. */
  defined: string[];
  /** Full names the file refers to and does not define, in order of first use. */
  references: string[];
  /** Where each JSON pointer of the file starts (empty for a schema given as a value). */
  positions: ReadonlyMap<string, Position>;
}

/** Every schema file and named type of one parse, and the problems found (empty when none). */
export interface SchemaSet {
  /** The files that parsed, in path order. */
  files: ParsedFile[];
  /** Every named type of those files, by full name. */
  types: Map<string, NamedType>;
  /**
   * Every problem, in the order a reader meets them: per file in path order (a file stops at its first problem and
   * is left out of `files`), then across files (unknown names, ambiguous unions, defaults).
   */
  problems: SchemaError[];
}

/** The unqualified part of a full name. */
export function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf(".") + 1);
}

/** A type with its `named` nodes followed: a definition, or any other node. */
export type ResolvedType = Exclude<AvroType, { kind: "named" }> | NamedType;

/**
 * Follows a `named` node to its definition; other nodes are returned as they are.
 * @throws Error when the name is not in `types`.
 */
export function deref(types: ReadonlyMap<string, NamedType>, type: AvroType): ResolvedType {
  if (type.kind !== "named") return type;
  const def = types.get(type.fullName);
  if (def === undefined) throw new Error(`unknown type ${type.fullName}`);
  return def;
}

/** The name avsc gives a union branch: a named type's full name, otherwise the (underlying) type name. */
export function branchName(node: AvroType): string {
  switch (node.kind) {
    case "primitive":
      return node.type;
    case "named":
      return node.fullName;
    case "array":
    case "map":
      return node.kind;
    case "union":
      return "union";
  }
}
