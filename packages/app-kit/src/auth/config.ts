import type { Env } from "../config.js";
import { type JwtConfig, readJwtConfig } from "./jwt.js";
import { principalsFilePath } from "./principals.js";

/** How an app authenticates: its JWT verification and its API-key principals file. */
export interface AuthConfig {
  /** JWT verification (`<PREFIX>_JWT_*`); `undefined` when neither a secret nor a public key is set. */
  readonly jwt: JwtConfig | undefined;
  /** Absolute path of the API-key principals file (`<PREFIX>_PRINCIPALS_FILE`, default the shared one). */
  readonly principalsFile: string;
}

/**
 * Reads an app's authentication settings: `<prefix>_JWT_SECRET`, `<prefix>_JWT_PUBLIC_KEY`, `<prefix>_JWT_ISSUER`,
 * `<prefix>_JWT_AUDIENCE` (see {@link readJwtConfig}) and `<prefix>_PRINCIPALS_FILE` (see `principalsFilePath`).
 * Pushes one sentence per invalid value onto `problems`.
 */
export function readAuthConfig(env: Env, problems: string[], prefix: string): AuthConfig {
  return { jwt: readJwtConfig(env, problems, prefix), principalsFile: principalsFilePath(env, prefix) };
}
