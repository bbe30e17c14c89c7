import type { AvroType, NamedType } from "@kronos/catalog";

/**
 * The "bucket" avsc puts a union branch in (avsc `getTypeBucket`, lib/types.js), or `undefined` for a branch with a
 * logical type the runtime implements: avsc leaves those out of the ambiguity check and tells them apart at run time.
 */
export function bucketOf(node: AvroType, types: ReadonlyMap<string, NamedType>): string | undefined {
  switch (node.kind) {
    case "primitive":
      if (node.logical) return undefined;
      switch (node.type) {
        case "int":
        case "long":
        case "float":
        case "double":
          return "number";
        case "bytes":
          return "buffer";
        default:
          return node.type;
      }
    case "array":
      return "array";
    case "map":
      return "object";
    case "union":
      return "union";
    case "named": {
      const def = types.get(node.fullName);
      switch (def?.kind) {
        case "enum":
          return "string";
        case "fixed":
          return def.logical ? undefined : "buffer";
        default:
          return "object";
      }
    }
  }
}

/**
 * Whether avsc, with `wrapUnions: "auto"`, represents this union wrapped (avsc `isAmbiguous`): it is wrapped when two
 * of its branches without a logical type fall in the same bucket — null; boolean; int/long/float/double; string/enum;
 * bytes/fixed; array; map/record/error. Otherwise values are plain (unwrapped).
 */
export function isWrappedUnion(branches: readonly AvroType[], types: ReadonlyMap<string, NamedType>): boolean {
  const seen = new Set<string>();
  for (const branch of branches) {
    const bucket = bucketOf(branch, types);
    if (bucket === undefined) continue;
    if (seen.has(bucket)) return true;
    seen.add(bucket);
  }
  return false;
}
