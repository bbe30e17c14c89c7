import type { NamedType } from "@kronos/catalog";
import { CodegenError } from "./errors.js";

/**
 * Names a generated declaration must not take: JavaScript and TypeScript reserved words, TypeScript's built-in type
 * names, and the globals and imports generated code refers to (a type named `Date` would hide the global `Date`).
 */
const BLOCKED: ReadonlySet<string> = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await any unknown never object symbol " +
    "bigint string number boolean undefined type keyof readonly infer is asserts declare namespace module abstract " +
    "as async from get set of require global satisfies accessor out override unique constructor arguments eval " +
    "Array ReadonlyArray Buffer Date Record Object String Number Boolean BigInt Symbol Promise Error Map Set JSON " +
    "Math Function Partial Readonly Required Pick Omit Exclude Extract NonNullable globalThis defineEvent"
  ).split(" "),
);

const pascal = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** The identifiers one named type's declarations take in generated code. */
export function declaredNames(def: NamedType, tsName: string, isEvent: boolean): string[] {
  const names = [tsName];
  if (def.kind === "record") names.push(`${tsName}Input`);
  if (def.kind === "enum") names.push(`${tsName}Symbols`);
  if (isEvent) names.push(`${tsName}Event`);
  return names;
}

/**
 * Chooses a TypeScript name for every named type, unique across the whole output so that every `index.ts` can
 * re-export everything: the short Avro name when it is free; otherwise (a reserved word, or the same short name in two
 * namespaces, or a derived name such as `FooInput` taken by another type) the name qualified with its namespace in
 * PascalCase (`kronos.auth.User` → `KronosAuthUser`), and as a last resort with underscores (`kronos_auth_User`).
 *
 * @throws CodegenError `CODEGEN_NAME_CLASH` when even the last resort is ambiguous.
 */
export function assignNames(
  types: ReadonlyMap<string, NamedType>,
  isEvent: (def: NamedType) => boolean,
): Map<string, string> {
  const defs = [...types.values()].sort((a, b) => (a.fullName < b.fullName ? -1 : 1));
  const candidates = new Map<string, string[]>();
  const level = new Map<string, number>();
  for (const def of defs) {
    const ns = def.namespace.split(".").filter(Boolean);
    const list = [
      def.name,
      ns.map(pascal).join("") + pascal(def.name),
      ns.length ? `${ns.join("_")}_${def.name}` : `${def.name}_`,
    ];
    candidates.set(def.fullName, list);
    level.set(def.fullName, 0);
  }
  const effectiveLevel = (fullName: string): number => {
    const list = candidates.get(fullName) ?? [];
    let l = level.get(fullName) ?? 0;
    while (l < list.length && BLOCKED.has(list[l] as string)) l++;
    return l;
  };
  const nameOf = (def: NamedType): string => {
    const name = candidates.get(def.fullName)?.[effectiveLevel(def.fullName)];
    if (name === undefined) {
      throw new CodegenError(
        "CODEGEN_NAME_CLASH",
        def.file,
        { pointer: `${def.pointer}/name` },
        `no unambiguous TypeScript name for ${def.fullName}`,
      );
    }
    return name;
  };

  for (;;) {
    // id -> full name of each type declaring it -> whether it is that type's own name (not a derived one).
    const owners = new Map<string, Map<string, boolean>>();
    for (const def of defs) {
      declaredNames(def, nameOf(def), isEvent(def)).forEach((id, i) => {
        const byType = owners.get(id) ?? new Map<string, boolean>();
        byType.set(def.fullName, i === 0);
        owners.set(id, byType);
      });
    }
    const clashing = new Set<string>();
    for (const byType of owners.values()) {
      if (byType.size < 2) continue;
      // A type named like another's derived name (`FooInput` next to `Foo`) is the one to qualify.
      const kinds = new Set(byType.values());
      for (const [fullName, primary] of byType) if (kinds.size === 1 || primary) clashing.add(fullName);
    }
    if (clashing.size === 0) break;
    for (const fullName of clashing) {
      const l = effectiveLevel(fullName) + 1;
      if (l >= (candidates.get(fullName)?.length ?? 0)) {
        const def = types.get(fullName) as NamedType;
        throw new CodegenError(
          "CODEGEN_NAME_CLASH",
          def.file,
          { pointer: `${def.pointer}/name` },
          `no unambiguous TypeScript name for ${fullName}: ${nameOf(def)} is taken by another type`,
        );
      }
      level.set(fullName, l);
    }
  }
  return new Map(defs.map((d) => [d.fullName, nameOf(d)]));
}
