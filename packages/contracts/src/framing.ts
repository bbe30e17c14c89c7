import { ContractError } from "./errors.js";

/** The Confluent wire format's magic byte. */
export const MAGIC_BYTE = 0;
/** Magic byte + 4-byte big-endian schema id. */
export const HEADER_LENGTH = 5;
const MAX_SCHEMA_ID = 0x7fff_ffff;

/**
 * Frames Avro bytes in the Confluent wire format: `0x00`, the schema id as a 4-byte big-endian integer, the payload.
 * Throws `ContractError` `INVALID_SCHEMA_ID` unless the id is an integer in 0..2^31-1.
 */
export function frame(schemaId: number, payload: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_SCHEMA_ID) {
    throw new ContractError("INVALID_SCHEMA_ID", `schema id must be an integer in 0..2^31-1, got ${String(schemaId)}`);
  }
  const framed = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  framed[0] = MAGIC_BYTE;
  framed.writeUInt32BE(schemaId, 1);
  payload.copy(framed, HEADER_LENGTH);
  return framed;
}

/**
 * The schema id of Confluent-framed bytes, after the header checks of {@link unframe} (same errors); the payload
 * starts at {@link HEADER_LENGTH}.
 */
export function schemaIdOf(bytes: Buffer): number {
  if (!Buffer.isBuffer(bytes) || bytes.length < HEADER_LENGTH) {
    const length = Buffer.isBuffer(bytes) ? bytes.length : 0;
    throw new ContractError(
      "INCOMPLETE_HEADER",
      `a Confluent-framed message needs at least ${HEADER_LENGTH} bytes (magic byte and schema id), got ${length}`,
    );
  }
  if (bytes[0] !== MAGIC_BYTE) {
    throw new ContractError(
      "INVALID_MAGIC_BYTE",
      `expected magic byte 0x00, got 0x${(bytes[0] ?? 0).toString(16).padStart(2, "0")}: not Confluent-framed Avro`,
    );
  }
  return bytes.readUInt32BE(1);
}

/**
 * Splits Confluent-framed bytes into the schema id and the Avro payload (a view, not a copy).
 * Throws `ContractError` `INCOMPLETE_HEADER` for fewer than 5 bytes (checked before anything is read) and
 * `INVALID_MAGIC_BYTE` when the first byte is not 0.
 */
export function unframe(bytes: Buffer): { schemaId: number; payload: Buffer } {
  return { schemaId: schemaIdOf(bytes), payload: bytes.subarray(HEADER_LENGTH) };
}
