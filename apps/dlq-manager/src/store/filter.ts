import { DEAD_LETTER_REASONS } from "@kronos/transport";
import { Type } from "typebox";
import { dlqError } from "../errors.js";

/** The lifecycle states of a dead letter. */
export const STATES = ["new", "replaying", "replayed", "discarded"] as const;
export type DeadLetterState = (typeof STATES)[number];

/** The filters of `GET /dead-letters`, `GET /dead-letters/groups` and a replay's `filter` (all optional, ANDed). */
export const DeadLetterFilter = Type.Object(
  {
    source: Type.Optional(Type.String({ minLength: 1, description: "Dead-letter topic or queue it was read from." })),
    eventType: Type.Optional(Type.String({ minLength: 1, description: "Full Avro name of the event." })),
    reason: Type.Optional(Type.Union(DEAD_LETTER_REASONS.map((reason) => Type.Literal(reason)))),
    errorCode: Type.Optional(Type.String({ minLength: 1 })),
    error: Type.Optional(Type.String({ minLength: 1, description: "Text the error message contains (any case)." })),
    fingerprint: Type.Optional(Type.String({ pattern: "^[0-9a-f]{16}$" })),
    destination: Type.Optional(Type.String()),
    from: Type.Optional(Type.String({ description: "First seen at or after (ISO 8601)." })),
    to: Type.Optional(Type.String({ description: "First seen before (ISO 8601)." })),
    state: Type.Optional(Type.Union(STATES.map((state) => Type.Literal(state)))),
    payloadPath: Type.Optional(
      Type.String({
        pattern: "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$",
        description: "A field of the decoded payload, dotted (customer.id); with payloadValue.",
      }),
    ),
    payloadValue: Type.Optional(Type.String({ description: "The field's value, as text." })),
  },
  { additionalProperties: false },
);

/** A filter as given. */
export interface Filter {
  source?: string;
  eventType?: string;
  reason?: string;
  errorCode?: string;
  error?: string;
  fingerprint?: string;
  destination?: string;
  from?: string;
  to?: string;
  state?: string;
  payloadPath?: string;
  payloadValue?: string;
}

function time(name: string, value: string): Date {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw dlqError("INVALID_FILTER", `${name} "${value}" is not an ISO 8601 time`);
  return new Date(ms);
}

/**
 * The SQL condition of `filter` over `dead_letters`, its parameters numbered from `$<offset + 1>`. Throws
 * `INVALID_FILTER` for a malformed time or `from` after `to`.
 */
export function filterSql(filter: Filter, offset = 0): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    conditions.push(sql.replace("?", `$${offset + params.length}`));
  };
  if (filter.source !== undefined) add("source = ?", filter.source);
  if (filter.eventType !== undefined) add("event_type = ?", filter.eventType);
  if (filter.reason !== undefined) add("reason = ?", filter.reason);
  if (filter.errorCode !== undefined) add("error_code = ?", filter.errorCode);
  if (filter.error !== undefined) add("error_text ILIKE ?", `%${filter.error.replace(/[\\%_]/g, "\\$&")}%`);
  if (filter.fingerprint !== undefined) add("error_fingerprint = ?", filter.fingerprint);
  if (filter.destination !== undefined) add("destination = ?", filter.destination);
  if (filter.state !== undefined) add("state = ?", filter.state);
  if ((filter.payloadPath === undefined) !== (filter.payloadValue === undefined)) {
    throw dlqError("INVALID_FILTER", "payloadPath and payloadValue go together");
  }
  if (filter.payloadPath !== undefined) {
    params.push(filter.payloadPath.split("."));
    add(`payload #>> $${offset + params.length}::text[] = ?`, filter.payloadValue);
  }
  const from = filter.from === undefined ? undefined : time("from", filter.from);
  const to = filter.to === undefined ? undefined : time("to", filter.to);
  if (from && to && from > to) throw dlqError("INVALID_FILTER", `from (${filter.from}) is after to (${filter.to})`);
  if (from) add("first_seen >= ?", from);
  if (to) add("first_seen < ?", to);
  return { where: conditions.length === 0 ? "TRUE" : conditions.join(" AND "), params };
}

/** A cursor of `GET /dead-letters`: the last id of the page, opaque to clients. */
export function encodeCursor(id: string): string {
  return Buffer.from(`dl:${id}`).toString("base64url");
}

/** The id a cursor stands for; throws `INVALID_CURSOR`. */
export function decodeCursor(cursor: string): string {
  const match = /^dl:([1-9]\d{0,17})$/.exec(Buffer.from(cursor, "base64url").toString("utf8"));
  if (!match?.[1]) throw dlqError("INVALID_CURSOR", `cursor "${cursor}" is not one this API handed out`);
  return match[1];
}
