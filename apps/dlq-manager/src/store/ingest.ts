import { createHash } from "node:crypto";
import { amqpTableToJson, type DeadLetterModel, type RawHeader, readDeadLetterModel } from "@kronos/transport";
import type { Pool } from "../db/database.js";
import { encodeRawHeaders } from "./raw-headers.js";

/** A dead letter as custody receives it from a source. */
export interface IncomingDeadLetter {
  readonly broker: "kafka" | "rabbitmq";
  /** The dead-letter topic or queue it was read from. */
  readonly source: string;
  /** Kafka only: where it sits in the dead-letter topic. */
  readonly partition?: number | undefined;
  readonly offset?: string | undefined;
  /** The Kafka key as text (UTF-8), for browsing. */
  readonly key?: string | undefined;
  /** The Kafka key byte for byte (what a replay sends); null or absent: no key, or RabbitMQ. */
  readonly rawKey?: Buffer | null | undefined;
  readonly body: Buffer;
  /** Header name → value bytes (the last value of a repeated header). */
  readonly headers: Readonly<Record<string, Buffer>>;
  /** Every header in order, byte for byte (`Delivery.rawHeaders`); absent: `headers` is all there is. */
  readonly rawHeaders?: ReadonlyArray<RawHeader> | undefined;
  /** RabbitMQ only: the AMQP header table as amqplib decoded it, typed values included (`Delivery.amqp`). */
  readonly amqpHeaders?: Readonly<Record<string, unknown>> | undefined;
}

/** The replay marker headers a replayed copy carries (so a repeat failure links to the dead letter it came from). */
export const REPLAY_HEADERS = {
  jobId: "x-kronos-replay-job-id",
  count: "x-kronos-replay-count",
  deadLetterId: "x-kronos-replay-dead-letter-id",
} as const;

/** The model stored with a dead letter: the dialect's fields, `unknown` when no dialect recognises it. */
export type StoredModel = (DeadLetterModel | { readonly dialect: "unknown" }) & {
  readonly replayOf?: { readonly jobId: string; readonly count: number; readonly deadLetterId: string };
};

/** Reads the one model of a dead letter's headers, plus its replay marker when it is a replayed copy failing again. */
export function modelOf(headers: Readonly<Record<string, Buffer>>): StoredModel {
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) text[name] = value.toString("utf8");
  const model: StoredModel = readDeadLetterModel(headers) ?? { dialect: "unknown" };
  const deadLetterId = text[REPLAY_HEADERS.deadLetterId];
  if (deadLetterId === undefined) return model;
  return {
    ...model,
    replayOf: {
      jobId: text[REPLAY_HEADERS.jobId] ?? "",
      count: Number(text[REPLAY_HEADERS.count] ?? "1"),
      deadLetterId,
    },
  };
}

/**
 * The fingerprint of an error: its code and its text with the parts that vary per message (ids, numbers, quoted
 * values) blanked, so "how many like it" groups the same failure across messages.
 */
export function errorFingerprint(errorCode: string | undefined, error: string | undefined): string {
  const shape = (error ?? "")
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<id>")
    .replace(/"[^"]*"|'[^']*'/g, "<value>")
    .replace(/\b[0-9a-f]{12,}\b/gi, "<hex>")
    .replace(/\d+/g, "<n>")
    .slice(0, 300);
  return createHash("sha256")
    .update(`${errorCode ?? ""}\u0000${shape}`)
    .digest("hex")
    .slice(0, 16);
}

/**
 * The key that makes storing the same dead letter twice a no-op: its position on Kafka; on RabbitMQ (no positions)
 * the hash of its body and headers, which a redelivery after a crash keeps (RabbitMQ's own `x-death` carries the
 * time, so two failures of one message differ).
 */
export function dedupKey(letter: IncomingDeadLetter): string {
  if (letter.broker === "kafka" && letter.partition !== undefined && letter.offset !== undefined) {
    return `kafka:${letter.source}:${letter.partition}:${letter.offset}`;
  }
  const hash = createHash("sha256").update(letter.body);
  for (const name of Object.keys(letter.headers).sort()) {
    hash.update(`\u0000${name}\u0000`);
    hash.update(letter.headers[name] as Buffer);
  }
  return `${letter.broker}:${letter.source}:${hash.digest("hex")}`;
}

/** The Confluent frame's schema id, when the body is framed. */
export function schemaIdOf(body: Buffer): number | undefined {
  return body.length >= 5 && body[0] === 0 ? body.readUInt32BE(1) : undefined;
}

/** A decoded payload as jsonb text, or null: absent, or holding a NUL character (which jsonb cannot store). */
function payloadJson(payload: unknown): string | null {
  if (payload === undefined) return null;
  const json = JSON.stringify(payload);
  return json === undefined || json.includes("\\u0000") ? null : json;
}

/** The typed AMQP header table as jsonb text (`amqp_headers`), or null: none, or holding a NUL character. */
function amqpHeadersJson(table: Readonly<Record<string, unknown>> | undefined): string | null {
  if (table === undefined) return null;
  const json = JSON.stringify(amqpTableToJson(table));
  return json.includes("\\u0000") ? null : json;
}

