import type { Type } from "avsc";
import avsc from "avsc";
import { GeneratedSource } from "./generated-source.js";
import { isUuidText, TimestampMillisType, UuidType } from "./logical-types.js";

/** avsc's Tap, as a type's writer is handed it: bytes beyond `buf` are not written, but `pos` still moves on. */
export interface WriterTap {
  buf: Buffer;
  pos: number;
  writeLong(n: number): void;
  writeString(s: string): void;
  writeBinary(s: string, length: number): void;
}

/**
 * Writes `value` at `tap.pos` and moves `tap.pos` past it, exactly as avsc's `type._write(tap, value)` does: the same
 * bytes for every value avsc writes, and a throw for every value avsc refuses (a few more: see
 * {@link compileWriter}). Like avsc's, it writes nothing past the end of `tap.buf` but moves `pos` as if it had, so
 * the caller can grow the buffer and write again.
 */
export interface CompiledWriter {
  (tap: WriterTap, value: unknown): void;
  /**
   * True when every record of every value is written by the generated code, which refuses a record holding a key
   * its schema does not declare: the writer then checks everything `isValid(value, { noUndeclaredFields: true })`
   * checks. False when a record can sit under a type avsc writes (a wrapped union, say), whose records avsc writes
   * without looking at undeclared keys.
   */
  readonly checksShapes: boolean;
}

let TapClass: (new (buf: Buffer) => WriterTap) | undefined;

/** A tap of avsc's own Tap class (avsc does not export it) over `buf`, for a type's writer. */
export function createTap(buf: Buffer): WriterTap {
  if (!TapClass) {
    let caught: (new (buf: Buffer) => WriterTap) | undefined;
    // A throwaway type whose writer catches the tap avsc's toBuffer hands it.
    const Probe = class extends avsc.types.NullType {
      _write(tap: WriterTap): void {
        caught = tap.constructor as new (buf: Buffer) => WriterTap;
      }
    };
    new Probe().toBuffer(null);
    if (!caught) throw new Error("avsc did not hand a tap to the writer");
    TapClass = caught;
  }
  return new TapClass(buf);
}

/** Thrown for a value the writer cannot encode; the codec then runs the full validation to list every violation. */
function invalid(what: string): never {
  throw new Error(`invalid ${what}`);
}

/**
 * A string: ASCII strings shorter than 64 characters (one length byte, one byte per character) are written here
 * without measuring them first, which is most of what avsc's `writeString` costs for the short strings events are
 * made of; any other string goes to avsc's.
 */
function writeString(tap: WriterTap, value: unknown): void {
  if (typeof value !== "string") invalid("string");
  const length = value.length;
  if (length < 64) {
    const buf = tap.buf;
    const start = tap.pos + 1;
    let i = 0;
    // A byte past the end of `buf` is silently not written (a typed array), as with avsc.
    for (; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) break;
      buf[start + i] = code;
    }
    if (i === length) {
      buf[start - 1] = length << 1; // zig-zag of a length below 64: one byte
      tap.pos = start + length;
      return;
    }
  }
  tap.writeString(value);
}

/** A uuid: checked as {@link UuidType} checks it, then 36 ASCII characters. */
function writeUuid(tap: WriterTap, value: unknown): void {
  if (typeof value !== "string" || !isUuidText(value)) invalid("uuid");
  writeString(tap, value);
}

/** A timestamp-millis over avsc's own long: what {@link TimestampMillisType} accepts, as avsc's long writes it. */
function writeTimestampMillis(tap: WriterTap, value: unknown): void {
  if (!(value instanceof Date)) invalid("Date");
  const ms = value.getTime();
  // The range TimestampMillisType._toValue accepts; Date's own range is within avsc's safe long.
  if (Number.isNaN(ms) || ms < -(2 ** 52)) invalid("Date");
  tap.writeLong(ms);
}

/** An index of an enum symbol or a union branch: one byte when below 64, else avsc's varint. */
function writeIndex(tap: WriterTap, index: number): void {
  if (index < 64) tap.buf[tap.pos++] = index << 1;
  else tap.writeLong(index);
}

function writeEnum(tap: WriterTap, value: unknown, indices: ReadonlyMap<unknown, number>): void {
  const index = indices.get(value);
  if (index === undefined) invalid("enum symbol");
  writeIndex(tap, index);
}

/** The functions generated writers call, by the names they call them. */
const HELPERS = { writeString, writeUuid, writeTimestampMillis, writeEnum, invalid };

type Fields = { name: string; type: Type; defaultValue(): unknown }[];

