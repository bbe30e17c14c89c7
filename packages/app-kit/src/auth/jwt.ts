import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { errors, type JWTPayload, jwtVerify } from "jose";
import type { Env } from "../config.js";
import { jwtIdentity, type Principal, unauthenticated } from "./principal.js";

/** Seconds of clock skew allowed when checking `exp`, `nbf` and `iat`. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** Shortest `<PREFIX>_JWT_SECRET` accepted, in bytes: HS256 keys must have at least the hash's 256 bits. */
export const MIN_SECRET_BYTES = 32;

/** The JWT algorithms an app can verify. */
export type JwtAlgorithm = "HS256" | "RS256";

/** How JWTs are verified; built by {@link readJwtConfig}. */
export interface JwtConfig {
  /** The HS256 secret (`<PREFIX>_JWT_SECRET`), when set. */
  readonly secret: Uint8Array | undefined;
  /** The RS256 public key (`<PREFIX>_JWT_PUBLIC_KEY`), when set. */
  readonly publicKey: KeyObject | undefined;
  /** Required `iss` (`<PREFIX>_JWT_ISSUER`), when set. */
  readonly issuer: string | undefined;
  /** Required `aud` (`<PREFIX>_JWT_AUDIENCE`), when set. */
  readonly audience: string | undefined;
  /** The algorithms accepted: HS256 when a secret is set, RS256 when a public key is set. Never `none`. */
  readonly algorithms: readonly JwtAlgorithm[];
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/**
 * Reads `<prefix>_JWT_SECRET` (HS256, at least 32 bytes), `<prefix>_JWT_PUBLIC_KEY` (RS256: a PEM string, `\n`
 * escapes allowed, or the path of a PEM file; an RSA public key or certificate of at least 2048 bits),
 * `<prefix>_JWT_ISSUER` and `<prefix>_JWT_AUDIENCE` (`prefix`: the app's, e.g. `GATEWAY`). Returns `undefined` when
 * neither key is set (JWTs are then refused). Pushes one sentence naming the variable onto `problems` per invalid
 * value; never quotes a secret.
 */
export function readJwtConfig(env: Env, problems: string[], prefix: string): JwtConfig | undefined {
  const SECRET = `${prefix}_JWT_SECRET`;
  const PUBLIC_KEY = `${prefix}_JWT_PUBLIC_KEY`;
  const secretText = nonEmpty(env, SECRET);
  const publicKeyText = nonEmpty(env, PUBLIC_KEY);
  const issuer = nonEmpty(env, `${prefix}_JWT_ISSUER`);
  const audience = nonEmpty(env, `${prefix}_JWT_AUDIENCE`);

  let secret: Uint8Array | undefined;
  if (secretText !== undefined) {
    secret = new TextEncoder().encode(secretText);
    if (secret.byteLength < MIN_SECRET_BYTES) {
      problems.push(
        `${SECRET} is too short (${secret.byteLength} bytes): HS256 needs at least ${MIN_SECRET_BYTES} random bytes`,
      );
    }
  }

  let publicKey: KeyObject | undefined;
  if (publicKeyText !== undefined) publicKey = readPublicKey(publicKeyText, PUBLIC_KEY, problems);

  if ((issuer !== undefined || audience !== undefined) && secret === undefined && publicKeyText === undefined) {
    problems.push(`${prefix}_JWT_ISSUER/${prefix}_JWT_AUDIENCE are set but neither ${SECRET} nor ${PUBLIC_KEY} is`);
  }
  if (secret === undefined && publicKey === undefined) return undefined;
  const algorithms: JwtAlgorithm[] = [];
  if (secret !== undefined) algorithms.push("HS256");
  if (publicKey !== undefined) algorithms.push("RS256");
  return { secret, publicKey, issuer, audience, algorithms };
}

function readPublicKey(value: string, variable: string, problems: string[]): KeyObject | undefined {
  const isPem = value.includes("-----BEGIN");
  const shown = isPem ? "(PEM)" : `"${value}"`;
  let pem: string;
  if (isPem) {
    pem = value.replaceAll("\\n", "\n");
  } else {
    try {
      pem = readFileSync(value, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      problems.push(`${variable}=${shown} is not a PEM key and cannot be read as a file (${code})`);
      return undefined;
    }
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    problems.push(`${variable}=${shown} does not hold a PEM public key or certificate`);
    return undefined;
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (key.asymmetricKeyType !== "rsa" || bits < 2048) {
    problems.push(`${variable}=${shown} is not an RSA key of at least 2048 bits (RS256)`);
    return undefined;
  }
  return key;
}

/** Turns jose's error into the sentence a 401 answer carries. */
function reasonOf(error: unknown, config: JwtConfig): string {
  if (error instanceof errors.JWTExpired) {
    const exp = typeof error.payload.exp === "number" ? ` at ${new Date(error.payload.exp * 1000).toISOString()}` : "";
    return `Token expired${exp}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "Token signature is invalid";
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return `Token algorithm is not accepted (accepted: ${config.algorithms.join(", ")})`;
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "iss") return `Token issuer is not "${config.issuer}"`;
    if (error.claim === "aud") return `Token audience does not include "${config.audience}"`;
    if (error.reason === "missing") return `Token has no "${error.claim}" claim`;
    return `Token claim "${error.claim}" is invalid (${error.reason})`;
  }
  return "Token is malformed";
}

/** Checks the `sub` and `acl` claims and builds the principal (throws 401 when they are not as required). */
function principalOf(payload: JWTPayload): Principal {
  const { sub, acl } = payload;
  if (typeof sub !== "string" || sub === "") throw unauthenticated('Token has no "sub" claim');
  if (acl !== undefined && !(Array.isArray(acl) && acl.every((right) => typeof right === "string"))) {
    throw unauthenticated('Token claim "acl" must be an array of strings');
  }
  const issuer = typeof payload.iss === "string" ? payload.iss : undefined;
  return { id: sub, kind: "jwt", identity: jwtIdentity(issuer, sub), acl: acl ?? [] };
}

/**
 * Returns a function that verifies a compact JWT and gives its principal (`sub`, and the rights of its `acl` claim,
 * empty when absent). Only the configured algorithms are accepted, each with its own key (HS256 with the secret,
 * RS256 with the public key), so `alg: none` and an HS256 token signed with the RSA public key are refused. `exp`
 * is required; `exp`/`nbf` are checked with {@link CLOCK_TOLERANCE_SECONDS} of tolerance; `iss`/`aud` when
 * configured. The function throws a 401 `UNAUTHENTICATED` `HttpError` saying what was wrong.
 */
export function createJwtVerifier(config: JwtConfig | undefined): (token: string) => Promise<Principal> {
  if (config === undefined) {
    return async () => {
      throw unauthenticated("Bearer tokens are not accepted: no JWT key is configured on this service");
    };
  }
  const options = {
    algorithms: [...config.algorithms],
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ["exp", "sub"],
    ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
    ...(config.audience === undefined ? {} : { audience: config.audience }),
  };
  // The key follows the algorithm the options allow: an HS256 header never reaches the RSA key, and vice versa.
  const keyFor = (header: { alg?: string }) => {
    const key = header.alg === "HS256" ? config.secret : header.alg === "RS256" ? config.publicKey : undefined;
    if (key === undefined) throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
    return key;
  };
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keyFor, options));
    } catch (error) {
      throw unauthenticated(reasonOf(error, config));
    }
    return principalOf(payload);
  };
}
