import type { Type } from "avsc";
import avsc from "avsc";

/** Limits of {@link createDecodeGuard} and of the compiled reader (`compileReader`). */
export interface DecodeLimits {
  /** Deepest nesting of records (recursive schemas); default 500. */
  maxDepth?: number;
  /** Most items of zero-byte types (null, empty records) in one message; default 100,000. */
  maxEmptyItems?: number;
}

/** Why bytes are not a valid encoding of the writer schema. */
export class MalformedAvroError extends Error {
  override readonly name = "MalformedAvroError";
}

/** Where a walk is: the buffer, the position, and what is left of the nesting and empty-item budgets. */
export interface GuardCursor {
  readonly buf: Buffer;
  /** Where the Avro value starts in `buf` (0, or 5 in a framed message); error positions count from here. */
  readonly start: number;
  pos: number;
  depth: number;
  emptyBudget: number;
  readonly maxDepth: number;
}
type Cursor = GuardCursor;
type Step = (cursor: Cursor) => void;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** Throws {@link MalformedAvroError} with `message` and the position (counted from the value's start). */
export function fail(cursor: Cursor, message: string): never {
  throw new MalformedAvroError(`${message} (at byte ${cursor.pos - cursor.start})`);
}

function remaining(cursor: Cursor): number {
  return cursor.buf.length - cursor.pos;
}

/** A zig-zag varint as a JS number (exact up to 2^53, approximate beyond: enough for bounds checks). */
function readVarint(cursor: Cursor): number {
  const { buf } = cursor;
  // Fast path: a one-byte number (|n| < 64: most lengths, indices and counts).
  const first = buf[cursor.pos];
  if (first !== undefined && first < 0x80) {
    cursor.pos++;
    return (first >> 1) ^ -(first & 1);
  }
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (cursor.pos >= buf.length) fail(cursor, "truncated: a number is cut short");
    const byte = buf[cursor.pos++] as number;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return value % 2 === 1 ? -(value + 1) / 2 : value / 2;
    multiplier *= 128;
  }
  return fail(cursor, "a variable-length number is longer than 10 bytes");
}

function need(cursor: Cursor, bytes: number, what: string): void {
  if (bytes > remaining(cursor)) fail(cursor, `truncated: ${what} needs ${bytes} bytes, ${remaining(cursor)} remain`);
}

/** The fewest bytes any value of `type` takes. */
export function minimumSize(type: Type, visiting = new Set<Type>()): number {
  if (visiting.has(type)) return 0;
  visiting.add(type);
  try {
    const t = type as unknown as Record<string, unknown>;
    switch (type.typeName) {
      case "null":
        return 0;
      case "float":
        return 4;
      case "double":
        return 8;
      case "fixed":
        return t.size as number;
      case "record":
      case "error":
        return (t.fields as { type: Type }[]).reduce((sum, field) => sum + minimumSize(field.type, visiting), 0);
      case "union:wrapped":
      case "union:unwrapped":
        return 1 + Math.min(...(t.types as Type[]).map((branch) => minimumSize(branch, visiting)));
      default:
        if (avsc.Type.isType(type, "logical")) return minimumSize(t.underlyingType as Type, visiting);
        return 1;
    }
  } finally {
    visiting.delete(type);
  }
}

/**
 * Walks bytes as an encoding of `writerType` without building any value, and throws {@link MalformedAvroError} at
 * the first thing avsc would mishandle: a truncated value, trailing bytes, a union or enum index out of range, a
 * negative or larger-than-the-buffer length, a block count more items than the remaining bytes can hold, an int
 * beyond 32 bits, a boolean byte other than 0/1, nesting deeper than `maxDepth`. Runs in time linear in the
 * buffer, so absurd declared lengths fail fast without allocating.
 */
export function createDecodeGuard(writerType: Type, limits: DecodeLimits = {}): (bytes: Buffer) => void {
  const maxDepth = limits.maxDepth ?? 500;
  const maxEmptyItems = limits.maxEmptyItems ?? 100_000;
  const steps = new Map<Type, Step>();
  const root = compile(writerType, steps);
  return (bytes) => {
    const cursor: Cursor = { buf: bytes, start: 0, pos: 0, depth: 0, emptyBudget: maxEmptyItems, maxDepth };
    root(cursor);
    if (cursor.pos !== bytes.length) {
      fail(cursor, `${bytes.length - cursor.pos} trailing bytes after the value`);
    }
  };
}

/**
 * The walk of one value of `type` from `cursor.pos` (no trailing-bytes check), with the checks of
 * {@link createDecodeGuard}: for a part of a value that is read some other way after being walked.
 */
export function compileGuardStep(type: Type): (cursor: GuardCursor) => void {
  return compile(type, new Map());
}

