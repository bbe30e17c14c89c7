import confluent from "@kafkajs/confluent-schema-registry";
import type { Type } from "avsc";
import { kronosAvroOptions } from "./avro.js";
import { ContractError, describeError } from "./errors.js";

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

/** The local stack's registry (Apicurio's Confluent-compatible API). */
export const DEFAULT_REGISTRY_URL = "http://127.0.0.1:8081/apis/ccompat/v7";

/** Options of {@link ConfluentRegistryClient}. */
export interface ConfluentRegistryClientOptions {
  /** Base URL of the Confluent-compatible API; default {@link DEFAULT_REGISTRY_URL}. */
  url?: string;
  /** Retries of failed requests (network errors, 5xx) by the library, with backoff; default 3. */
  retries?: number;
}

const CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

/**
 * {@link SchemaRegistryClient} over `@kafkajs/confluent-schema-registry` (lookups, registration, schemas by id),
 * plus plain HTTP for the subject compatibility config the library does not expose.
 */
export class ConfluentRegistryClient implements SchemaRegistryClient {
  readonly url: string;
  readonly #registry: InstanceType<typeof SchemaRegistry>;

  constructor(options: ConfluentRegistryClientOptions = {}) {
    this.url = (options.url ?? DEFAULT_REGISTRY_URL).replace(/\/+$/, "");
    this.#registry = new SchemaRegistry(
      { host: this.url, clientId: "kronos-contracts", retry: { retries: options.retries ?? 3 } },
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
      throw registryError(error, `look up the schema of subject ${subject}`);
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
      throw registryError(error, `register a schema under subject ${subject}`);
    }
  }

  async getWriterType(id: number): Promise<Type | undefined> {
    try {
      return (await this.#registry.getSchema(id)) as unknown as Type;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw registryError(error, `fetch schema id ${id}`);
    }
  }

  async getLatestSchemaId(subject: string): Promise<number | undefined> {
    try {
      return await this.#registry.getLatestSchemaId(subject);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw registryError(error, `fetch the latest schema of subject ${subject}`);
    }
  }

  /**
   * The version and id under which exactly `schema` (JSON text) is registered in `subject`, or `undefined` when it
   * is not (the registry compares canonical forms, so key order and whitespace do not matter).
   */
  async versionOf(subject: string, schema: string): Promise<{ version: number; id: number } | undefined> {
    const response = await this.#http("POST", `/subjects/${encodeURIComponent(subject)}`, { schema });
    if (response.status === 404) return undefined;
    const body = (await response.json()) as { version: number; id: number };
    return { version: body.version, id: body.id };
  }

  /** The latest version of `subject` (its number and schema id), or `undefined` when the subject does not exist. */
  async latestVersion(subject: string): Promise<{ version: number; id: number } | undefined> {
    const response = await this.#http("GET", `/subjects/${encodeURIComponent(subject)}/versions/latest`);
    if (response.status === 404) return undefined;
    const body = (await response.json()) as { version: number; id: number };
    return { version: body.version, id: body.id };
  }

  /** The subject's compatibility level (or the global one for `undefined`); `undefined` when not set. */
  async #config(subject: string | undefined): Promise<CompatibilityLevel | undefined> {
    const path = subject === undefined ? "/config" : `/config/${encodeURIComponent(subject)}`;
    const response = await this.#http("GET", path);
    if (response.status === 404) return undefined;
    const body = (await response.json()) as { compatibilityLevel?: CompatibilityLevel };
    return body.compatibilityLevel;
  }

  async #putConfig(subject: string, compatibility: CompatibilityLevel): Promise<void> {
    await this.#http("PUT", `/config/${encodeURIComponent(subject)}`, { compatibility });
  }

  async #http(method: string, path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: { "content-type": CONTENT_TYPE, accept: CONTENT_TYPE },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new ContractError(
        "REGISTRY_UNAVAILABLE",
        `schema registry at ${this.url} is unreachable (${method} ${path}): ${describeError(error)}`,
        { cause: error },
      );
    }
    if (response.ok || response.status === 404) return response;
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { message?: string }).message ?? text;
    } catch {}
    throw registryError({ status: response.status, message }, `${method} ${path}`);
  }
}

/** The library does not export its error classes; their names are stable. */
function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/** A registry failure as a ContractError; which code depends only on what the registry (or the network) said. */
export function registryError(error: unknown, action: string): ContractError {
  if (error instanceof ContractError) return error;
  const status = statusOf(error);
  const message = describeError(error).replace(/^[\w-]+ - /, "");
  // mappersmith reports network failures (refused, reset, timeout) as a synthetic 400/408 whose message is
  // "Error, status 400: <cause>"; a real registry error always carries the registry's JSON message instead.
  if ((status === 400 || status === 408) && /^Error, status \d+: /.test(message)) {
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
