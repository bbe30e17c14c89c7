import { HttpError } from "../http-error.js";

/** How a principal proved who it is. */
export type PrincipalKind = "jwt" | "api-key";

/**
 * Who is calling: set on `request.principal` by the auth plugin for every authenticated request. `acl` holds the
 * rights as given (`produce:<glob>`, `consume:<glob>`, `admin`); see `acl.ts` for what they allow.
 */
export interface Principal {
  /** The JWT's `sub`, or the API key's principal id: a name to show (logs, `producer` headers, audit). */
  readonly id: string;
  readonly kind: PrincipalKind;
  /**
   * Who the principal is, across sources: `key:<id>` for an API key, `jwt:<iss>:<sub>` for a token (`iss`
   * URI-encoded, empty when the token has none). Two principals from different sources never share it, so a JWT
   * whose `sub` equals an API key's id is someone else. Scope everything a principal owns by it (deliveries,
   * idempotency keys, rate limits), never by `id`.
   */
  readonly identity: string;
  readonly acl: readonly string[];
}

/** The {@link Principal.identity} of an API-key principal. */
export function apiKeyIdentity(id: string): string {
  return `key:${id}`;
}

/** The {@link Principal.identity} of a JWT's `iss` (undefined: none) and `sub`. */
export function jwtIdentity(issuer: string | undefined, subject: string): string {
  // The issuer is encoded (no ":" left in it), so the first ":" after it ends it whatever the subject holds.
  return `jwt:${encodeURIComponent(issuer ?? "")}:${subject}`;
}

/** The code of every 401 answer. */
export const UNAUTHENTICATED = "UNAUTHENTICATED";

/** The code of every 403 answer. */
export const FORBIDDEN = "FORBIDDEN";

/** A 401 `UNAUTHENTICATED` error whose message says what was wrong with the credentials. */
export function unauthenticated(message: string): HttpError {
  return new HttpError(401, UNAUTHENTICATED, message);
}
