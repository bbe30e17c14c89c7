import type { Type } from "avsc";
import avsc from "avsc";
import { compileGuardStep, type DecodeLimits, fail, type GuardCursor, minimumSize } from "./decode-guard.js";
import { ExactLongType } from "./exact-long.js";
import { GeneratedSource } from "./generated-source.js";
import { TimestampMillisType, UuidType } from "./logical-types.js";

/**
 * Reads the Avro value that starts at `start` in `bytes` and ends exactly at the end of `bytes`. Throws
 * `MalformedAvroError` for anything that is not a complete, exact encoding, or the error of a logical type that
 * refuses the value (e.g. a uuid that is not a UUID).
 */
export type CompiledReader = (bytes: Buffer, start: number) => unknown;

/** Node's unchecked string slicers (avsc reads strings with `utf8Slice` too); not in @types/node. */
interface SlicingBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

/**
 * How many bytes after a string one decoded text window covers. ASCII strings are cut out of one latin1 text of the
 * window (one native call for all of a small message's strings); V8 may keep such a text alive while a string cut
 * from it (13 characters or more) lives, so the window bounds what one kept string can hold on to.
 */
const TEXT_WINDOW = 1024;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
/** avsc's `isSafeLong` bound for its own `long`. */
const AVSC_LONG_LIMIT = 9_007_199_254_740_990;
/** Below this magnitude avsc's floating-point zig-zag is exact (see ExactLongType). */
const EXACT_LIMIT = 2 ** 52;
const MAX_DATE_MS = 8.64e15;

/** The state of one read: a {@link GuardCursor} (so guard steps can walk delegated parts) and the text window. */
class ReadCursor implements GuardCursor {
  readonly buf: SlicingBuffer;
  readonly start: number;
  pos: number;
  depth = 0;
  emptyBudget: number;
  readonly maxDepth: number;
  text = "";
  textStart = 0;
  textEnd = -1;

  constructor(buf: Buffer, start: number, maxDepth: number, emptyBudget: number) {
    this.buf = buf as SlicingBuffer;
    this.start = start;
    this.pos = start;
    this.maxDepth = maxDepth;
    this.emptyBudget = emptyBudget;
  }
}

/**
 * A zig-zag varint, computed exactly as avsc's `Tap.readLong` does (integer arithmetic for the first four bytes,
 * floating point beyond), so every value is the one avsc would read; refuses truncated and over-long numbers.
 */
function readVarint(c: ReadCursor): number {
  const pos = c.pos;
  const buf = c.buf;
  if (pos < buf.length) {
    const b = buf[pos] as number;
    if (b < 0x80) {
      c.pos = pos + 1;
      return (b >> 1) ^ -(b & 1);
    }
    if (pos + 7 <= buf.length) return readVarintUpTo7(c, pos, b);
  }
  return readVarintSlow(c);
}

/**
 * A varint of 2 to 7 bytes (timestamps take 6) at `pos`, whose first byte `first` is already read, with 7 bytes
 * available; longer ones go to {@link readVarintSlow}. Up to 49 bits every arithmetic is exact, so the value is
 * avsc's.
 */
