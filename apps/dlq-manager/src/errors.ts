import { HttpError } from "@kronos/app-kit";

/**
 * Every error the dlq-manager's API answers with on purpose: its stable code, HTTP status and meaning. Clients
 * branch on the code; the body is `{ code, message }`. Bad input is always a 4xx (schema violations of a request
 * are `BAD_REQUEST`, app-kit's code), never a 5xx.
 */
export const DLQ_ERRORS = {
  BAD_REQUEST: { status: 400, meaning: "the request does not match the route's schema" },
  INVALID_FILTER: { status: 400, meaning: "a filter value is malformed (a time that is not ISO 8601, from after to)" },
  INVALID_CURSOR: { status: 400, meaning: "the cursor is not one this API handed out" },
  INVALID_ID: { status: 400, meaning: "an id is not a positive integer" },
  INVALID_RATE: { status: 400, meaning: "ratePerSecond is outside 1..DLQ_REPLAY_MAX_RATE" },
  EMPTY_SELECTION: { status: 400, meaning: "a replay selects no dead letter (or both ids and a filter)" },
  REPAIR_INVALID: { status: 400, meaning: "a repaired payload does not match the event's current schema" },
  DEAD_LETTER_NOT_FOUND: { status: 404, meaning: "no dead letter has this id (for a replay: one of the ids)" },
  REPLAY_NOT_FOUND: { status: 404, meaning: "no replay job has this id" },
  NO_CURRENT_SCHEMA: { status: 409, meaning: "a dead letter to repair has no event type with a registered schema" },
  INVALID_STATE: { status: 409, meaning: "the dead letter or job is in a state that does not allow this" },
} as const;

/** A code of {@link DLQ_ERRORS}. */
export type DlqErrorCode = keyof typeof DLQ_ERRORS;

/** The {@link HttpError} of `code`, its status from the table. */
export function dlqError(code: DlqErrorCode, message: string): HttpError {
  return new HttpError(DLQ_ERRORS[code].status, code, message);
}

/** Parses a positive integer id (ids are bigserial, handed out as decimal strings); throws `INVALID_ID`. */
export function parseId(raw: string, what = "id"): string {
  if (!/^[1-9]\d{0,17}$/.test(raw)) throw dlqError("INVALID_ID", `${what} "${raw}" is not a positive integer`);
  return raw;
}