function compile(type: Type, steps: Map<Type, Step>): Step {
  const known = steps.get(type);
  if (known) return known;
  // Only records can recur: other types get their step directly, without the indirection below.
  if (type.typeName !== "record" && type.typeName !== "error") {
    const direct = build(type, steps);
    steps.set(type, direct);
    return direct;
  }
  let impl: Step = () => undefined;
  const step: Step = (cursor) => impl(cursor);
  steps.set(type, step);
  impl = build(type, steps);
  return step;
}

function build(type: Type, steps: Map<Type, Step>): Step {
  const t = type as unknown as Record<string, unknown>;
  if (avsc.Type.isType(type, "logical")) return compile(t.underlyingType as Type, steps);
  switch (type.typeName) {
    case "null":
      return () => undefined;
    case "boolean":
      return (cursor) => {
        need(cursor, 1, "a boolean");
        const byte = cursor.buf[cursor.pos++];
        if (byte !== 0 && byte !== 1) fail(cursor, `a boolean byte must be 0 or 1, got ${byte}`);
      };
    case "int":
      return (cursor) => {
        const value = readVarint(cursor);
        if (value < INT32_MIN || value > INT32_MAX) fail(cursor, `int ${value} is outside 32 bits`);
      };
    case "long":
    case "abstract:long":
      return (cursor) => void readVarint(cursor);
    case "float":
      return (cursor) => {
        need(cursor, 4, "a float");
        cursor.pos += 4;
      };
    case "double":
      return (cursor) => {
        need(cursor, 8, "a double");
        cursor.pos += 8;
      };
    case "string":
    case "bytes":
      return lengthPrefixed(type.typeName);
    case "fixed": {
      const size = t.size as number;
      return (cursor) => {
        need(cursor, size, `fixed ${type.name}`);
        cursor.pos += size;
      };
    }
    case "enum": {
      const count = (t.symbols as string[]).length;
      return (cursor) => {
        const index = readVarint(cursor);
        if (!Number.isInteger(index) || index < 0 || index >= count) {
          fail(cursor, `enum ${type.name} index ${index} is not in 0..${count - 1}`);
        }
      };
    }
    case "union:wrapped":
    case "union:unwrapped": {
      const branches = (t.types as Type[]).map((branch) => compile(branch, steps));
      return (cursor) => {
        const index = readVarint(cursor);
        const branch = Number.isInteger(index) ? branches[index] : undefined;
        if (!branch) fail(cursor, `union index ${index} is not in 0..${branches.length - 1}`);
        branch(cursor);
      };
    }
    case "array":
      return blocks(compile(t.itemsType as Type, steps), minimumSize(t.itemsType as Type), "array");
    case "map": {
      const key = lengthPrefixed("string");
      const value = compile(t.valuesType as Type, steps);
      return blocks(
        (cursor) => {
          key(cursor);
          value(cursor);
        },
        1 + minimumSize(t.valuesType as Type),
        "map",
      );
    }
    case "record":
    case "error": {
      const fields = (t.fields as { type: Type }[]).map((field) => compile(field.type, steps));
      return (cursor) => {
        if (++cursor.depth > cursor.maxDepth) fail(cursor, `records nested deeper than ${cursor.maxDepth}`);
        for (let i = 0; i < fields.length; i++) (fields[i] as Step)(cursor);
        cursor.depth--;
      };
    }
    default:
      throw new Error(`cannot guard Avro type ${type.typeName}`);
  }
}

function lengthPrefixed(what: string): Step {
  return (cursor) => {
    const length = readVarint(cursor);
    if (length < 0) fail(cursor, `${what} has a negative length ${length}`);
    if (length > cursor.buf.length - cursor.pos) need(cursor, length, `${what} of declared length ${length}`);
    cursor.pos += length;
  };
}

function blocks(item: Step, itemSize: number, what: string): Step {
  return (cursor) => {
    for (;;) {
      let count = readVarint(cursor);
      if (count === 0) return;
      if (count < 0) {
        count = -count;
        const size = readVarint(cursor);
        if (size < 0) fail(cursor, `${what} block has a negative byte size`);
        need(cursor, size, `${what} block of declared size ${size}`);
      }
      if (itemSize > 0) {
        if (count * itemSize > remaining(cursor)) {
          fail(cursor, `${what} declares ${count} items, more than the ${remaining(cursor)} remaining bytes can hold`);
        }
      } else {
        cursor.emptyBudget -= count;
        if (cursor.emptyBudget < 0) fail(cursor, `${what} declares ${count} empty items, more than allowed`);
      }
      for (let i = 0; i < count; i++) item(cursor);
    }
  };
}
