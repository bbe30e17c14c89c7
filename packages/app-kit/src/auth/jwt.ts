import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { secretSetting } from "@kronos/contracts";
import { errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import type { Env } from "../config.js";
import { HttpError } from "../http-error.js";
import { JWKS_ALGORITHMS, type JwksConfig, remoteKeySet } from "./jwks.js";
import { jwtIdentity, type Principal, unauthenticated } from "./principal.js";

/** Seconds of clock skew allowed when checking `exp`, `nbf` and `iat`. */
export const CLOCK_TOLERANCE_SECONDS = 5;

/** Shortest `<PREFIX>_JWT_SECRET` accepted, in bytes: HS256 keys must have at least the hash's 256 bits. */
export const MIN_SECRET_BYTES = 32;

/** The JWT algorithms an app can verify. */
export type JwtAlgorithm = "HS256" | "RS256" | "ES256" | "EdDSA";

/** The code of the 503 answered when the identity provider's key set cannot be fetched (not the client's fault). */
export const IDENTITY_PROVIDER_UNAVAILABLE = "IDENTITY_PROVIDER_UNAVAILABLE";

/** How JWTs are verified; built by {@link readJwtConfig}. */
export interface JwtConfig {
  /** The HS256 secret (`<PREFIX>_JWT_SECRET` or `_FILE`), when set. */
  readonly secret: Uint8Array | undefined;
  /** The public key (`<PREFIX>_JWT_PUBLIC_KEY` or `_FILE`): RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA). */
  readonly publicKey: KeyObject | undefined;
  /** The one algorithm {@link JwtConfig.publicKey} verifies. */
  readonly publicKeyAlgorithm: Exclude<JwtAlgorithm, "HS256"> | undefined;
  /** The identity provider's key set (`<PREFIX>_JWT_JWKS_URL` and its settings), when set. */
  readonly jwks: JwksConfig | undefined;
  /** Required `iss` (`<PREFIX>_JWT_ISSUER`), when set. */
  readonly issuer: string | undefined;
  /** Required `aud` (`<PREFIX>_JWT_AUDIENCE`), when set. */
  readonly audience: string | undefined;
  /**
   * The algorithms accepted: HS256 with a secret, the public key's algorithm, RS256/ES256/EdDSA with a JWKS. Never
   * `none`.
   */
  readonly algorithms: readonly JwtAlgorithm[];
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}

/** A secret setting (`name` or `name_FILE`), its problem pushed onto `problems`. */
function secretOf(env: Env, name: string, problems: string[]): string | undefined {
  const { value, problem } = secretSetting(env, name);
  if (problem !== undefined) problems.push(problem);
  return value;
}

function integerOf(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    problems.push(`${name}="${raw}" is not an integer from ${min} to ${max}`);
    return fallback;
  }
  return value;
}

/** `<prefix>_JWT_JWKS_*`, or `undefined` when `<prefix>_JWT_JWKS_URL` is unset. */
function readJwks(env: Env, problems: string[], prefix: string): JwksConfig | undefined {
  const URL_NAME = `${prefix}_JWT_JWKS_URL`;
  const CA_NAME = `${prefix}_JWT_JWKS_CA_FILE`;
  const text = nonEmpty(env, URL_NAME);
  const caFile = nonEmpty(env, CA_NAME);
  if (text === undefined) {
    if (caFile !== undefined) problems.push(`${CA_NAME} is set but ${URL_NAME} is not`);
    return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    problems.push(`${URL_NAME}="${text}" is not an http:// or https:// URL`);
    return undefined;
  }
  let ca: string | undefined;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, "utf8");
    } catch (error) {
      problems.push(
        `${CA_NAME}="${caFile}" is not a readable file (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
    if (url.protocol !== "https:") problems.push(`${CA_NAME} is set but ${URL_NAME} is not https://`);
  }
  return {
    url,
    ca,
    timeoutMs: integerOf(env, `${prefix}_JWT_JWKS_TIMEOUT_MS`, 5_000, 100, 60_000, problems),
    cooldownMs: integerOf(env, `${prefix}_JWT_JWKS_COOLDOWN_MS`, 30_000, 0, 3_600_000, problems),
    maxAgeMs: integerOf(env, `${prefix}_JWT_JWKS_MAX_AGE_MS`, 600_000, 1_000, 86_400_000, problems),
  };
}

/**
 * Reads `<prefix>_JWT_SECRET` (HS256, at least 32 bytes), `<prefix>_JWT_PUBLIC_KEY` (a PEM string, `\n` escapes
 * allowed, or the path of a PEM file: an RSA key of at least 2048 bits for RS256, an EC P-256 key for ES256 or an
 * Ed25519 key for EdDSA, or a certificate holding one), each also as `<name>_FILE`; `<prefix>_JWT_JWKS_URL` (an
 * identity provider's key set, with `<prefix>_JWT_JWKS_CA_FILE`, `_TIMEOUT_MS`, `_COOLDOWN_MS`, `_MAX_AGE_MS`; not
 * together with a public key), `<prefix>_JWT_ISSUER` and `<prefix>_JWT_AUDIENCE` (`prefix`: the app's, e.g.
 * `GATEWAY`). Returns `undefined` when no key is set (JWTs are then refused). Pushes one sentence naming the
 * variable onto `problems` per invalid value; never quotes a secret.
 */
