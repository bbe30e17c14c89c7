import type { Violation } from "@kronos/contracts";

/** The most violations a 422 `VALIDATION_FAILED` answer lists; the rest are counted in `more`. */
export const MAX_LISTED_VIOLATIONS = 100;
/** The longest `path` or `message` of a listed violation, in characters (longer ones end with `…`). */
export const MAX_VIOLATION_TEXT = 300;

/** The body of a 422 `VALIDATION_FAILED` answer. */
export interface ValidationFailedBody<V extends Violation> {
  readonly code: "VALIDATION_FAILED";
  readonly message: string;
  /** The first {@link MAX_LISTED_VIOLATIONS} violations, in order. */
  readonly errors: V[];
  /** How many violations were left out of `errors`; absent when none were. */
  readonly more?: number;
}

function cut(text: string): string {
  return text.length > MAX_VIOLATION_TEXT ? `${text.slice(0, MAX_VIOLATION_TEXT - 1)}…` : text;
}

/**
 * The 422 `VALIDATION_FAILED` body of `violations` (publish, batch, request): `message`, the first
 * {@link MAX_LISTED_VIOLATIONS} violations with path and message cut at {@link MAX_VIOLATION_TEXT} characters,
 * and `more`, the number left out. Bounded, so an invalid request cannot make the gateway answer many times its
 * own size (a 0.93 MB batch got a 12.8 MB answer when every violation was listed).
 */
export function validationFailed<V extends Violation>(
  message: string,
  violations: readonly V[],
): ValidationFailedBody<V> {
  const listed = violations
    .slice(0, MAX_LISTED_VIOLATIONS)
    .map((violation) => ({ ...violation, path: cut(violation.path), message: cut(violation.message) }));
  const more = violations.length - listed.length;
  return { code: "VALIDATION_FAILED", message, errors: listed, ...(more > 0 ? { more } : {}) };
}
