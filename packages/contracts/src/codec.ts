import type { Type } from "avsc";
import type { DecodeLimits } from "./decode-guard.js";
import { ContractError, describeError, type Violation } from "./errors.js";
import { type CompiledReader, compiledReaderOf, compileReader } from "./reader.js";
import { compileShapeCheck } from "./shape-check.js";
import { validateValue } from "./validate.js";
import { type CompiledWriter, compileWriter, createTap, type WriterTap } from "./writer.js";

type Resolver = ReturnType<Type["createResolver"]>;

/** Encodes and decodes Avro binary (no framing) for one type, with validation and a guarded decoder. */
export interface AvroCodec<T> {
  readonly type: Type;
  /** Avro binary of a valid value. Throws `ContractError` `VALIDATION_FAILED` with every violation. */
  encode(value: T): Buffer;
  /** The value of Avro binary written with this type. Throws `ContractError` `DECODE_FAILED`. */
  decode(bytes: Buffer): T;
  /** Every violation with its path; `[]` when valid. */
  validate(value: unknown): Violation[];
}

/** Throws `VALIDATION_FAILED` listing every violation unless `value` matches `type`. */
export function assertValid(type: Type, value: unknown, what: string): void {
  // Fast path: avsc's check without the hook; collect the details only for an invalid value.
  let valid = false;
  try {
    valid = type.isValid(value, { noUndeclaredFields: true });
  } catch {
    valid = false;
  }
  if (valid) return;
  const violations = validateValue(type, value);
  throw validationError(what, violations);
}

function validationError(what: string, violations: Violation[]): ContractError {
  const listed = violations
    .slice(0, 5)
    .map((v) => `${v.path || "(value)"}: ${v.message}`)
    .join("; ");
  const more = violations.length > 5 ? ` (and ${violations.length - 5} more)` : "";
  return new ContractError("VALIDATION_FAILED", `invalid ${what}: ${listed}${more}`, { violations });
}

/** The `DECODE_FAILED` error for `what`, caused by `error`. */
export function decodeFailed(what: string, error: unknown): ContractError {
  return new ContractError("DECODE_FAILED", `cannot decode ${what}: ${describeError(error)}`, { cause: error });
}

/**
 * Decodes the Avro value that starts at `start` in `bytes` (and ends at its end) with a compiled reader, which
 * checks the bytes as it reads them (see `compileReader`). Throws `ContractError` `DECODE_FAILED` for anything that
 * is not a complete, exact encoding.
 */
export function readDecode<T>(read: CompiledReader, bytes: Buffer, start: number, what: string): T {
  if (!Buffer.isBuffer(bytes)) throw new ContractError("DECODE_FAILED", `cannot decode ${what}: not a Buffer`);
  try {
    return read(bytes, start) as T;
  } catch (error) {
    throw decodeFailed(what, error);
  }
}

/**
 * Decodes `bytes` written with another schema (the writer's) into `readerType`'s representation through `resolver`.
 * The bytes are walked by the writer schema's `guard` first, so malformed input fails in linear time without
 * allocating. Throws `ContractError` `DECODE_FAILED` for anything that is not a complete, exact encoding.
 */
export function guardedDecode<T>(
  guard: (bytes: Buffer) => void,
  readerType: Type,
  bytes: Buffer,
  resolver: Resolver,
  what: string,
): T {
  if (!Buffer.isBuffer(bytes)) throw new ContractError("DECODE_FAILED", `cannot decode ${what}: not a Buffer`);
  try {
    guard(bytes);
    return readerType.fromBuffer(bytes, resolver) as T;
  } catch (error) {
    throw decodeFailed(what, error);
  }
}

/** Writes `value` after `headerLength` bytes left for the caller to fill; throws whatever avsc's writer throws. */
type FramedWriter = (value: unknown, headerLength: number) => Buffer;

const INITIAL_SCRATCH = 16 * 1024;
let scratch: WriterTap | undefined;
let scratchBusy = false;

/**
 * A writer into one scratch buffer, reused across calls (as avsc's own `toBuffer` does), that copies the result
 * into a buffer of the exact size: one allocation per message, with room for a header (the Confluent frame).
 */
function createFramedWriter(write: CompiledWriter): FramedWriter {
  return (value, headerLength) => {
    if (scratchBusy) {
      // Re-entered (a logical type encoding from inside a write): use a private tap.
      return writeWith(createTap(Buffer.allocUnsafe(256)), write, value, headerLength);
    }
    scratchBusy = true;
    try {
      scratch ??= createTap(Buffer.allocUnsafeSlow(INITIAL_SCRATCH));
      return writeWith(scratch, write, value, headerLength);
    } finally {
      scratchBusy = false;
    }
  };
}

function writeWith(
  tap: WriterTap,
  write: (tap: WriterTap, value: unknown) => void,
  value: unknown,
  headerLength: number,
): Buffer {
  tap.pos = headerLength;
  write(tap, value);
  if (tap.pos > tap.buf.length) {
    // avsc's writes past the end only move the position: grow to the size now known and write again.
    tap.buf = Buffer.allocUnsafeSlow(Math.max(tap.pos, tap.buf.length * 2));
    tap.pos = headerLength;
    write(tap, value);
  }
  const out = Buffer.allocUnsafe(tap.pos);
  tap.buf.copy(out, 0, 0, tap.pos);
  return out;
}

/**
 * Writes the Avro binary of `value` after `headerLength` bytes (left unwritten, for the caller's header) into one
 * buffer.
 */
export type EncodeWithHeader = (value: unknown, headerLength: number) => Buffer;

/** A codec for `type`; `what` names it in error messages. */
export function createCodec<T>(
  type: Type,
  what: string,
  limits?: DecodeLimits,
): AvroCodec<T> & {
  encodeWithHeader: EncodeWithHeader;
} {
  const read = limits ? compileReader(type, limits) : compiledReaderOf(type);
  const write = compileWriter(type);
  // The compiled writer checks records' shapes itself unless avsc writes some of them (see checksShapes).
  const shapeOk = write.checksShapes ? () => true : compileShapeCheck(type);
  const writeFramed = createFramedWriter(write);

  // Fast path: the compiled writer refuses every wrong type itself (same checks as isValid); undeclared fields and
  // non-objects as records, which avsc's writers do not see, it refuses too where it writes every record itself,
  // else the shape check covers them. Anything refused goes through the full
  // validation, which lists every violation, so nothing invalid is written and no violation goes unreported.
  const encodeWithHeader = (value: unknown, headerLength: number): Buffer => {
    if (shapeOk(value)) {
      try {
        return writeFramed(value, headerLength);
      } catch {
        // Reported below with every violation.
      }
    }
    assertValid(type, value, what);
    try {
      return writeFramed(value, headerLength);
    } catch (error) {
      throw new ContractError("VALIDATION_FAILED", `cannot encode ${what}: ${describeError(error)}`, {
        cause: error,
        violations: [{ path: "", message: describeError(error) }],
      });
    }
  };
  return {
    type,
    encode: (value) => encodeWithHeader(value, 0),
    encodeWithHeader,
    decode: (bytes) => readDecode<T>(read, bytes, 0, what),
    validate: (value) => validateValue(type, value),
  };
}
