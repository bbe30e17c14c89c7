import type { Type } from "avsc";
import { createDecodeGuard, type DecodeLimits } from "./decode-guard.js";
import { ContractError, describeError, type Violation } from "./errors.js";
import { validateValue } from "./validate.js";

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

/**
 * Decodes `bytes` written with `writerType` into `readerType`'s representation (through `resolver` when the two
 * differ). The bytes are walked by a guard first, so malformed input fails in linear time without allocating.
 * Throws `ContractError` `DECODE_FAILED` for anything that is not a complete, exact encoding.
 */
export function guardedDecode<T>(
  guard: (bytes: Buffer) => void,
  readerType: Type,
  bytes: Buffer,
  resolver: Resolver | undefined,
  what: string,
): T {
  if (!Buffer.isBuffer(bytes)) throw new ContractError("DECODE_FAILED", `cannot decode ${what}: not a Buffer`);
  try {
    guard(bytes);
    return readerType.fromBuffer(bytes, resolver) as T;
  } catch (error) {
    throw new ContractError("DECODE_FAILED", `cannot decode ${what}: ${describeError(error)}`, { cause: error });
  }
}

/** A codec for `type`; `what` names it in error messages. */
export function createCodec<T>(type: Type, what: string, limits?: DecodeLimits): AvroCodec<T> {
  const guard = createDecodeGuard(type, limits);
  return {
    type,
    encode(value) {
      assertValid(type, value, what);
      try {
        return type.toBuffer(value);
      } catch (error) {
        throw new ContractError("VALIDATION_FAILED", `cannot encode ${what}: ${describeError(error)}`, {
          cause: error,
          violations: [{ path: "", message: describeError(error) }],
        });
      }
    },
    decode: (bytes) => guardedDecode<T>(guard, type, bytes, undefined, what),
    validate: (value) => validateValue(type, value),
  };
}
