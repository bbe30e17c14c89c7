import confluent from "@kafkajs/confluent-schema-registry";
import type { Type } from "avsc";
import { kronosAvroOptions } from "./avro.js";
import { ContractError, describeError } from "./errors.js";
import { DEFAULT_REGISTRY_URL, type RegistryConnectionOptions, RegistryHttp } from "./registry-http.js";

export { DEFAULT_REGISTRY_URL };

const { SchemaRegistry, SchemaType } = confluent;

/** The registry's compatibility levels. */
export type CompatibilityLevel =
  | "BACKWARD"
  | "BACKWARD_TRANSITIVE"
  | "FORWARD"
  | "FORWARD_TRANSITIVE"
  | "FULL"
  | "FULL_TRANSITIVE"
  | "NONE";

/**
 * What {@link RegistrySerde} needs from a schema registry. The default is {@link ConfluentRegistryClient}; tests
 * and tools may pass another (e.g. `InMemorySchemaRegistry` from `@kronos/contracts/testing`).
 * Implementations throw `ContractError` (`REGISTRY_UNAVAILABLE`, `SCHEMA_INCOMPATIBLE`, ...).
 */
export interface SchemaRegistryClient {
  /** The id of exactly `schema` (JSON text) under `subject`, or `undefined` when it is not registered there. */
  lookupId(subject: string, schema: string): Promise<number | undefined>;
  /** Registers `schema` under `subject` (idempotent), first setting the subject's compatibility when given. */
  register(subject: string, schema: string, compatibility?: CompatibilityLevel): Promise<number>;
  /** The writer type of a schema id (built with the Kronos avsc options), or `undefined` when the id is unknown. */
  getWriterType(id: number): Promise<Type | undefined>;
  /** The id of the latest version under `subject`, or `undefined` when the subject does not exist. */
  getLatestSchemaId(subject: string): Promise<number | undefined>;
}

/**
 * Options of {@link ConfluentRegistryClient}: where the registry is, its credentials and CA (see
 * `RegistryConnectionOptions`; `url` defaults to {@link DEFAULT_REGISTRY_URL}), and retries.
 */
export interface ConfluentRegistryClientOptions extends RegistryConnectionOptions {
  /** Retries of failed requests (network errors, 5xx) by the library, with backoff; default 3. */
  retries?: number;
}

/**
 * {@link SchemaRegistryClient} over `@kafkajs/confluent-schema-registry` (lookups, registration, schemas by id),
 * plus plain HTTP for the subject compatibility config the library does not expose.
 */
export class ConfluentRegistryClient implements SchemaRegistryClient {
  /** Base URL, no trailing slash and no credentials. */
  readonly url: string;
  readonly #registry: InstanceType<typeof SchemaRegistry>;
  /** Credentials, CA and agent of every request, the library's and ours. */
  readonly #connection: RegistryHttp;

