import { frame, type RegistrySerde, validateValue } from "@kronos/contracts";
import { inTransaction, type Pool } from "./db/database.js";
import { decodePayload } from "./decode.js";
import { dlqError } from "./errors.js";
import { violationList } from "./validation.js";

/**
 * Repairs a dead letter: `payload` (the decoded payload as JSON, edited) is validated against the event's CURRENT
 * schema (the latest version under its subject, the event's full name) and encoded with that schema's registered id.
 * The original bytes are kept; the repaired ones are what a replay sends. Audited with the payload before and after.
 * Throws `DEAD_LETTER_NOT_FOUND`, `INVALID_STATE` (replaying or discarded), `NO_CURRENT_SCHEMA` (no event type, or
 * nothing registered under it), `REPAIR_INVALID` (every violation with its path).
 */
export async function repairDeadLetter(
  pool: Pool,
  serde: RegistrySerde,
  id: string,
  payload: unknown,
  actor: string,
): Promise<{ schemaId: number }> {
  const found = await pool.query<{ state: string; event_type: string | null; body: Buffer }>(
    "SELECT state, event_type, body FROM dead_letters WHERE id = $1",
    [id],
  );
  const letter = found.rows[0];
  if (!letter) throw dlqError("DEAD_LETTER_NOT_FOUND", `no dead letter has id ${id}`);
  if (letter.state === "replaying" || letter.state === "discarded") {
    throw dlqError("INVALID_STATE", `dead letter ${id} is ${letter.state}: it cannot be repaired now`);
  }
  const before = await decodePayload(serde, letter.body);
  const subject = letter.event_type ?? (before.decoded ? before.writerName : undefined);
  const schemaId = subject === undefined ? undefined : await serde.client.getLatestSchemaId(subject);
  const type = schemaId === undefined ? undefined : await serde.client.getWriterType(schemaId);
  if (subject === undefined || schemaId === undefined || type === undefined) {
    throw dlqError("NO_CURRENT_SCHEMA", `dead letter ${id} has no event type with a schema registered today`);
  }
  const violations = validateValue(type, payload);
  if (violations.length > 0) {
    throw dlqError(
      "REPAIR_INVALID",
      `the payload does not match ${subject} (schema id ${schemaId}): ${violationList(violations)}`,
    );
  }
  const body = frame(schemaId, type.toBuffer(payload));
  await inTransaction(pool, async (client) => {
    await client.query(
      "UPDATE dead_letters SET repaired_body = $2, repaired_schema_id = $3, repaired_at = now() WHERE id = $1",
      [id, body, schemaId],
    );
    await client.query("INSERT INTO audit (actor, action, dead_letter_id, detail) VALUES ($1, 'repair', $2, $3)", [
      actor,
      id,
      JSON.stringify({ schemaId, before: before.decoded ? before.value : { hex: before.hex }, after: payload }),
    ]);
  });
  return { schemaId };
}