/** Whether `type` is exactly an instance of avsc's `name` class (a subclass may write differently: delegated). */
function isExactly(type: Type, name: string): boolean {
  const classes = avsc.types as unknown as Record<string, { prototype: object } | undefined>;
  return Object.getPrototypeOf(type) === classes[name]?.prototype;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Generates the JavaScript source of a writer, one function per record, array and map. */
class WriterSource extends GeneratedSource {
  /** Whether a type avsc writes can hold a record (see {@link CompiledWriter.checksShapes}). */
  delegatesRecords = false;

  /** The writer of `root`, compiled. */
  compile(root: Type): (tap: WriterTap, value: unknown) => void {
    const rootStatement = this.statement(root, "v");
    return this.assemble(HELPERS, `function root(t, v) { ${rootStatement} }`);
  }

  /** A JavaScript statement that writes the value of `type` held by the variable `v` to the tap `t`. */
  statement(type: Type, v: string): string {
    const t = type as unknown as Record<string, unknown>;
    if (Object.getPrototypeOf(type) === UuidType.prototype) return `writeUuid(t, ${v});`;
    if (
      Object.getPrototypeOf(type) === TimestampMillisType.prototype &&
      isExactly(t.underlyingType as Type, "LongType")
    ) {
      return `writeTimestampMillis(t, ${v});`;
    }
    if (isExactly(type, "StringType")) return `writeString(t, ${v});`;
    if (isExactly(type, "NullType")) return `if (${v} !== null) invalid("null");`;
    if (isExactly(type, "EnumType")) {
      const symbols = t.symbols as string[];
      return `writeEnum(t, ${v}, ${this.constant(new Map(symbols.map((symbol, i) => [symbol, i])))});`;
    }
    if (isExactly(type, "RecordType")) return `${this.#record(type, t.fields as Fields)}(t, ${v});`;
    if (isExactly(type, "ArrayType")) return `${this.#array(type, t.itemsType as Type)}(t, ${v});`;
    if (isExactly(type, "MapType")) return `${this.#map(type, t.valuesType as Type)}(t, ${v});`;
    if (isExactly(type, "UnwrappedUnionType")) {
      const branches = t.types as Type[];
      const other = branches[1];
      // ["null", T] with T one that refuses every value but its own (so the branch is never wrongly taken):
      // the optional fields events are full of. Any other union is avsc's.
      if (
        branches.length === 2 &&
        isExactly(branches[0] as Type, "NullType") &&
        other !== undefined &&
        (isExactly(other, "StringType") ||
          Object.getPrototypeOf(other) === UuidType.prototype ||
          isExactly(other, "EnumType"))
      ) {
        return `if (${v} === null) t.buf[t.pos++] = 0; else { t.buf[t.pos++] = 2; ${this.statement(other, v)} }`;
      }
    }
    // Everything else is written by avsc itself.
    if (holdsRecords(type, new Set())) this.delegatesRecords = true;
    return `${this.constant(type)}._write(t, ${v});`;
  }

  #record(type: Type, fields: Fields): string {
    return this.namedFunction(type, "record", (name) => {
      const lines = fields.map((field, i) => {
        const access = IDENTIFIER.test(field.name) ? `v.${field.name}` : `v[${this.constant(field.name)}]`;
        const write = this.statement(field.type, `f${i}`);
        const fallback = field.defaultValue();
        if (fallback === undefined) return `  const f${i} = ${access};\n  ${write}`;
        // As avsc's record writer: a missing field (undefined) is written as its default's bytes.
        const bytes = field.type.toBuffer(fallback).toString("binary");
        return `  const f${i} = ${access};\n  if (f${i} === undefined) t.writeBinary(${this.constant(bytes)}, ${bytes.length});\n  else { ${write} }`;
      });
      const names = this.constant(fields.map((field) => field.name));
      const declared = this.constant(new Set(fields.map((field) => field.name)));
      // Every key must be a declared field (what noUndeclaredFields checks); objects built in field order, the
      // common case, match without a set lookup.
      return `function ${name}(t, v) {
  if (typeof v !== "object" || v === null) invalid("record");
  const keys = Object.keys(v);
  if (keys.length > ${fields.length}) invalid("record: undeclared field");
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key !== ${names}[i] && !${declared}.has(key)) invalid("record: undeclared field");
  }
${lines.join("\n")}
}`;
    });
  }

  #array(type: Type, items: Type): string {
    return this.namedFunction(type, "array", (name) => {
      const item = this.statement(items, "item");
      return `function ${name}(t, v) {
  if (!Array.isArray(v)) invalid("array");
  const n = v.length;
  if (n !== 0) {
    t.writeLong(n);
    for (let i = 0; i < n; i++) { const item = v[i]; ${item} }
  }
  t.buf[t.pos++] = 0;
}`;
    });
  }

  #map(type: Type, values: Type): string {
    return this.namedFunction(type, "map", (name) => {
      const value = this.statement(values, "item");
      return `function ${name}(t, v) {
  if (!v || typeof v !== "object" || Array.isArray(v)) invalid("map");
  const keys = Object.keys(v);
  const n = keys.length;
  if (n !== 0) {
    t.writeLong(n);
    for (let i = 0; i < n; i++) {
      const key = keys[i];
      writeString(t, key);
      const item = v[key];
      ${value}
    }
  }
  t.buf[t.pos++] = 0;
}`;
    });
  }
}

/**
 * Compiles a writer of `type`'s binary encoding that writes the bytes avsc's `_write` writes, faster: records,
 * arrays and maps are walked by generated code, strings take an ASCII fast path, and uuids, timestamps, enums and
 * optional (`["null", T]`) fields are written without avsc's logical-type and union dispatch. Every other type
 * (wrapped unions, bytes, numbers, other logical types, subclasses) is written by avsc. It refuses what avsc
 * refuses, and also a non-object where a record is expected (avsc would write that record's defaults) and a record
 * with a key its schema does not declare (avsc would leave it out).
 */
export function compileWriter(type: Type): CompiledWriter {
  // The generated source names fields by their Avro names (identifiers, or through constants) and nothing else of
  // the schema.
  const generator = new WriterSource();
  const write = generator.compile(type);
  return Object.assign(write, { checksShapes: !generator.delegatesRecords });
}

/** Whether a value of `type` can hold a record. */
function holdsRecords(type: Type, seen: Set<Type>): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  const t = type as unknown as Record<string, unknown>;
  if (avsc.Type.isType(type, "logical")) return holdsRecords(t.underlyingType as Type, seen);
  switch (type.typeName) {
    case "record":
    case "error":
      return true;
    case "array":
      return holdsRecords(t.itemsType as Type, seen);
    case "map":
      return holdsRecords(t.valuesType as Type, seen);
    case "union:wrapped":
    case "union:unwrapped":
      return (t.types as Type[]).some((branch) => holdsRecords(branch, seen));
    default:
      return false;
  }
}
