import type { Schema, Type } from "avsc";
import avsc from "avsc";

/**
 * Base of the Kronos logical types: each says in words what it expects, so validation can report it, and resolves
 * from a writer with the same logical type (as is) or from a writer whose underlying type the reader's underlying
 * type can read (the Avro rule: logical types annotate, resolution follows the underlying types).
 */
export abstract class KronosLogicalType extends avsc.types.LogicalType {
  /** What a valid value looks like, for violation messages ("expected Date"). */
  abstract readonly expectation: string;

  /** The writer's raw underlying value (already promoted by avsc) to this type's value. */
  protected fromRaw(raw: unknown): unknown {
    return this._fromValue(raw);
  }

  /** Whether a writer of the same logical type encodes values the same way (decimal compares its scale). */
  protected sameEncoding(_writer: Type): boolean {
    return true;
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    if (isLogical(writer) && writer.typeName === this.typeName && this.sameEncoding(writer)) {
      return (value) => value;
    }
    const writerUnderlying = isLogical(writer) ? writer.underlyingType : writer;
    try {
      this.underlyingType.createResolver(writerUnderlying);
    } catch {
      return undefined;
    }
    const toRaw = isLogical(writer)
      ? (value: unknown) => (writer as unknown as { _toValue(v: unknown): unknown })._toValue(value)
      : (value: unknown) => value;
    return (value) => this.fromRaw(toRaw(value));
  }
}

function isLogical(type: Type): type is InstanceType<typeof avsc.types.LogicalType> {
  return avsc.Type.isType(type, "logical");
}

const MS_PER_DAY = 86_400_000;

/** Per the Avro spec an annotation on the wrong underlying type is ignored: throwing makes avsc fall back. */
function requireUnderlying(type: KronosLogicalType, ...names: string[]): void {
  if (!names.includes(type.underlyingType.typeName)) {
    throw new Error(`${type.typeName} is not supported on ${type.underlyingType.typeName}`);
  }
}

/** timestamp-millis and local-timestamp-millis (long) ↔ `Date`. */
export class TimestampMillisType extends KronosLogicalType {
  readonly expectation = "expected a valid Date";
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    requireUnderlying(this, "long");
  }
  protected override _fromValue(value: number): Date {
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) throw new Error(`timestamp ${value} ms is outside the range of Date`);
    return date;
  }
  protected override _toValue(value: unknown): number | undefined {
    if (!(value instanceof Date)) return undefined;
    const ms = value.getTime();
    // avsc's long zig-zag is inexact below -2^52 (year -140,000): refuse rather than corrupt.
    return Number.isNaN(ms) || ms < -(2 ** 52) ? undefined : ms;
  }
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A `long` read and written as `bigint` over the full 64-bit range (no precision loss beyond 2^53). */
const BIGINT_LONG = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(0),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n, 0);
    return buf;
  },
  fromJSON: (json: unknown) => BigInt(json as number | string | bigint),
  toJSON: (n: bigint) => Number(n),
  isValid: (n: unknown) => typeof n === "bigint" && n >= INT64_MIN && n <= INT64_MAX,
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** timestamp-micros and local-timestamp-micros (long) ↔ `bigint` µs since the epoch, exact over 64 bits. */
export class TimestampMicrosType extends KronosLogicalType {
  readonly expectation = "expected a bigint (microseconds since the epoch, 64-bit)";
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    requireUnderlying(this, "long");
    // avsc's own long is a number and refuses values beyond 2^53; the bigint long keeps every microsecond.
    (this as unknown as { _underlyingType: Type })._underlyingType = BIGINT_LONG;
  }
  protected override fromRaw(raw: unknown): bigint {
    return typeof raw === "bigint" ? raw : BigInt(raw as number);
  }
  protected override _fromValue(value: bigint): bigint {
    return value;
  }
  protected override _toValue(value: unknown): bigint | undefined {
    return typeof value === "bigint" && value >= INT64_MIN && value <= INT64_MAX ? value : undefined;
  }
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

/** Days since the epoch of "YYYY-MM-DD", or undefined unless it is a real calendar date in years 0000–9999. */
export function parseIsoDate(text: string): number | undefined {
  const match = DATE_PATTERN.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1) return undefined;
  const days = daysFromCivil(year, month, day);
  const [y, m, d] = civilFromDays(days);
  return y === year && m === month && d === day ? days : undefined;
}

