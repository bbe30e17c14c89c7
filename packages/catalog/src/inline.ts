import { AVRO_PRIMITIVES, isObject, namespaceOf, qualify } from "./avro.js";
import type { Catalog, Json, JsonObject } from "./types.js";

const NAMED_KINDS = new Set(["record", "error", "enum", "fixed"]);

/**
 * The schema of an event as the registry must see it: self-contained, each named type defined in another file
 * inlined at its first use and referenced by full name after that. The catalog itself is not changed.
 *
 * @throws Error when `eventName` is not an event of the catalog.
 */
export function selfContainedSchema(catalog: Catalog, eventName: string): JsonObject {
  const event = catalog.events.find((e) => e.name === eventName);
  if (event === undefined) throw new Error(`${eventName} is not an event of the catalog`);
  const types = new Map(catalog.types.map((t) => [t.name, t.schema]));
  const defined = new Set<string>();

  const visit = (node: Json, namespace: string): Json => {
    if (typeof node === "string") {
      if (AVRO_PRIMITIVES.has(node)) return node;
      const name = qualify(node, namespace);
      if (defined.has(name)) return name;
      const definition = types.get(name);
      // Unknown names cannot happen in a loaded catalog; keep them as written.
      return definition === undefined ? node : visit(structuredClone(definition), namespace);
    }
    if (Array.isArray(node)) return node.map((branch) => visit(branch, namespace));
    if (!isObject(node)) return node;
    const type = node.type;
    if (typeof type === "string" && NAMED_KINDS.has(type) && typeof node.name === "string") {
      const own = node.name.includes(".")
        ? namespaceOf(node.name)
        : typeof node.namespace === "string"
          ? node.namespace
          : namespace;
      defined.add(qualify(node.name, own));
      const copy: JsonObject = { ...node };
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
  return visit(event.schema, "") as JsonObject;
}
