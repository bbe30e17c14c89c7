import {
  type AvroField,
  type AvroType,
  deref as follow,
  type NamedType,
  type Primitive,
  parseSchema,
  type ResolvedType,
  shortName,
} from "@kronos/catalog";

export { type AvroField, type AvroType, type NamedType, type Primitive, shortName };

/**
 * A self-contained schema in the catalog's Avro model: its root (a `named` node) and every named type it defines,
 * by full name.
 */
export interface AvroSchema {
  root: AvroType;
  types: ReadonlyMap<string, NamedType>;
}

/**
 * Parses a self-contained Avro schema (JSON) with the catalog's parser into an {@link AvroSchema}.
 * @throws SchemaError (from @kronos/catalog) naming the problem when the schema is not valid Avro.
 */
export function parseAvro(json: unknown): AvroSchema {
  const { root, types } = parseSchema(json);
  return {
    root: { kind: "named", fullName: root.fullName, file: root.file, pointer: "", reference: root.fullName },
    types,
  };
}

/** A type of the model, or a named type's definition (what {@link deref} gives). */
export type AvroNode = AvroType | NamedType;

/** Follows a `named` node to its definition; anything else is returned as it is. */
export function deref(schema: AvroSchema, type: AvroNode): ResolvedType {
  return type.kind === "named" ? follow(schema.types, type) : type;
}

/** A short human description of a type: `long`, `long (timestamp-millis)`, `enum Level`, `null | string`. */
export function describe(schema: AvroSchema, type: AvroNode): string {
  const t = deref(schema, type);
  switch (t.kind) {
    case "primitive":
      return t.logicalType ? `${t.type} (${t.logicalType})` : t.type;
    case "record":
    case "enum":
      return `${t.kind} ${shortName(t.fullName)}`;
    case "fixed":
      return `fixed ${shortName(t.fullName)}(${t.size})`;
    case "array":
      return `array<${describe(schema, t.items)}>`;
    case "map":
      return `map<${describe(schema, t.values)}>`;
    case "union":
      return t.branches.map((b: AvroType) => describe(schema, b)).join(" | ");
  }
}
