import type { Type } from "avsc";
import avsc from "avsc";

/** Whether a value passes; `false` only means "look closer" (the caller then runs the full validation). */
export type ShapeCheck = (value: unknown) => boolean;

interface FieldLike {
  readonly name: string;
  readonly type: Type;
}

/**
 * The one part of `isValid(value, { noUndeclaredFields: true })` that avsc's writer does not do itself: every value
 * in a record position is a non-null object, and every record declares each of its own keys. (avsc's `_write`
 * checks every other type as strictly as `isValid`; a record writer reads declared fields only, so it would encode
 * a misspelt field's record without it, or encode a primitive where a record with all-default fields is expected.)
 * Compiled once per type; returns `true` for a value whose records are all well shaped. Conservative: `false`
 * (including for anything unusual, such as an ambiguous union value) sends the caller to the full validation.
 */
export function compileShapeCheck(type: Type): ShapeCheck {
  return compile(type, new Map()) ?? (() => true);
}

/** `undefined`: no record can occur under `type`, nothing to check. */
function compile(type: Type, seen: Map<Type, ShapeCheck | undefined>): ShapeCheck | undefined {
  if (seen.has(type)) return seen.get(type);
  const t = type as unknown as Record<string, unknown>;
  if (avsc.Type.isType(type, "logical")) {
    // The Kronos logical types sit on primitives; the underlying type of any other may still hold records.
    const check = compile(t.underlyingType as Type, seen);
    seen.set(type, check);
    return check;
  }
  switch (type.typeName) {
    case "record":
    case "error": {
      // Recursive records: refer to the final check through a cell filled below.
      let self: ShapeCheck = () => false;
      const proxy: ShapeCheck = (value) => self(value);
      seen.set(type, proxy);
      self = recordCheck(t.fields as FieldLike[], seen);
      return proxy;
    }
    case "array": {
      seen.set(type, undefined);
      const item = compile(t.itemsType as Type, seen);
      const check: ShapeCheck | undefined = item
        ? (value) => {
            if (!Array.isArray(value)) return false;
            for (let i = 0; i < value.length; i++) if (!item(value[i])) return false;
            return true;
          }
        : undefined;
      seen.set(type, check);
      return check;
    }
    case "map": {
      seen.set(type, undefined);
      const inner = compile(t.valuesType as Type, seen);
      const check: ShapeCheck | undefined = inner
        ? (value) => {
            if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
            const map = value as Record<string, unknown>;
            for (const key of Object.keys(map)) if (!inner(map[key])) return false;
            return true;
          }
        : undefined;
      seen.set(type, check);
      return check;
    }
    case "union:unwrapped": {
      seen.set(type, undefined);
      const branches = (t.types as Type[]).map((branch) => compile(branch, seen));
      if (branches.every((branch) => branch === undefined)) return undefined;
      const union = type as unknown as { _getIndex(value: unknown): number | undefined };
      const check: ShapeCheck = (value) => {
        let index: number | undefined;
        try {
          index = union._getIndex(value);
        } catch {
          return false;
        }
        if (index === undefined) return false;
        const branch = branches[index];
        return branch === undefined || branch(value);
      };
      seen.set(type, check);
      return check;
    }
    case "union:wrapped": {
      seen.set(type, undefined);
      const byName = new Map<string, ShapeCheck | undefined>();
      let any = false;
      for (const branch of t.types as Type[]) {
        const check = compile(branch, seen);
        any ||= check !== undefined;
        byName.set(branch.branchName as string, check);
      }
      if (!any) return undefined;
      const check: ShapeCheck = (value) => {
        if (value === null) return true;
        if (typeof value !== "object") return false;
        const keys = Object.keys(value);
        if (keys.length !== 1) return false;
        const name = keys[0] as string;
        if (!byName.has(name)) return false;
        const branch = byName.get(name);
        return branch === undefined || branch((value as Record<string, unknown>)[name]);
      };
      seen.set(type, check);
      return check;
    }
    default:
      seen.set(type, undefined);
      return undefined;
  }
}

function recordCheck(fields: readonly FieldLike[], seen: Map<Type, ShapeCheck | undefined>): ShapeCheck {
  const names = fields.map((field) => field.name);
  const declared = new Set(names);
  const checked = fields
    .map((field) => ({ name: field.name, check: compile(field.type, seen) }))
    .filter((field): field is { name: string; check: ShapeCheck } => field.check !== undefined);
  return (value) => {
    if (value === null || typeof value !== "object") return false;
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length > names.length) return false;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      // Objects built in field order (the common case) match without a set lookup.
      if (key !== names[i] && !declared.has(key)) return false;
    }
    for (let i = 0; i < checked.length; i++) {
      const field = checked[i] as { name: string; check: ShapeCheck };
      const fieldValue = record[field.name];
      if (fieldValue !== undefined && !field.check(fieldValue)) return false;
    }
    return true;
  };
}
