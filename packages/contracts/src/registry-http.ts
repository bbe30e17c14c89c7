import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { ContractError, describeError } from "./errors.js";

/**
 * How a client proves who it is to the schema registry: HTTP basic auth (Confluent Cloud's API key and secret,
 * Karapace, a proxy) or a bearer token (an OAuth access token, Apicurio behind an identity provider).
 */
export type RegistryAuth =
  | { readonly kind: "basic"; readonly username: string; readonly password: string }
  | { readonly kind: "bearer"; readonly token: string };

/** Where the registry is and how to reach it: what {@link RegistryHttp} and `ConfluentRegistryClient` take. */
export interface RegistryConnectionOptions {
  /**
   * Base URL of the Confluent-compatible API. Credentials in its userinfo (`https://user:pass@host/...`) are taken
   * as basic auth and removed from the URL (never shown); they may not be combined with `auth`.
   */
  url?: string;
  /** Credentials sent with every request; default none. */
  auth?: RegistryAuth | undefined;
  /**
   * PEM CA bundle (the certificates' text, not a path) trusted for an `https:` registry instead of Node's default
   * roots; the server's name is always checked against its certificate.
   */
  ca?: string | undefined;
}

/** The local stack's registry (Apicurio's Confluent-compatible API). */
export const DEFAULT_REGISTRY_URL = "http://127.0.0.1:8081/apis/ccompat/v7";

/** What the registry answered. */
export interface RegistryResponse {
  readonly status: number;
  /** The body, as text. */
  readonly body: string;
}

/** The settings a user changes when the registry refuses its credentials (named in error messages). */
const CREDENTIAL_SETTINGS = {
  basic: "SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD (or SCHEMA_REGISTRY_PASSWORD_FILE)",
  bearer: "SCHEMA_REGISTRY_TOKEN (or SCHEMA_REGISTRY_TOKEN_FILE)",
  none: "SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD, or SCHEMA_REGISTRY_TOKEN (each password or token may be a _FILE)",
} as const;

/** Error codes and messages of Node's TLS layer that mean "the registry's certificate is not trusted". */
const UNTRUSTED_CERTIFICATE =
  /certificate|self[- ]signed|UNABLE_TO_VERIFY|CERT_|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO|unable to get (local )?issuer/i;

/**
 * The one HTTP layer between Kronos and a schema registry: the base URL without credentials, an agent (keep-alive;
 * for `https:`, the CA bundle), the `Authorization` header, and the errors that name the settings to check. The
 * registry library's requests and Kronos' own (subject config, the readiness probe) all go through it.
 */
export class RegistryHttp {
  /** Base URL, no trailing slash, no credentials: safe to show. */
  readonly url: string;
  /** `basic`, `bearer` or `none`: which credentials are sent. */
  readonly authKind: RegistryAuth["kind"] | "none";
  /** The agent every request uses (the registry library's too). */
  readonly agent: HttpAgent;
  readonly #authorization: string | undefined;
  readonly #auth: RegistryAuth | undefined;
  readonly #https: boolean;