function readVarintUpTo7(c: ReadCursor, pos: number, first: number): number {
  const buf = c.buf;
  let n = first & 0x7f;
  let b = buf[pos + 1] as number;
  n |= (b & 0x7f) << 7;
  if (b < 0x80) {
    c.pos = pos + 2;
    return (n >> 1) ^ -(n & 1);
  }
  b = buf[pos + 2] as number;
  n |= (b & 0x7f) << 14;
  if (b < 0x80) {
    c.pos = pos + 3;
    return (n >> 1) ^ -(n & 1);
  }
  b = buf[pos + 3] as number;
  n |= (b & 0x7f) << 21;
  if (b < 0x80) {
    c.pos = pos + 4;
    return (n >> 1) ^ -(n & 1);
  }
  b = buf[pos + 4] as number;
  let f = n + (b & 0x7f) * 2 ** 28;
  if (b < 0x80) {
    c.pos = pos + 5;
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  b = buf[pos + 5] as number;
  f += (b & 0x7f) * 2 ** 35;
  if (b < 0x80) {
    c.pos = pos + 6;
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  b = buf[pos + 6] as number;
  f += (b & 0x7f) * 2 ** 42;
  if (b < 0x80) {
    c.pos = pos + 7;
    return (f % 2 ? -(f + 1) : f) / 2;
  }
  return readVarintSlow(c);
}

function readVarintSlow(c: ReadCursor): number {
  const buf = c.buf;
  const end = buf.length;
  let pos = c.pos;
  let b = 0;
  let n = 0;
  let k = 0;
  do {
    if (pos >= end) truncatedNumber(c, pos);
    b = buf[pos++] as number;
    n |= (b & 0x7f) << k;
    k += 7;
  } while (b & 0x80 && k < 28);
  if ((b & 0x80) === 0) {
    c.pos = pos;
    return (n >> 1) ^ -(n & 1);
  }
  let f = n;
  let fk = 268_435_456;
  let count = 4;
  do {
    if (pos >= end) truncatedNumber(c, pos);
    if (++count > 10) {
      c.pos = pos;
      fail(c, "a variable-length number is longer than 10 bytes");
    }
    b = buf[pos++] as number;
    f += (b & 0x7f) * fk;
    fk *= 128;
  } while (b & 0x80);
  c.pos = pos;
  return (f % 2 ? -(f + 1) : f) / 2;
}

function truncatedNumber(c: ReadCursor, pos: number): never {
  c.pos = pos;
  return fail(c, "truncated: a number is cut short");
}

function need(c: ReadCursor, bytes: number, what: string): void {
  const remaining = c.buf.length - c.pos;
  if (bytes > remaining) fail(c, `truncated: ${what} needs ${bytes} bytes, ${remaining} remain`);
}

/** A length prefix that fits in the rest of the buffer. */
function readLength(c: ReadCursor, what: string): number {
  const length = readVarint(c);
  if (length < 0) fail(c, `${what} has a negative length ${length}`);
  if (length > c.buf.length - c.pos) need(c, length, `${what} of declared length ${length}`);
  return length;
}

function readBoolean(c: ReadCursor): boolean {
  need(c, 1, "a boolean");
  const byte = c.buf[c.pos++];
  if (byte !== 0 && byte !== 1) fail(c, `a boolean byte must be 0 or 1, got ${byte}`);
  return byte === 1;
}

function readInt(c: ReadCursor): number {
  const value = readVarint(c);
  if (value < INT32_MIN || value > INT32_MAX) fail(c, `int ${value} is outside 32 bits`);
  return value;
}

/** avsc's own `long` (the underlying type of logical types): a number, refused beyond avsc's safe bound. */
function readAvscLong(c: ReadCursor): number {
  const value = readVarint(c);
  if (value < -AVSC_LONG_LIMIT || value > AVSC_LONG_LIMIT) throw new Error("potential precision loss");
  return value;
}

/** {@link ExactLongType}'s read: avsc's value where it is exact, the exact value from the bytes beyond. */
function readExactLong(c: ReadCursor): number {
  const start = c.pos;
  const value = readVarint(c);
  if (Math.abs(value) < EXACT_LIMIT) return value;
  let zigzag = 0n;
  let shift = 0n;
  for (let pos = start; pos < c.pos; pos++) {
    zigzag |= BigInt((c.buf[pos] as number) & 0x7f) << shift;
    shift += 7n;
  }
  const exact = zigzag & 1n ? -((zigzag + 1n) >> 1n) : zigzag >> 1n;
  if (exact > BigInt(Number.MAX_SAFE_INTEGER) || exact < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new Error("potential precision loss");
  }
  return Number(exact);
}

function readFloat(c: ReadCursor): number {
  need(c, 4, "a float");
  const value = c.buf.readFloatLE(c.pos);
  c.pos += 4;
  return value;
}

function readDouble(c: ReadCursor): number {
  need(c, 8, "a double");
  const value = c.buf.readDoubleLE(c.pos);
  c.pos += 8;
  return value;
}

/** A copy, as avsc's reads of bytes and fixed are (the value never shares memory with the message). */
function copyOut(c: ReadCursor, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  c.buf.copy(out, 0, c.pos, c.pos + length);
  c.pos += length;
  return out;
}

function readBytes(c: ReadCursor): Buffer {
  return copyOut(c, readLength(c, "bytes"));
}

function readFixed(c: ReadCursor, size: number, name: string): Buffer {
  need(c, size, `fixed ${name}`);
  return copyOut(c, size);
}

function readString(c: ReadCursor): string {
  const length = readLength(c, "string");
  if (length === 0) return "";
  const start = c.pos;
  const end = start + length;
  c.pos = end;
  const buf = c.buf;
  if (isAscii(buf, start, end)) return asciiText(c, start, end);
  return buf.utf8Slice(start, end);
}

/** Whether bytes `start..end` are all below 0x80 (four a step, then the rest). */
function isAscii(buf: Buffer, start: number, end: number): boolean {
  let bits = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    bits |= (buf[i] as number) | (buf[i + 1] as number) | (buf[i + 2] as number) | (buf[i + 3] as number);
  }
  for (; i < end; i++) bits |= buf[i] as number;
  return bits < 0x80;
}

/** The ASCII bytes `start..end` as a string, cut from the current text window (decoded once per window). */
function asciiText(c: ReadCursor, start: number, end: number): string {
  if (end > c.textEnd || start < c.textStart) {
    const windowEnd = Math.min(c.buf.length, Math.max(end, start + TEXT_WINDOW));
    c.text = c.buf.latin1Slice(start, windowEnd);
    c.textStart = start;
    c.textEnd = windowEnd;
  }
  return c.text.slice(start - c.textStart, end - c.textStart);
}

/** 1 for the bytes of hex digits: the UUID check on the bytes, without decoding them first. */
const HEX_DIGIT = new Uint8Array(256);
for (const ch of "0123456789abcdefABCDEF") HEX_DIGIT[ch.charCodeAt(0)] = 1;
const DASH = 0x2d;

/** A uuid string: checked on the bytes (8-4-4-4-12 hex digits); anything else goes to the type's own refusal. */
function readUuid(c: ReadCursor, type: UuidType): string {
  const length = readLength(c, "string");
  const start = c.pos;
  const end = start + length;
  c.pos = end;
  const buf = c.buf;
  if (
    length === 36 &&
    buf[start + 8] === DASH &&
    buf[start + 13] === DASH &&
    buf[start + 18] === DASH &&
    buf[start + 23] === DASH
  ) {
    // With the four dashes in place, the other 32 bytes are all hex digits exactly when 32 bytes are.
    // Four bytes a step (36 = 9 × 4): the loop's own cost is most of this check's.
    let digits = 0;
    for (let i = start; i < end; i += 4) {
      digits +=
        (HEX_DIGIT[buf[i] as number] as number) +
        (HEX_DIGIT[buf[i + 1] as number] as number) +
        (HEX_DIGIT[buf[i + 2] as number] as number) +
        (HEX_DIGIT[buf[i + 3] as number] as number);
    }
    if (digits === 32) return asciiText(c, start, end);
  }
  // The type throws its own error for what is not a UUID.
  return (type as unknown as { _fromValue(value: string): string })._fromValue(buf.utf8Slice(start, end));
}

/** A timestamp-millis over avsc's long: a Date, or the type's own refusal for one outside the range of Date. */
function readTimestampMillis(c: ReadCursor, type: TimestampMillisType): Date {
  const ms = readAvscLong(c);
  if (ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS) return new Date(ms);
  return (type as unknown as { _fromValue(value: number): Date })._fromValue(ms);
}

function readEnum(c: ReadCursor, symbols: readonly string[], name: string): string {
  const index = readVarint(c);
  const symbol = symbols[index];
  if (symbol === undefined || !Number.isInteger(index) || index < 0) {
    fail(c, `enum ${name} index ${index} is not in 0..${symbols.length - 1}`);
  }
  return symbol;
}

function readUnionIndex(c: ReadCursor, count: number): number {
  const index = readVarint(c);
  if (!(Number.isInteger(index) && index >= 0 && index < count)) {
    fail(c, `union index ${index} is not in 0..${count - 1}`);
  }
  return index;
}

/** A block's item count (0 at the end), refused when more items than the remaining bytes (or budget) can hold. */
function readBlockCount(c: ReadCursor, itemSize: number, what: string): number {
  let count = readVarint(c);
  if (count === 0) return 0;
  if (count < 0) {
    count = -count;
    const size = readVarint(c);
    if (size < 0) fail(c, `${what} block has a negative byte size`);
    need(c, size, `${what} block of declared size ${size}`);
  }
  if (itemSize > 0) {
    const remaining = c.buf.length - c.pos;
    if (count * itemSize > remaining) {
      fail(c, `${what} declares ${count} items, more than the ${remaining} remaining bytes can hold`);
    }
  } else {
    c.emptyBudget -= count;
    if (c.emptyBudget < 0) fail(c, `${what} declares ${count} empty items, more than allowed`);
  }
  return count;
}

function enterRecord(c: ReadCursor): void {
  if (++c.depth > c.maxDepth) fail(c, `records nested deeper than ${c.maxDepth}`);
}

/** A part of the value this module does not read itself: walked by the guard, then read by avsc. */
function readDelegated(c: ReadCursor, type: Type, walk: (cursor: GuardCursor) => void): unknown {
  const start = c.pos;
  walk(c);
  const { value, offset } = type.decode(c.buf, start);
  if (offset !== c.pos) fail(c, `${type.typeName} was read to byte ${offset - c.start}, walked to ${c.pos - c.start}`);
  return value;
}

/** The functions generated readers call, by the names they call them. */
const HELPERS = {
  readBoolean,
  readInt,
  readAvscLong,
  readExactLong,
  readFloat,
  readDouble,
  readBytes,
  readFixed,
  readString,
  readUuid,
  readTimestampMillis,
  readEnum,
  readUnionIndex,
  readBlockCount,
  enterRecord,
  readDelegated,
};

type Fields = { name: string; type: Type }[];

/** Whether `type` is exactly an instance of avsc's `name` class (a subclass may read differently: delegated). */
function isExactly(type: Type, name: string): boolean {
  const classes = avsc.types as unknown as Record<string, { prototype: object } | undefined>;
  return Object.getPrototypeOf(type) === classes[name]?.prototype;
}

/** Generates the JavaScript source of a reader, one function per record, array, map and union. */
class ReaderSource extends GeneratedSource {
  /** The reader of `root`, compiled. */
  compile(root: Type): (c: ReadCursor) => unknown {
    const rootExpression = this.expression(root);
    return this.assemble(HELPERS, `function root(c) { return ${rootExpression}; }`);
  }

  /** A call of `type`'s function (see `namedFunction`) on the cursor `c`. */
  #call(type: Type, prefix: string, define: (name: string) => string): string {
    return `${this.namedFunction(type, prefix, define)}(c)`;
  }

  /** A JavaScript expression that reads one value of `type` from the cursor `c`. */
  expression(type: Type): string {
    const t = type as unknown as Record<string, unknown>;
    if (Object.getPrototypeOf(type) === UuidType.prototype) {
      return `readUuid(c, ${this.constant(type)})`;
    }
    if (
      Object.getPrototypeOf(type) === TimestampMillisType.prototype &&
      isExactly(t.underlyingType as Type, "LongType")
    ) {
      return `readTimestampMillis(c, ${this.constant(type)})`;
    }
    const logicalRead = (avsc.types.LogicalType.prototype as unknown as Record<string, unknown>)._read;
    if (type instanceof avsc.types.LogicalType && t._read === logicalRead) {
      // What avsc's LogicalType._read does: the underlying value through the type's _fromValue.
      return `${this.constant(type)}._fromValue(${this.expression(t.underlyingType as Type)})`;
    }
    if (Object.getPrototypeOf(type) === ExactLongType.prototype) return "readExactLong(c)";
    const simple: Record<string, string> = {
      NullType: "null",
      BooleanType: "readBoolean(c)",
      IntType: "readInt(c)",
      LongType: "readAvscLong(c)",
      FloatType: "readFloat(c)",
      DoubleType: "readDouble(c)",
      StringType: "readString(c)",
      BytesType: "readBytes(c)",
    };
    for (const [name, expression] of Object.entries(simple)) if (isExactly(type, name)) return expression;
    if (isExactly(type, "FixedType")) {
      return `readFixed(c, ${t.size as number}, ${this.constant(type.name)})`;
    }
    if (isExactly(type, "EnumType")) return `readEnum(c, ${this.constant(t.symbols)}, ${this.constant(type.name)})`;
    if (isExactly(type, "RecordType")) return this.#record(type, t.fields as Fields);
    if (isExactly(type, "ArrayType")) return this.#array(type, t.itemsType as Type);
    if (isExactly(type, "MapType")) return this.#map(type, t.valuesType as Type);
    if (isExactly(type, "UnwrappedUnionType")) return this.#union(type, t.types as Type[], false);
    if (isExactly(type, "WrappedUnionType")) return this.#union(type, t.types as Type[], true);
    return `readDelegated(c, ${this.constant(type)}, ${this.constant(compileGuardStep(type))})`;
  }

  #record(type: Type, fields: Fields): string {
    const recordConstructor = (type as unknown as { recordConstructor: unknown }).recordConstructor;
    return this.#call(type, "record", (name) => {
      const ctor = this.constant(recordConstructor);
      // Arguments are evaluated left to right: the fields in schema order, as avsc's own record reader does.
      const args = fields.map((field) => this.expression(field.type)).join(",\n    ");
      return `function ${name}(c) {\n  enterRecord(c);\n  const value = new ${ctor}(${args});\n  c.depth--;\n  return value;\n}`;
    });
  }

  #array(type: Type, items: Type): string {
    return this.#call(type, "array", (name) => {
      const itemSize = minimumSize(items);
      const item = this.expression(items);
      return `function ${name}(c) {
  let count = readBlockCount(c, ${itemSize}, "array");
  if (count === 0) return [];
  const value = new Array(count);
  let i = 0;
  for (;;) {
    for (; count > 0; count--) value[i++] = ${item};
    count = readBlockCount(c, ${itemSize}, "array");
    if (count === 0) return value;
  }
}`;
    });
  }

  #map(type: Type, values: Type): string {
    return this.#call(type, "map", (name) => {
      const itemSize = 1 + minimumSize(values);
      const item = this.expression(values);
      return `function ${name}(c) {
  const value = {};
  let count;
  while ((count = readBlockCount(c, ${itemSize}, "map")) !== 0) {
    for (; count > 0; count--) {
      const key = readString(c);
      value[key] = ${item};
    }
  }
  return value;
}`;
    });
  }

  #union(type: Type, branches: Type[], wrapped: boolean): string {
    return this.#call(type, "union", (name) => {
      const cases = branches.map((branch, i) => {
        const read = this.expression(branch);
        const Branch = (branch as unknown as { _branchConstructor: unknown })._branchConstructor;
        const value = !wrapped || Branch === null ? read : `new ${this.constant(Branch)}(${read})`;
        return `    case ${i}: return ${value};`;
      });
      return `function ${name}(c) {\n  switch (readUnionIndex(c, ${branches.length})) {\n${cases.join("\n")}\n  }\n}`;
    });
  }
}