/** "YYYY-MM-DD" of a day count since the epoch (years 0000–9999). */
export function formatIsoDate(days: number): string {
  const [year, month, day] = civilFromDays(days);
  if (year < 0 || year > 9999) throw new Error(`date ${days} days from the epoch is outside years 0000-9999`);
  return `${String(year).padStart(4, "0")}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** date (int, days since the epoch) ↔ `"YYYY-MM-DD"`. */
export class DateType extends KronosLogicalType {
  readonly expectation = 'expected a date string "YYYY-MM-DD" (a real calendar date, years 0000-9999)';
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    requireUnderlying(this, "int");
  }
  protected override _fromValue(value: number): string {
    return formatIsoDate(value);
  }
  protected override _toValue(value: unknown): number | undefined {
    return typeof value === "string" ? parseIsoDate(value) : undefined;
  }
}

/** Time of day as an integer count of units since midnight. */
abstract class TimeOfDayType extends KronosLogicalType {
  readonly expectation: string;
  readonly #perDay: number;
  constructor(schema: Schema, opts: unknown, unit: string, perDay: number, underlying: string) {
    super(schema, opts);
    requireUnderlying(this, underlying);
    this.#perDay = perDay;
    this.expectation = `expected an integer number of ${unit} since midnight, 0 to ${perDay - 1}`;
  }
  protected override _fromValue(value: number): number {
    return value;
  }
  protected override _toValue(value: unknown): number | undefined {
    return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < this.#perDay
      ? value
      : undefined;
  }
}

/** time-millis (int) ↔ `number` of milliseconds since midnight. */
export class TimeMillisType extends TimeOfDayType {
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts, "milliseconds", MS_PER_DAY, "int");
  }
}

/** time-micros (long) ↔ `number` of microseconds since midnight. */
export class TimeMicrosType extends TimeOfDayType {
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts, "microseconds", MS_PER_DAY * 1000, "long");
  }
}

/** 1 for the character codes of hex digits; indexed by any UTF-16 code unit, so no range check is needed. */
const HEX_CODE = new Uint8Array(65_536);
for (const ch of "0123456789abcdefABCDEF") HEX_CODE[ch.charCodeAt(0)] = 1;

/**
 * Whether `text` is 8-4-4-4-12 hexadecimal digits (what `/^[0-9a-fA-F]{8}-…-[0-9a-fA-F]{12}$/` matches), checked by
 * character codes: the regular expression cost more than the rest of encoding or decoding a uuid field.
 */
export function isUuidText(text: string): boolean {
  if (
    text.length !== 36 ||
    text.charCodeAt(8) !== 0x2d ||
    text.charCodeAt(13) !== 0x2d ||
    text.charCodeAt(18) !== 0x2d ||
    text.charCodeAt(23) !== 0x2d
  ) {
    return false;
  }
  // With the four dashes in place, the other 32 characters are all hex digits exactly when 32 characters are.
  let digits = 0;
  for (let i = 0; i < 36; i += 4) {
    digits +=
      (HEX_CODE[text.charCodeAt(i)] as number) +
      (HEX_CODE[text.charCodeAt(i + 1)] as number) +
      (HEX_CODE[text.charCodeAt(i + 2)] as number) +
      (HEX_CODE[text.charCodeAt(i + 3)] as number);
  }
  return digits === 32;
}

/** uuid (string) ↔ `string` in the 8-4-4-4-12 hex form (checked both ways). */
export class UuidType extends KronosLogicalType {
  readonly expectation = "expected a UUID string (8-4-4-4-12 hexadecimal digits)";
  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    requireUnderlying(this, "string");
  }
  protected override _fromValue(value: string): string {
    if (!isUuidText(value)) throw new Error(`not a UUID: ${JSON.stringify(value.slice(0, 40))}`);
    return value;
  }
  protected override _toValue(value: unknown): string | undefined {
    return typeof value === "string" && isUuidText(value) ? value : undefined;
  }
}

const DECIMAL_PATTERN = /^(-?)(\d+)(?:\.(\d+))?$/;

/**
 * decimal (bytes or fixed; two's-complement big-endian unscaled integer) ↔ `string` holding the exact decimal with
 * exactly `scale` fraction digits on decode ("-12.30"). Encoding accepts at most `scale` fraction digits (missing
 * ones are zeros) and at most `precision` significant digits.
 */
export class DecimalType extends KronosLogicalType {
  readonly precision: number;
  readonly scale: number;
  readonly expectation: string;
  readonly #size: number | undefined;

  constructor(schema: Schema, opts?: unknown) {
    super(schema, opts);
    const { precision, scale = 0 } = schema as { precision?: unknown; scale?: unknown };
    if (!Number.isInteger(precision) || (precision as number) < 1) throw new Error("decimal needs a precision ≥ 1");
    if (!Number.isInteger(scale) || (scale as number) < 0 || (scale as number) > (precision as number)) {
      throw new Error("decimal scale must be an integer in 0..precision");
    }
    this.precision = precision as number;
    this.scale = scale as number;
    const underlying = this.underlyingType as Type & { size?: number };
    if (underlying.typeName === "fixed") {
      this.#size = underlying.size ?? 0;
      const maxDigits = Math.floor(Math.log10(2) * (8 * this.#size - 1));
      if (this.precision > maxDigits) throw new Error(`decimal precision too large for fixed(${this.#size})`);
    } else if (underlying.typeName !== "bytes") {
      throw new Error("decimal is only supported on bytes and fixed");
    }
    this.expectation =
      `expected a decimal string with at most ${this.precision} digits and at most ${this.scale} after the point` +
      ` (e.g. "${"1".repeat(Math.max(1, this.precision - this.scale))}${this.scale ? `.${"0".repeat(this.scale)}` : ""}")`;
  }

  protected override sameEncoding(writer: Type): boolean {
    return (writer as DecimalType).scale === this.scale;
  }

  protected override _export(schema: Schema): void {
    Object.assign(schema as object, { precision: this.precision, scale: this.scale });
  }

  protected override _fromValue(value: Buffer): string {
    let unscaled = value.length === 0 ? 0n : BigInt(`0x${value.toString("hex")}`);
    if (value.length > 0 && ((value[0] ?? 0) & 0x80) !== 0) unscaled -= 1n << BigInt(value.length * 8);
    const negative = unscaled < 0n;
    const digits = (negative ? -unscaled : unscaled).toString();
    if (digits.length > this.precision && unscaled !== 0n) {
      throw new Error(`decimal has ${digits.length} digits, more than its precision ${this.precision}`);
    }
    const padded = digits.padStart(this.scale + 1, "0");
    const whole = padded.slice(0, padded.length - this.scale);
    const fraction = padded.slice(padded.length - this.scale);
    return `${negative ? "-" : ""}${whole}${this.scale > 0 ? `.${fraction}` : ""}`;
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    if (typeof value !== "string") return undefined;
    const match = DECIMAL_PATTERN.exec(value);
    if (!match) return undefined;
    const fraction = match[3] ?? "";
    if (fraction.length > this.scale) return undefined;
    const digits = `${match[2]}${fraction.padEnd(this.scale, "0")}`.replace(/^0+(?=\d)/, "");
    if (digits.length > this.precision && digits !== "0") return undefined;
    const unscaled = BigInt(`${match[1]}${digits}`);
    return toTwosComplement(unscaled, this.#size);
  }
}

/** Big-endian two's complement: minimal length, or sign-extended to `size` bytes (fixed). */
function toTwosComplement(n: bigint, size: number | undefined): Buffer | undefined {
  let length = 1;
  while (n < -(1n << BigInt(8 * length - 1)) || n >= 1n << BigInt(8 * length - 1)) length++;
  if (size !== undefined) {
    if (length > size) return undefined;
    length = size;
  }
  const unsigned = n < 0n ? (1n << BigInt(8 * length)) + n : n;
  return Buffer.from(unsigned.toString(16).padStart(length * 2, "0"), "hex");
}

/**
 * The Kronos logical types, by Avro `logicalType` name, for avsc's `logicalTypes` option. A logical type that is
 * unknown or invalid here (e.g. uuid on fixed, decimal without precision) falls back to its underlying type.
 */
export const KRONOS_LOGICAL_TYPES = {
  "timestamp-millis": TimestampMillisType,
  "local-timestamp-millis": TimestampMillisType,
  "timestamp-micros": TimestampMicrosType,
  "local-timestamp-micros": TimestampMicrosType,
  date: DateType,
  "time-millis": TimeMillisType,
  "time-micros": TimeMicrosType,
  uuid: UuidType,
  decimal: DecimalType,
} as const;