  /** @throws ContractError `INVALID_REGISTRY_SETTINGS` (see `RegistryHttp`). */
  constructor(options: ConfluentRegistryClientOptions = {}) {
    this.#connection = new RegistryHttp(options);
    this.url = this.#connection.url;
    const authorization = this.#connection.authorization;
    this.#registry = new SchemaRegistry(
      {
        host: this.url,
        clientId: "kronos-contracts",
        retry: { retries: options.retries ?? 3 },
        // The library hands the agent to Node's http(s).request (mappersmith's HTTP gateway): our CA and keep-alive.
        agent: this.#connection.agent,
        // One header for basic and bearer alike, made by RegistryHttp (the library's `auth` knows basic only).
        ...(authorization === undefined ? {} : { middlewares: [authorizationMiddleware(authorization)] as never }),
      },
      // The library builds writer types itself: give it the same logical types and union wrapping as ours.
      { [SchemaType.AVRO]: kronosAvroOptions() } as never,
    );
  }

  async lookupId(subject: string, schema: string): Promise<number | undefined> {
    try {
      return await this.#registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema });
    } catch (error) {
      // The library rethrows a 404 (subject or schema unknown) as a bare ConfluentSchemaRegistryError.
      if (errorName(error) === "ConfluentSchemaRegistryError" && statusOf(error) === undefined) return undefined;
      throw this.#fail(error, `look up the schema of subject ${subject}`);
    }
  }

  async register(subject: string, schema: string, compatibility?: CompatibilityLevel): Promise<number> {
    const current = await this.#config(subject);
    if (compatibility !== undefined && current !== undefined && current !== compatibility) {
      await this.#putConfig(subject, compatibility);
    }
    // The library refuses to register unless told the subject's level, and sets it on a new subject.
    const level = compatibility ?? current ?? (await this.#config(undefined)) ?? "BACKWARD";
    try {
      const { id } = await this.#registry.register(
        { type: SchemaType.AVRO, schema },
        { subject, compatibility: level as never },
      );
      return id;
    } catch (error) {
      throw this.#fail(error, `register a schema under subject ${subject}`);
    }
  }

  async getWriterType(id: number): Promise<Type | undefined> {
    try {
      return (await this.#registry.getSchema(id)) as unknown as Type;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.#fail(error, `fetch schema id ${id}`);
    }
  }

  async getLatestSchemaId(subject: string): Promise<number | undefined> {
    try {
      return await this.#registry.getLatestSchemaId(subject);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.#fail(error, `fetch the latest schema of subject ${subject}`);
    }
  }

  /**
   * The version and id under which exactly `schema` (JSON text) is registered in `subject`, or `undefined` when it
   * is not (the registry compares canonical forms, so key order and whitespace do not matter).
   */
  async versionOf(subject: string, schema: string): Promise<{ version: number; id: number } | undefined> {
    const response = await this.#http("POST", `/subjects/${encodeURIComponent(subject)}`, { schema });
    if (response.status === 404) return undefined;
    const body = JSON.parse(response.body) as { version: number; id: number };
    return { version: body.version, id: body.id };
  }

  /** The latest version of `subject` (its number and schema id), or `undefined` when the subject does not exist. */
  async latestVersion(subject: string): Promise<{ version: number; id: number } | undefined> {
    const response = await this.#http("GET", `/subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (response.status === 404) return undefined;
    const body = JSON.parse(response.body) as { version: number; id: number };
    return { version: body.version, id: body.id };
  }

  /** The subject's compatibility level (or the global one for `undefined`); `undefined` when not set. */
  async #config(subject: string | undefined): Promise<CompatibilityLevel | undefined> {
    const path = subject === undefined ? "/config" : `/config/${encodeURIComponent(subject)}`;
    const response = await this.#http("GET", path);
    if (response.status === 404) return undefined;
    const body = JSON.parse(response.body) as { compatibilityLevel?: CompatibilityLevel };
    return body.compatibilityLevel;
  }

  async #putConfig(subject: string, compatibility: CompatibilityLevel): Promise<void> {
    await this.#http("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility });
  }

  /**
   * Resolves when the registry answers `GET /subjects` with 200 within `timeoutMs` (readiness probes). Throws a
   * ContractError like every other call: `REGISTRY_UNAUTHORIZED`, `REGISTRY_TLS_FAILED`, `REGISTRY_UNAVAILABLE`...
   */
  async checkHealth(timeoutMs = 2000): Promise<void> {
    const response = await this.#http("GET", "/subjects", undefined, timeoutMs);
    if (response.status !== 200) {
      throw new ContractError("REGISTRY_REQUEST_FAILED", `GET ${this.url}/subjects answered ${response.status}`);
    }
  }

  /** Our own requests (what the library does not expose), through the same connection; 2xx and 404 resolve. */
  async #http(method: string, path: string, body?: unknown, timeoutMs?: number) {
    const response = await this.#connection.request(method, path, body, timeoutMs);
    if ((response.status >= 200 && response.status < 300) || response.status === 404) return response;
    let message = response.body;
    try {
      message = (JSON.parse(response.body) as { message?: string }).message ?? response.body;
    } catch {}
    throw this.#fail({ status: response.status, message }, `${method} ${path}`);
  }

  /** {@link registryError} with this client's connection (credentials and CA named in the message). */
  #fail(error: unknown, action: string): ContractError {
    return registryError(error, action, this.#connection);
  }
}

/** A mappersmith middleware that sets `Authorization` on every request of the library. */
function authorizationMiddleware(authorization: string) {
  return () => ({
    async prepareRequest(next: () => Promise<{ enhance(extras: { headers: Record<string, string> }): unknown }>) {
      return (await next()).enhance({ headers: { authorization } });
    },
  });
}

/** The library does not export its error classes; their names are stable. */
function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/**
 * A registry failure as a ContractError; which code depends only on what the registry (or the network) said. With
 * the client's `connection`, a 401/403 becomes `REGISTRY_UNAUTHORIZED` naming the credential settings and a refused
 * certificate `REGISTRY_TLS_FAILED` naming `SCHEMA_REGISTRY_CA_FILE`.
 */
export function registryError(error: unknown, action: string, connection?: RegistryHttp): ContractError {
  if (error instanceof ContractError) return error;
  const status = statusOf(error);
  const message = describeError(error).replace(/^[\w-]+ - /, "");
  const refused = status === undefined ? undefined : connection?.authError(status, action, error);
  if (refused !== undefined) return refused;
  // mappersmith reports network failures (refused, reset, timeout) as a synthetic 400/408 whose message is
  // "Error, status 400: <cause>"; a real registry error always carries the registry's JSON message instead.
  if ((status === 400 || status === 408) && /^Error, status \d+: /.test(message)) {
    if (connection !== undefined)
      return connection.networkError(new Error(message.replace(/^Error, status \d+: /, ""), { cause: error }), action);
    return new ContractError(
      "REGISTRY_UNAVAILABLE",
      `schema registry unreachable while trying to ${action}: ${message}`,
      {
        cause: error,
      },
    );
  }
  if (status !== undefined && status >= 500) {
    return new ContractError(
      "REGISTRY_UNAVAILABLE",
      `schema registry failed to ${action} (HTTP ${status}): ${message}`,
      {
        cause: error,
      },
    );
  }
  if (status === 409) {
    return new ContractError("SCHEMA_INCOMPATIBLE", `the registry refused to ${action}: ${message}`, { cause: error });
  }
  if (status === 422 || errorName(error) === "ConfluentSchemaRegistryArgumentError") {
    return new ContractError("INVALID_SCHEMA", `the registry refused to ${action}: ${message}`, { cause: error });
  }
  return new ContractError(
    "REGISTRY_REQUEST_FAILED",
    `could not ${action}${status === undefined ? "" : ` (HTTP ${status})`}: ${message}`,
    { cause: error },
  );
}
