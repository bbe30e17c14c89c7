import { HttpError } from "../http-error.js";

/** How a principal proved who it is. */
export type PrincipalKind = "jwt" | "api-key";

/**
 * Who is calling: set on `request.principal` by the auth plugin for every authenticated request. `acl` holds the
 * rights as given (`produce:<glob>`, `consume:<glob>`, `admin`); see `acl.ts` for what they allow.
 */
export interface Principal {
  /** The JWT's `sub`, or the API key's principal id. */
  readonly id: string;
  readonly kind: PrincipalKind;
  readonly acl: readonly string[];
}

/** The code of every 401 answer. */
export const UNAUTHENTICATED = "UNAUTHENTICATED";

/** The code of every 403 answer. */
export const FORBIDDEN = "FORBIDDEN";

/** A 401 `UNAUTHENTICATED` error whose message says what was wrong with the credentials. */
export function unauthenticated(message: string): HttpError {
  return new HttpError(401, UNAUTHENTICATED, message);
}