  /** @throws ContractError `INVALID_REGISTRY_SETTINGS` when the URL is not http(s) or holds credentials besides `auth`. */
  constructor(options: RegistryConnectionOptions = {}) {
    let parsed: URL;
    try {
      parsed = new URL((options.url ?? DEFAULT_REGISTRY_URL).trim());
    } catch {
      throw new ContractError("INVALID_REGISTRY_SETTINGS", "the schema registry URL is not a valid URL");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new ContractError(
        "INVALID_REGISTRY_SETTINGS",
        `the schema registry URL must be http:// or https://, not ${parsed.protocol}//`,
      );
    }
    let auth = options.auth;
    if (parsed.username !== "" || parsed.password !== "") {
      if (auth !== undefined) {
        throw new ContractError(
          "INVALID_REGISTRY_SETTINGS",
          "the schema registry URL holds credentials and other credentials are set too: keep one of them",
        );
      }
      auth = {
        kind: "basic",
        username: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
      };
      parsed.username = "";
      parsed.password = "";
    }
    this.url = parsed.toString().replace(/\/+$/, "");
    this.#auth = auth;
    this.authKind = auth?.kind ?? "none";
    this.#authorization =
      auth === undefined
        ? undefined
        : auth.kind === "basic"
          ? `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`
          : `Bearer ${auth.token}`;
    this.#https = parsed.protocol === "https:";
    this.agent = this.#https
      ? new HttpsAgent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) })
      : new HttpAgent({ keepAlive: true });
  }

  /** Basic credentials for a library that takes `{ username, password }` (mappersmith's basic-auth middleware). */
  get basicAuth(): { username: string; password: string } | undefined {
    return this.#auth?.kind === "basic" ? { username: this.#auth.username, password: this.#auth.password } : undefined;
  }

  /** The `Authorization` header value, when credentials are set (for a library request's headers). */
  get authorization(): string | undefined {
    return this.#authorization;
  }

  /** The settings to check when the registry answers 401, for the current kind of credentials. */
  get credentialSettings(): string {
    return CREDENTIAL_SETTINGS[this.authKind];
  }

  /**
   * Sends `method <url><path>` (JSON `body` when given) with the credentials and waits at most `timeoutMs`.
   * Resolves with whatever status the registry answered. Throws ContractError `REGISTRY_TLS_FAILED` (certificate
   * not trusted or not for this host) or `REGISTRY_UNAVAILABLE` (unreachable, timeout) when there is no answer.
   */
  async request(method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<RegistryResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    try {
      return await this.#send(method, `${this.url}${path}`, payload, timeoutMs);
    } catch (error) {
      throw this.networkError(error, `${method} ${path}`);
    }
  }

  #send(method: string, target: string, payload: string | undefined, timeoutMs: number): Promise<RegistryResponse> {
    const headers: Record<string, string> = { "content-type": CONTENT_TYPE, accept: ACCEPT };
    if (this.#authorization !== undefined) headers.authorization = this.#authorization;
    if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
    const send = this.#https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(
        target,
        { method, headers, agent: this.agent, timeout: timeoutMs },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      request.on("timeout", () =>
        request.destroy(Object.assign(new Error(`timed out after ${timeoutMs} ms`), { code: "ETIMEDOUT" })),
      );
      request.on("error", reject);
      request.end(payload);
    });
  }

  /**
   * A failure to get any answer as a ContractError: `REGISTRY_TLS_FAILED` for a certificate problem (naming
   * `SCHEMA_REGISTRY_CA_FILE`), else `REGISTRY_UNAVAILABLE`.
   */
  networkError(error: unknown, action: string): ContractError {
    if (error instanceof ContractError) return error;
    const code = (error as { code?: unknown } | null)?.code;
    const reason = `${typeof code === "string" ? `${code}: ` : ""}${describeError(error)}`;
    if (this.#https && UNTRUSTED_CERTIFICATE.test(reason)) return this.tlsError(reason, action, error);
    return new ContractError(
      "REGISTRY_UNAVAILABLE",
      `schema registry at ${this.url} is unreachable (${action}): ${reason}`,
      { cause: error },
    );
  }

  /** The registry's certificate was refused: what to set. */
  tlsError(reason: string, action: string, cause: unknown): ContractError {
    return new ContractError(
      "REGISTRY_TLS_FAILED",
      `the schema registry at ${this.url} presented a certificate this process does not trust (${action}): ${reason}. ` +
        "Set SCHEMA_REGISTRY_CA_FILE to the CA bundle that signed the registry's certificate, and use the host name " +
        "the certificate was issued for in SCHEMA_REGISTRY_URL",
      { cause },
    );
  }

  /** A 401 or 403 as `REGISTRY_UNAUTHORIZED` naming the settings to check; `undefined` for another status. */
  authError(status: number, action: string, cause: unknown): ContractError | undefined {
    if (status === 401) {
      const what =
        this.authKind === "none"
          ? "needs credentials and none are set"
          : `refused the ${this.authKind === "basic" ? "username and password" : "token"}`;
      return new ContractError(
        "REGISTRY_UNAUTHORIZED",
        `the schema registry at ${this.url} ${what} (HTTP 401 on ${action}): check ${this.credentialSettings}`,
        { cause },
      );
    }
    if (status === 403) {
      return new ContractError(
        "REGISTRY_UNAUTHORIZED",
        `the schema registry at ${this.url} accepted the credentials but does not allow them to ${action} (HTTP 403): ` +
          `grant that right to the registry user of ${this.credentialSettings}`,
        { cause },
      );
    }
    return undefined;
  }
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
const ACCEPT = "application/vnd.schemaregistry.v1+json, application/json";
