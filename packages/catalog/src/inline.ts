import { isObject, ownNamespace, qualify, type TypeLookup } from "./avro.js";
import { AVRO_PRIMITIVES, NAMED_KINDS, type NamedType } from "./model.js";
import type { Catalog, Json, JsonObject } from "./types.js";

/** A named type's definition as written, with its `namespace` made explicit so it reads the same anywhere. */
export function definitionOf(def: NamedType): JsonObject {
  return { ...(def.json as JsonObject), namespace: def.namespace };
}

/**
 * Inlines the named types a schema references from other files (found by full name with `lookup`) at their first
 * use, and refers to them by name after that: the self-contained form the registry sees. A definition whose
 * namespace differs from the enclosing one gets it explicitly. Unknown names are kept as written (parsing reports
 * them). The schema itself is not changed.
 */
export function inlineNamedTypes(schema: Json, lookup: TypeLookup): Json {
  const defined = new Set<string>();
  const visit = (node: Json, namespace: string): Json => {
    if (typeof node === "string") {
      if (AVRO_PRIMITIVES.has(node)) return node;
      const name = qualify(node, namespace);
      if (defined.has(name)) return name;
      const definition = lookup(name);
      return definition === undefined ? node : visit(structuredClone(definition), namespace);
    }
    if (Array.isArray(node)) return node.map((branch) => visit(branch, namespace));
    if (!isObject(node)) return node;
    const type = node.type;
    if (typeof type === "string" && NAMED_KINDS.has(type) && typeof node.name === "string") {
      const own = ownNamespace(node, namespace);
      defined.add(qualify(node.name, own));
      const copy: JsonObject = { ...node };
      if (own !== namespace && !node.name.includes(".")) copy.namespace = own;
      if (Array.isArray(node.fields)) {
        copy.fields = node.fields.map((field) =>
          isObject(field) && field.type !== undefined ? { ...field, type: visit(field.type, own) } : field,
        );
      }
      return copy;
    }
    const copy: JsonObject = { ...node };
    if (type === "array" && node.items !== undefined) copy.items = visit(node.items, namespace);
    else if (type === "map" && node.values !== undefined) copy.values = visit(node.values, namespace);
    else if (type !== undefined && typeof type !== "string") copy.type = visit(type, namespace);
    else if (typeof type === "string" && !AVRO_PRIMITIVES.has(type) && type !== "array" && type !== "map") {
      return visit(type, namespace);
    }
    return copy;
  };
  return visit(schema, "");
}

/**
 * The self-contained schema of the named type `fullName` of a parsed schema set ({@link inlineNamedTypes} over
 * {@link definitionOf}): what codegen embeds in an event's descriptor, and, through {@link selfContainedSchema},
 * what `kronos-schemas register` sends. One function for both, so the two cannot differ.
 *
 * @throws Error when `fullName` is not a type of `types`.
 */
export function selfContainedOf(fullName: string, types: ReadonlyMap<string, NamedType>): JsonObject {
  const def = types.get(fullName);
  if (def === undefined) throw new Error(`${fullName} is not a named type of these schemas`);
  return inlineNamedTypes(def.json as JsonObject, (name) => {
    const found = types.get(name);
    return found === undefined ? undefined : definitionOf(found);
  }) as JsonObject;
}

/**
 * The schema of an event as the registry must see it: self-contained, each named type defined in another file
 * inlined at its first use and referenced by full name after that ({@link inlineNamedTypes}). The catalog itself is
 * not changed.
 *
 * @throws Error when `eventName` is not an event of the catalog.
 */
export function selfContainedSchema(catalog: Catalog, eventName: string): JsonObject {
  const event = catalog.events.find((e) => e.name === eventName);
  if (event === undefined) throw new Error(`${eventName} is not an event of the catalog`);
  const types = new Map(catalog.types.map((t) => [t.name, t.schema]));
  return inlineNamedTypes(event.schema, (name) => types.get(name)) as JsonObject;
}
