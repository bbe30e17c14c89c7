import { Agent, request } from "node:https";
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey } from "jose";

/** How a JWKS (an identity provider's public keys) is fetched; read by `readJwtConfig` from `<PREFIX>_JWT_JWKS_*`. */
export interface JwksConfig {
  /** `<PREFIX>_JWT_JWKS_URL`: the identity provider's `jwks_uri` (http or https). */
  readonly url: URL;
  /** `<PREFIX>_JWT_JWKS_CA_FILE`'s contents: the CA bundle trusted for an https URL instead of Node's roots. */
  readonly ca: string | undefined;
  /** `<PREFIX>_JWT_JWKS_TIMEOUT_MS` (default 5000): the longest a fetch of the set may take. */
  readonly timeoutMs: number;
  /**
   * `<PREFIX>_JWT_JWKS_COOLDOWN_MS` (default 30000): after a fetch, a token whose `kid` is unknown does not fetch
   * again before this long (so a flood of made-up `kid`s costs the provider one request per cooldown).
   */
  readonly cooldownMs: number;
  /** `<PREFIX>_JWT_JWKS_MAX_AGE_MS` (default 600000): keys are fetched again when this old, at the next token. */
  readonly maxAgeMs: number;
}

/** The algorithms a key from a JWKS may verify: RSA, EC P-256 and Ed25519 (never HS256 or `none`). */
export const JWKS_ALGORITHMS = ["RS256", "ES256", "EdDSA"] as const;

/**
 * A jose key resolver over the JWKS (jose's `createRemoteJWKSet`): keys fetched on first use and cached, refetched
 * when older than `maxAgeMs` and, at most once per `cooldownMs`, when a token names an unknown `kid` (a rotation).
 * jose picks the key by the token's `kid` and `alg` and refuses a key whose type does not fit the `alg`. With a
 * CA, the set is fetched over node:https with that CA (host name checked).
 */
export function remoteKeySet(config: JwksConfig): JWTVerifyGetKey {
  const options = {
    timeoutDuration: config.timeoutMs,
    cooldownDuration: config.cooldownMs,
    cacheMaxAge: config.maxAgeMs,
    ...(config.ca === undefined ? {} : { [customFetch]: fetchWithCa(config.ca) }),
  };
  return createRemoteJWKSet(config.url, options);
}

/** A `fetch` for jose over node:https trusting `ca`; honours the abort signal (jose's timeout). */
function fetchWithCa(ca: string) {
  const agent = new Agent({ ca, keepAlive: true });
  return (url: string, init: { headers: Headers; signal: AbortSignal }): Promise<Response> =>
    new Promise((resolve, reject) => {
      const req = request(url, { agent, headers: Object.fromEntries(init.headers), signal: init.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500 })));
        res.on("error", reject);
      });
      req.on("error", (error) => {
        // jose turns a TimeoutError into JWKSTimeout; node reports the aborted request as an AbortError.
        if (init.signal.aborted) reject(init.signal.reason ?? error);
        else reject(error);
      });
      req.end();
    });
}
