import type { Json } from "@kronos/catalog";
import { type AvroField, type AvroNode, type AvroSchema, deref, describe, shortName } from "./avro.js";
import { promotes } from "./resolution.js";

/** One change between two versions of a schema, in Avro terms. */
export type Change =
  | { kind: "field-added"; path: string; type: string; hasDefault: boolean; default?: Json | undefined }
  | { kind: "field-removed"; path: string; type: string; hadDefault: boolean }
  | { kind: "field-renamed"; path: string; from: string; alias: boolean }
  | {
      kind: "type-changed";
      path: string;
      from: string;
      to: string;
      /** `widening`: old data reads as the new type (e.g. int → long); `narrowing`: only the reverse; `none`. */
      promotion: "widening" | "narrowing" | "both" | "none";
    }
  | { kind: "logical-type-changed"; path: string; from: string | null; to: string | null }
  | { kind: "doc-changed"; path: string; from: string | null; to: string | null }
  | { kind: "default-changed"; path: string; from: Json | undefined; to: Json | undefined }
  | { kind: "enum-symbols-added"; path: string; enumName: string; symbols: string[] }
  | { kind: "enum-symbols-removed"; path: string; enumName: string; symbols: string[] }
  | { kind: "enum-default-changed"; path: string; enumName: string; from: string | null; to: string | null }
  | { kind: "union-branches-added"; path: string; branches: string[] }
  | { kind: "union-branches-removed"; path: string; branches: string[] }
  | { kind: "name-changed"; path: string; from: string; to: string }
  | { kind: "aliases-changed"; path: string; from: string[]; to: string[] };

/** The kinds of {@link Change}. */
export type ChangeKind = Change["kind"];

/** True when a change touches documentation only (a patch release). */
export function isDocOnly(change: Change): boolean {
  return change.kind === "doc-changed";
}

function join(path: string, segment: string): string {
  return path === "" ? segment : `${path}.${segment}`;
}

/** A key that pairs union branches across versions: the primitive type, the short name, array or map. */
function branchKey(schema: AvroSchema, type: AvroNode): string {
  const t = deref(schema, type);
  switch (t.kind) {
    case "primitive":
      return t.type;
    case "record":
    case "enum":
    case "fixed":
      return `${t.kind}:${shortName(t.fullName)}`;
    default:
      return t.kind;
  }
}

function branchesOf(type: AvroNode): AvroNode[] {
  return type.kind === "union" ? type.branches : [type];
}