const msToDate = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));

const COLUMNS = `dedup_key, source_broker, source, source_partition, source_offset, message_id, record_key, body, headers,
  dialect, reason, error_code, error_text, error_fingerprint, original_broker, destination, routing_key, event_type,
  schema_id, attempts, first_failure, last_failure, model, payload, raw_headers, record_key_bytes, amqp_headers`;
const COLUMN_COUNT = 27;

/** The values of a dead letter's row, in {@link COLUMNS} order. */
function rowValues(letter: IncomingDeadLetter, payload: unknown): unknown[] {
  const model = modelOf(letter.headers);
  const m = model as Partial<DeadLetterModel>;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(letter.headers)) headers[name] = value.toString("base64");
  return [
    dedupKey(letter),
    letter.broker,
    letter.source,
    letter.partition ?? null,
    letter.offset ?? null,
    m.messageId ?? null,
    // PostgreSQL text cannot hold NUL: such a key is browsed by its bytes only (record_key_bytes).
    letter.key === undefined || letter.key.includes("\u0000") ? null : letter.key,
    letter.body,
    JSON.stringify(headers),
    model.dialect,
    m.reason ?? null,
    m.errorCode ?? null,
    m.error ?? null,
    errorFingerprint(m.errorCode, m.error),
    m.broker ?? null,
    m.destination ?? null,
    m.routingKey ?? null,
    m.eventType ?? null,
    schemaIdOf(letter.body) ?? null,
    m.attempts ?? null,
    msToDate(m.firstFailureMs),
    msToDate(m.lastFailureMs),
    JSON.stringify(model),
    payloadJson(payload),
    encodeRawHeaders(letter.rawHeaders ?? Object.entries(letter.headers)),
    letter.rawKey ?? null,
    amqpHeadersJson(letter.amqpHeaders),
  ];
}

/** A dead letter to store, with its payload decoded as JSON when custody could decode it. */
export interface LetterToStore {
  readonly letter: IncomingDeadLetter;
  readonly payload?: unknown;
}

/**
 * Stores dead letters durably, all of them in one INSERT (one commit) when their {@link dedupKey}s differ (one more
 * statement for each repeat of a key), with their payloads decoded as JSON if given, headers byte for byte
 * (`raw_headers`, in order, repeated ones repeated; `headers`, the last value per name), a RabbitMQ one's AMQP
 * header table with its types (`amqp_headers`) and keys' bytes. A dead letter
 * stored before under the same key is recognised: only its `last_seen` and `seen_count` change. Resolves, in the
 * order given, to each one's id and whether it was new. Rejects when PostgreSQL does (some may have been stored:
 * storing them again only counts them as seen again): the caller must then NOT ack the sources.
 */
export async function storeDeadLetters(
  pool: Pool,
  letters: readonly LetterToStore[],
): Promise<Array<{ id: string; inserted: boolean }>> {
  const results: Array<{ id: string; inserted: boolean }> = new Array(letters.length);
  let remaining = letters.map(({ letter, payload }, index) => ({ index, values: rowValues(letter, payload) }));
  while (remaining.length > 0) {
    // ON CONFLICT cannot touch one row twice in a statement: a key's repeats go in the next one.
    const keys = new Set<unknown>();
    const now: typeof remaining = [];
    const later: typeof remaining = [];
    for (const row of remaining) {
      (keys.has(row.values[0]) ? later : now).push(row);
      keys.add(row.values[0]);
    }
    const tuples = now.map(
      (_, r) => `(${Array.from({ length: COLUMN_COUNT }, (_, c) => `$${r * COLUMN_COUNT + c + 1}`).join(", ")})`,
    );
    const result = await pool.query<{ dedup_key: string; id: string; inserted: boolean }>(
      `INSERT INTO dead_letters (${COLUMNS}) VALUES ${tuples.join(", ")}
       ON CONFLICT (dedup_key) DO UPDATE SET last_seen = now(), seen_count = dead_letters.seen_count + 1
       RETURNING dedup_key, id, (xmax = 0) AS inserted`,
      now.flatMap((row) => row.values),
    );
    const byKey = new Map(result.rows.map((row) => [row.dedup_key, row]));
    for (const row of now) {
      const stored = byKey.get(row.values[0] as string);
      if (!stored) throw new Error("INSERT returned no row for a dead letter");
      results[row.index] = { id: String(stored.id), inserted: stored.inserted };
    }
    remaining = later;
  }
  return results;
}

/** Stores one dead letter ({@link storeDeadLetters}). */
export async function storeDeadLetter(
  pool: Pool,
  letter: IncomingDeadLetter,
  payload?: unknown,
): Promise<{ id: string; inserted: boolean }> {
  const [stored] = await storeDeadLetters(pool, [{ letter, payload }]);
  if (!stored) throw new Error("INSERT returned no row");
  return stored;
}