/**
 * Compiles a one-pass reader of `type`'s binary encoding that checks what `createDecodeGuard` checks (truncated
 * values, trailing bytes, union and enum indices, negative and absurd lengths, block counts more than the remaining
 * bytes can hold, ints beyond 32 bits, boolean bytes, nesting deeper than `maxDepth`, the empty-item budget) while
 * it builds the value that avsc's `fromBuffer` would build, Kronos logical types included. A length or count is
 * checked against the remaining bytes before anything is allocated for it, so malformed input fails in linear time
 * with allocations bounded by its size. Types it does not know (subclasses, abstract longs) are walked by the guard
 * and read by avsc.
 */
export function compileReader(type: Type, limits: DecodeLimits = {}): CompiledReader {
  // The generated source names types only through constants and never embeds schema text (names, docs, symbols).
  const maxDepth = limits.maxDepth ?? 500;
  const maxEmptyItems = limits.maxEmptyItems ?? 100_000;
  const root = new ReaderSource().compile(type);
  return (bytes, start) => {
    const c = new ReadCursor(bytes, start, maxDepth, maxEmptyItems);
    const value = root(c);
    if (c.pos !== bytes.length) fail(c, `${bytes.length - c.pos} trailing bytes after the value`);
    return value;
  };
}

const DEFAULT_READERS = new WeakMap<Type, CompiledReader>();

/** The reader of `type` with the default limits, compiled once per type. */
export function compiledReaderOf(type: Type): CompiledReader {
  let read = DEFAULT_READERS.get(type);
  if (!read) {
    read = compileReader(type);
    DEFAULT_READERS.set(type, read);
  }
  return read;
}