function same(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The changes from `before` to `after`, field by field (nested records by their dotted path: `meta.producer`).
 * Fields are matched by name, then by the new field's aliases (a rename). Root-level changes use path `""`.
 */
export function diffSchemas(before: AvroSchema, after: AvroSchema): Change[] {
  const changes: Change[] = [];
  const visited = new Set<string>();

  const diffType = (at: AvroNode, bt: AvroNode, path: string): void => {
    const a = deref(before, at);
    const b = deref(after, bt);
    if (a.kind === "union" || b.kind === "union") {
      const aBranches = branchesOf(a);
      const bBranches = branchesOf(b);
      const aKeys = aBranches.map((t) => branchKey(before, t));
      const bKeys = bBranches.map((t) => branchKey(after, t));
      const added = bBranches.filter((_, i) => !aKeys.includes(bKeys[i] as string));
      const removed = aBranches.filter((_, i) => !bKeys.includes(aKeys[i] as string));
      if (added.length > 0 && removed.length > 0 && aBranches.length === 1 && bBranches.length === 1) {
        typeChanged(a, b, path);
        return;
      }
      if (added.length > 0) {
        changes.push({ kind: "union-branches-added", path, branches: added.map((t) => describe(after, t)) });
      }
      if (removed.length > 0) {
        changes.push({ kind: "union-branches-removed", path, branches: removed.map((t) => describe(before, t)) });
      }
      aBranches.forEach((branch, i) => {
        const j = bKeys.indexOf(aKeys[i] as string);
        const match = bBranches[j];
        if (match !== undefined) diffType(branch, match, path);
      });
      return;
    }
    if (a.kind === "primitive" && b.kind === "primitive") {
      if (a.type !== b.type) {
        typeChanged(a, b, path);
        return;
      }
      if (a.logicalType !== b.logicalType) {
        changes.push({ kind: "logical-type-changed", path, from: a.logicalType ?? null, to: b.logicalType ?? null });
      }
      return;
    }
    if (a.kind === "array" && b.kind === "array") {
      diffType(a.items, b.items, join(path, "[]"));
      return;
    }
    if (a.kind === "map" && b.kind === "map") {
      diffType(a.values, b.values, join(path, "{}"));
      return;
    }
    if (a.kind !== b.kind) {
      typeChanged(a, b, path);
      return;
    }
    if (a.kind === "fixed" && b.kind === "fixed") {
      if (a.fullName !== b.fullName) changes.push({ kind: "name-changed", path, from: a.fullName, to: b.fullName });
      if (a.size !== b.size) typeChanged(a, b, path);
      if (a.logicalType !== b.logicalType) {
        changes.push({ kind: "logical-type-changed", path, from: a.logicalType ?? null, to: b.logicalType ?? null });
      }
      return;
    }
    if ((a.kind === "record" && b.kind === "record") || (a.kind === "enum" && b.kind === "enum")) {
      if (a.fullName !== b.fullName) changes.push({ kind: "name-changed", path, from: a.fullName, to: b.fullName });
      if (!same(a.aliases, b.aliases)) changes.push({ kind: "aliases-changed", path, from: a.aliases, to: b.aliases });
      if (a.doc !== b.doc) changes.push({ kind: "doc-changed", path, from: a.doc ?? null, to: b.doc ?? null });
    }
    if (a.kind === "enum" && b.kind === "enum") {
      const added = b.symbols.filter((s) => !a.symbols.includes(s));
      const removed = a.symbols.filter((s) => !b.symbols.includes(s));
      if (added.length > 0) changes.push({ kind: "enum-symbols-added", path, enumName: b.fullName, symbols: added });
      if (removed.length > 0)
        changes.push({ kind: "enum-symbols-removed", path, enumName: b.fullName, symbols: removed });
      if (a.enumDefault !== b.enumDefault) {
        changes.push({
          kind: "enum-default-changed",
          path,
          enumName: b.fullName,
          from: a.enumDefault ?? null,
          to: b.enumDefault ?? null,
        });
      }
      return;
    }
    if (a.kind === "record" && b.kind === "record") {
      const key = `${a.fullName}|${b.fullName}`;
      if (visited.has(key)) return;
      visited.add(key);
      diffFields(a.fields, b.fields, path);
    }
  };

  const typeChanged = (a: AvroNode, b: AvroNode, path: string): void => {
    let promotion: "widening" | "narrowing" | "both" | "none" = "none";
    if (a.kind === "primitive" && b.kind === "primitive") {
      const widening = promotes(a.type, b.type);
      const narrowing = promotes(b.type, a.type);
      promotion = widening && narrowing ? "both" : widening ? "widening" : narrowing ? "narrowing" : "none";
    }
    changes.push({ kind: "type-changed", path, from: describe(before, a), to: describe(after, b), promotion });
  };

  const diffFields = (aFields: AvroField[], bFields: AvroField[], path: string): void => {
    const matched = new Set<AvroField>();
    for (const field of bFields) {
      const at = join(path, field.name);
      let old = aFields.find((f) => f.name === field.name);
      if (old === undefined) {
        old = aFields.find((f) => field.aliases.includes(f.name) && !bFields.some((g) => g.name === f.name));
        if (old !== undefined) changes.push({ kind: "field-renamed", path: at, from: old.name, alias: true });
      }
      if (old === undefined) {
        changes.push({
          kind: "field-added",
          path: at,
          type: describe(after, field.type),
          hasDefault: field.hasDefault,
          ...(field.hasDefault ? { default: field.default as Json } : {}),
        });
        continue;
      }
      matched.add(old);
      if (old.doc !== field.doc)
        changes.push({ kind: "doc-changed", path: at, from: old.doc ?? null, to: field.doc ?? null });
      if (old.hasDefault !== field.hasDefault || !same(old.default as Json, field.default as Json)) {
        changes.push({
          kind: "default-changed",
          path: at,
          from: old.hasDefault ? (old.default as Json) : undefined,
          to: field.hasDefault ? (field.default as Json) : undefined,
        });
      }
      diffType(old.type, field.type, at);
    }
    for (const old of aFields) {
      if (matched.has(old)) continue;
      changes.push({
        kind: "field-removed",
        path: join(path, old.name),
        type: describe(before, old.type),
        hadDefault: old.hasDefault,
      });
    }
  };

  diffType(before.root, after.root, "");
  return changes;
}

function code(value: string): string {
  return `\`${value}\``;
}

function json(value: Json | undefined): string {
  return value === undefined ? "none" : `\`${JSON.stringify(value)}\``;
}

/** One sentence describing a change, e.g. "`note` added (string), default `\"none\"`". */
export function describeChange(change: Change): string {
  const at = change.path === "" ? "the record" : code(change.path);
  switch (change.kind) {
    case "field-added":
      return change.hasDefault
        ? `${at} added (${change.type}) with default ${json(change.default)}`
        : `${at} added (${change.type}) without a default`;
    case "field-removed":
      return `${at} removed (${change.type}, ${change.hadDefault ? "had a default" : "had no default"})`;
    case "field-renamed":
      return `${code(change.from)} renamed to ${at} (the new field lists ${code(change.from)} in its aliases)`;
    case "type-changed": {
      const promotion = {
        widening: "a legal Avro promotion: new readers read old data",
        narrowing: "not a promotion for new readers; only old readers can read new data",
        both: "a legal Avro promotion both ways",
        none: "not a legal Avro promotion",
      }[change.promotion];
      return `${at} type changed from ${change.from} to ${change.to} (${promotion})`;
    }
    case "logical-type-changed":
      return `${at} logical type changed from ${change.from ?? "none"} to ${change.to ?? "none"} (the encoding is the same; readers interpret the values differently)`;
    case "doc-changed":
      return `${at} doc changed`;
    case "default-changed":
      return `${at} default changed from ${json(change.from)} to ${json(change.to)}`;
    case "enum-symbols-added":
      return `enum ${shortName(change.enumName)} at ${at}: symbols added ${change.symbols.map(code).join(", ")}`;
    case "enum-symbols-removed":
      return `enum ${shortName(change.enumName)} at ${at}: symbols removed ${change.symbols.map(code).join(", ")}`;
    case "enum-default-changed":
      return `enum ${shortName(change.enumName)} at ${at}: default symbol changed from ${change.from ?? "none"} to ${change.to ?? "none"}`;
    case "union-branches-added":
      return `${at} union branches added: ${change.branches.map(code).join(", ")}`;
    case "union-branches-removed":
      return `${at} union branches removed: ${change.branches.map(code).join(", ")}`;
    case "name-changed":
      return `${at} type renamed from ${change.from} to ${change.to}`;
    case "aliases-changed":
      return `${at} aliases changed from [${change.from.join(", ")}] to [${change.to.join(", ")}]`;
  }
}
