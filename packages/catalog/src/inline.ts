import { AVRO_PRIMITIVES, isObject, namespaceOf, qualify, type TypeLookup } from "./avro.js";
import type { Catalog, Json, JsonObject } from "./types.js";

const NAMED_KINDS = new Set(["record", "error", "enum", "fixed"]);

/** The namespace a named type's definition lives in: from its full name, its `namespace`, or the enclosing one. */
export function ownNamespace(node: JsonObject, enclosing: string): string {
  const name = String(node.name);
  if (name.includes(".")) return namespaceOf(name);
  return typeof node.namespace === "string" ? node.namespace : enclosing;
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
