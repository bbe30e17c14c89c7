import type { AmqpTableJson } from "@kronos/transport";
import { inTransaction, type Pool } from "../db/database.js";
import { dlqError } from "../errors.js";
import { decodeCursor, encodeCursor, type Filter, filterSql } from "./filter.js";
import { lastValues, storedRawHeaders } from "./raw-headers.js";

/** A dead letter as the list shows it. */
export interface DeadLetterSummary {
  id: string;
  source: string;
  sourceBroker: string;
  dialect: string;
  reason: string | null;
  errorCode: string | null;
  error: string | null;
  errorFingerprint: string;
  destination: string | null;
  routingKey: string | null;
  eventType: string | null;
  schemaId: number | null;
  messageId: string | null;
  attempts: number | null;
  state: string;
  stateReason: string | null;
  replayCount: number;
  firstSeen: string;
  lastSeen: string;
  seenCount: number;
}

const SUMMARY_COLUMNS = `id, source, source_broker, dialect, reason, error_code, error_text, error_fingerprint,
  destination, routing_key, event_type, schema_id, message_id, attempts, state, state_reason, replay_count,
  first_seen, last_seen, seen_count`;

// biome-ignore lint/suspicious/noExplicitAny: a pg row
function summaryOf(row: any): DeadLetterSummary {
  return {
    id: String(row.id),
    source: row.source,
    sourceBroker: row.source_broker,
    dialect: row.dialect,
    reason: row.reason,
    errorCode: row.error_code,
    error: row.error_text,
    errorFingerprint: row.error_fingerprint,
    destination: row.destination,
    routingKey: row.routing_key,
    eventType: row.event_type,
    schemaId: row.schema_id,
    messageId: row.message_id,
    attempts: row.attempts,
    state: row.state,
    stateReason: row.state_reason,
    replayCount: row.replay_count,
    firstSeen: new Date(row.first_seen).toISOString(),
    lastSeen: new Date(row.last_seen).toISOString(),
    seenCount: row.seen_count,
  };
}