export function readJwtConfig(env: Env, problems: string[], prefix: string): JwtConfig | undefined {
  const SECRET = `${prefix}_JWT_SECRET`;
  const PUBLIC_KEY = `${prefix}_JWT_PUBLIC_KEY`;
  const secretText = secretOf(env, SECRET, problems);
  const publicKeyText = secretOf(env, PUBLIC_KEY, problems);
  const jwks = readJwks(env, problems, prefix);
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

  const verifying = publicKeyText === undefined ? undefined : readPublicKey(publicKeyText, PUBLIC_KEY, problems);
  if (verifying !== undefined && jwks !== undefined) {
    problems.push(`${PUBLIC_KEY} and ${prefix}_JWT_JWKS_URL are both set: set one of them`);
  }

  const anyKey = secretText !== undefined || publicKeyText !== undefined || jwks !== undefined;
  if ((issuer !== undefined || audience !== undefined) && !anyKey) {
    problems.push(
      `${prefix}_JWT_ISSUER/${prefix}_JWT_AUDIENCE are set but none of ${SECRET}, ${PUBLIC_KEY}, ${prefix}_JWT_JWKS_URL is`,
    );
  }
  if (secret === undefined && verifying === undefined && jwks === undefined) return undefined;
  const algorithms: JwtAlgorithm[] = [];
  if (secret !== undefined) algorithms.push("HS256");
  if (verifying !== undefined) algorithms.push(verifying.algorithm);
  if (jwks !== undefined) for (const alg of JWKS_ALGORITHMS) if (!algorithms.includes(alg)) algorithms.push(alg);
  return {
    secret,
    publicKey: verifying?.key,
    publicKeyAlgorithm: verifying?.algorithm,
    jwks,
    issuer,
    audience,
    algorithms,
  };
}

function readPublicKey(
  value: string,
  variable: string,
  problems: string[],
): { key: KeyObject; algorithm: Exclude<JwtAlgorithm, "HS256"> } | undefined {
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
  const type = key.asymmetricKeyType;
  if (type === "rsa" && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048) return { key, algorithm: "RS256" };
  if (type === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return { key, algorithm: "ES256" };
  if (type === "ed25519") return { key, algorithm: "EdDSA" };
  problems.push(
    `${variable}=${shown} is not an RSA key of at least 2048 bits (RS256), an EC P-256 key (ES256) or an Ed25519 key (EdDSA)`,
  );
  return undefined;
}

/** Turns jose's error into the sentence a 401 answer carries. */
function reasonOf(error: unknown, config: JwtConfig): string {
  if (error instanceof errors.JWTExpired) {
    const exp = typeof error.payload.exp === "number" ? ` at ${new Date(error.payload.exp * 1000).toISOString()}` : "";
    return `Token expired${exp}`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "Token signature is invalid";
  if (error instanceof errors.JWKSNoMatchingKey) {
    return "Token key (kid) is not in the identity provider's key set, even after fetching it again";
  }
  if (error instanceof errors.JWKSMultipleMatchingKeys) return "Token has no kid and the key set holds several keys";
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

/** The key set could not be fetched: the identity provider's failure, not the token's. */
class KeySetUnavailable extends Error {}

/** Token problems the key set reports (unknown `kid`, key type not for the `alg`): a 401, anything else a 503. */
function isTokenProblem(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported ||
    error instanceof errors.JWSInvalid
  );
}

/** The JWKS resolver, its fetch failures marked {@link KeySetUnavailable}. */
function keySetOf(jwks: JwksConfig): JWTVerifyGetKey {
  const remote = remoteKeySet(jwks);
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (isTokenProblem(error)) throw error;
      throw new KeySetUnavailable(describe(error), { cause: error });
    }
  };
}

function describe(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(error)}${cause === undefined ? "" : ` (${cause})`}`;
}

/**
 * Returns a function that verifies a compact JWT and gives its principal (`sub`, and the rights of its `acl` claim,
 * empty when absent). Only the configured algorithms are accepted, each with its own key: HS256 with the secret,
 * the public key's one algorithm with it, RS256/ES256/EdDSA with the JWKS key the token's `kid` names (jose refuses
 * a key whose type does not fit the `alg`). So `alg: none` and an HS256 token signed with a public key are refused.
 * `exp` is required; `exp`/`nbf` are checked with {@link CLOCK_TOLERANCE_SECONDS} of tolerance; `iss`/`aud` when
 * configured. The function throws a 401 `UNAUTHENTICATED` `HttpError` saying what was wrong, or a 503
 * {@link IDENTITY_PROVIDER_UNAVAILABLE} one when the JWKS cannot be fetched (down, timeout, not a key set).
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
  const keySet = config.jwks === undefined ? undefined : keySetOf(config.jwks);
  // The key follows the token's algorithm: an HS256 header never reaches a public key, and vice versa.
  const keyFor: JWTVerifyGetKey = (header, token) => {
    if (header.alg === "HS256" && config.secret !== undefined) return config.secret;
    if (header.alg !== undefined && header.alg === config.publicKeyAlgorithm && config.publicKey)
      return config.publicKey;
    if (keySet !== undefined && (JWKS_ALGORITHMS as readonly string[]).includes(header.alg ?? "")) {
      return keySet(header, token);
    }
    throw new errors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
  };
  return async (token) => {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keyFor, options));
    } catch (error) {
      if (error instanceof KeySetUnavailable) {
        throw new HttpError(
          503,
          IDENTITY_PROVIDER_UNAVAILABLE,
          "The identity provider's keys cannot be fetched right now, so the token cannot be checked; try again later",
          { cause: error },
        );
      }
      throw unauthenticated(reasonOf(error, config));
    }
    return principalOf(payload);
  };
}
