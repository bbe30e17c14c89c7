import { isContractError, type RegistrySerde } from "@kronos/contracts";

/** A dead letter's payload as `GET /dead-letters/:id` shows it. */
export type DecodedPayload =
  | { decoded: true; schemaId: number; writerName: string; value: unknown }
  | { decoded: false; reason: string; code: string; hex: string };

/** A decoded Avro value as JSON: 64-bit numbers as text, bytes as hex. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (Buffer.isBuffer(value)) return value.toString("hex");
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, jsonSafe(v)]));
  }
  return value;
}

/**
 * Decodes a dead letter's body with its WRITER schema, fetched from the registry by the frame's schema id (whatever
 * the event's schema is today). What cannot be decoded is shown as hex with the reason and its code
 * (`INCOMPLETE_HEADER`, `INVALID_MAGIC_BYTE`, `SCHEMA_ID_NOT_FOUND`, `DECODE_FAILED`, `REGISTRY_UNAVAILABLE`, ...).
 */
export async function decodePayload(serde: RegistrySerde, body: Buffer): Promise<DecodedPayload> {
  try {
    const decoded = await serde.decodeAny(body);
    return {
      decoded: true,
      schemaId: decoded.schemaId,
      writerName: decoded.writerName,
      value: jsonSafe(decoded.value),
    };
  } catch (error) {
    const code = isContractError(error) ? error.code : "DECODE_FAILED";
    return { decoded: false, reason: (error as Error).message, code, hex: body.toString("hex") };
  }
}