/** One page of dead letters matching `filter`, newest first, and the cursor of the next page (absent at the end). */
export async function listDeadLetters(
  pool: Pool,
  filter: Filter,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ items: DeadLetterSummary[]; nextCursor?: string }> {
  const { where, params } = filterSql(filter);
  let condition = where;
  if (page.cursor !== undefined) {
    params.push(decodeCursor(page.cursor));
    condition += ` AND id < $${params.length}`;
  }
  params.push(page.limit + 1);
  const result = await pool.query(
    `SELECT ${SUMMARY_COLUMNS} FROM dead_letters WHERE ${condition} ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  const items = result.rows.slice(0, page.limit).map(summaryOf);
  const last = items[items.length - 1];
  return result.rows.length > page.limit && last ? { items, nextCursor: encodeCursor(last.id) } : { items };
}

/** A dead letter with everything stored about it. */
export interface DeadLetterDetail extends DeadLetterSummary {
  body: Buffer;
  /** Header name → value bytes, byte for byte (the last value of a repeated header). */
  headers: Record<string, Buffer>;
  key: string | null;
  sourcePartition: number | null;
  sourceOffset: string | null;
  model: Record<string, unknown>;
  /** The repaired bytes a replay sends instead of `body`, if an operator repaired it. */
  repairedBody: Buffer | null;
  /** A RabbitMQ dead letter's AMQP header table with each value's type (migration 005); null otherwise. */
  amqpHeaders: AmqpTableJson | null;
}

/** The dead letter `id`; throws `DEAD_LETTER_NOT_FOUND`. */
export async function getDeadLetter(pool: Pool, id: string): Promise<DeadLetterDetail> {
  const result = await pool.query(
    `SELECT ${SUMMARY_COLUMNS}, body, headers, raw_headers, record_key, source_partition, source_offset, model, repaired_body,
            amqp_headers
       FROM dead_letters WHERE id = $1`,
    [id],
  );
  const row = result.rows[0];
  if (!row) throw dlqError("DEAD_LETTER_NOT_FOUND", `no dead letter has id ${id}`);
  return {
    ...summaryOf(row),
    body: row.body,
    headers: lastValues(storedRawHeaders(row)),
    key: row.record_key,
    sourcePartition: row.source_partition,
    sourceOffset: row.source_offset === null ? null : String(row.source_offset),
    model: row.model,
    repairedBody: row.repaired_body,
    amqpHeaders: row.amqp_headers,
  };
}

/** How many hours a group's trend covers, one count per hour. */
export const TREND_HOURS = 24;

// The trend's buckets: dead letters first seen in each hour of the last TREND_HOURS, oldest first, the last one
// ending now.
const TREND_SQL = `ARRAY[${Array.from(
  { length: TREND_HOURS },
  (_, i) =>
    `count(*) FILTER (WHERE first_seen > now() - interval '${TREND_HOURS - i} hours'` +
    ` AND first_seen <= now() - interval '${TREND_HOURS - 1 - i} hours')::int`,
).join(", ")}]`;

/**
 * "How many like it": counts by source × event type × reason × error fingerprint, with first and last time, and the
 * trend: how many of them were first seen in each of the last {@link TREND_HOURS} hours, oldest first.
 */
export async function groupDeadLetters(pool: Pool, filter: Filter) {
  const { where, params } = filterSql(filter);
  const result = await pool.query(
    `SELECT source, event_type, reason, error_fingerprint, min(error_code) AS error_code,
            min(error_text) AS sample_error, count(*)::int AS count,
            count(*) FILTER (WHERE state = 'new')::int AS unresolved,
            min(first_seen) AS first_seen, max(last_seen) AS last_seen, ${TREND_SQL} AS trend
       FROM dead_letters WHERE ${where}
      GROUP BY source, event_type, reason, error_fingerprint
      ORDER BY count(*) DESC, max(last_seen) DESC LIMIT 500`,
    params,
  );
  return result.rows.map((row) => ({
    source: row.source as string,
    eventType: row.event_type as string | null,
    reason: row.reason as string | null,
    errorFingerprint: row.error_fingerprint as string,
    errorCode: row.error_code as string | null,
    sampleError: row.sample_error as string | null,
    count: row.count as number,
    unresolved: row.unresolved as number,
    firstSeen: new Date(row.first_seen).toISOString(),
    lastSeen: new Date(row.last_seen).toISOString(),
    trend: row.trend as number[],
  }));
}

/**
 * Discards a dead letter (kept, marked `discarded` with the reason) and audits it, in one transaction. Throws
 * `DEAD_LETTER_NOT_FOUND`, or `INVALID_STATE` while a replay job holds it (`replaying`) or when already discarded.
 */
export async function discardDeadLetter(pool: Pool, id: string, reason: string, actor: string): Promise<void> {
  await inTransaction(pool, async (client) => {
    const current = await client.query<{ state: string }>("SELECT state FROM dead_letters WHERE id = $1 FOR UPDATE", [
      id,
    ]);
    const state = current.rows[0]?.state;
    if (state === undefined) throw dlqError("DEAD_LETTER_NOT_FOUND", `no dead letter has id ${id}`);
    if (state === "replaying" || state === "discarded") {
      throw dlqError("INVALID_STATE", `dead letter ${id} is ${state}: it cannot be discarded now`);
    }
    await client.query("UPDATE dead_letters SET state = 'discarded', state_reason = $2 WHERE id = $1", [id, reason]);
    await client.query("INSERT INTO audit (actor, action, dead_letter_id, detail) VALUES ($1, 'discard', $2, $3)", [
      actor,
      id,
      JSON.stringify({ reason, previousState: state }),
    ]);
  });
}

/** Deletes discarded dead letters first seen more than `olderThanDays` ago (never one a job refers to); audited. */
export async function purgeDiscarded(pool: Pool, olderThanDays: number, actor: string): Promise<number> {
  return inTransaction(pool, async (client) => {
    const deleted = await client.query(
      `DELETE FROM dead_letters d WHERE state = 'discarded' AND first_seen < now() - make_interval(days => $1)
         AND NOT EXISTS (SELECT 1 FROM replay_items i WHERE i.dead_letter_id = d.id)`,
      [olderThanDays],
    );
    const count = deleted.rowCount ?? 0;
    await client.query("INSERT INTO audit (actor, action, detail) VALUES ($1, 'purge', $2)", [
      actor,
      JSON.stringify({ olderThanDays, deleted: count }),
    ]);
    return count;
  });
}

/** The audit, newest first; filtered by dead letter or job. */
export async function listAudit(
  pool: Pool,
  query: { deadLetterId?: string | undefined; jobId?: string | undefined; limit: number },
) {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.deadLetterId !== undefined) {
    params.push(query.deadLetterId);
    conditions.push(`dead_letter_id = $${params.length}`);
  }
  if (query.jobId !== undefined) {
    params.push(query.jobId);
    conditions.push(`job_id = $${params.length}`);
  }
  params.push(query.limit);
  const result = await pool.query(
    `SELECT id, at, actor, action, dead_letter_id, job_id, detail FROM audit
      WHERE ${conditions.length === 0 ? "TRUE" : conditions.join(" AND ")} ORDER BY id DESC LIMIT $${params.length}`,
    params,
  );
  return result.rows.map((row) => ({
    id: String(row.id),
    at: new Date(row.at).toISOString(),
    actor: row.actor as string,
    action: row.action as string,
    deadLetterId: row.dead_letter_id === null ? null : String(row.dead_letter_id),
    jobId: row.job_id === null ? null : String(row.job_id),
    detail: row.detail as Record<string, unknown>,
  }));
}
