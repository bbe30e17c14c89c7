import type { Compatibility, Json } from "@kronos/catalog";
import { isContractError, type RegistryConnectionOptions, RegistryHttp } from "@kronos/contracts";
import { ReviewError } from "./errors.js";

/** What the registry knows about one subject. */
export interface RegistrySubject {
  /** Registered versions, oldest first (empty when the subject does not exist). */
  versions: { version: number; schema: Json }[];
  /** The subject's compatibility level (its own, else the registry's global one). */
  compatibility: Compatibility;
}

/**
 * A read-only client of a Confluent-compatible registry API (Confluent, Apicurio's ccompat, Karapace) for the
 * review: it never registers or changes anything.
 */
export class ReviewRegistry {
  /** Base URL, without credentials. */
  readonly url: string;
  /** The contracts runtime's registry HTTP layer: the same credentials and CA as every other registry client. */
  readonly #http: RegistryHttp;

  /**
   * @param registry base URL of the API, e.g. http://127.0.0.1:8081/apis/ccompat/v7, or the whole connection
   *   (credentials, CA: `registrySettingsFromEnv` from `@kronos/contracts`)
   */
  constructor(registry: string | RegistryConnectionOptions) {
    this.#http = new RegistryHttp(typeof registry === "string" ? { url: registry } : registry);
    this.url = this.#http.url;
  }

  async #request(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
    let response: { status: number; body: string };
    try {
      response = await this.#http.request(method, path, body);
    } catch (error) {
      if (isContractError(error) && error.code === "REGISTRY_UNAVAILABLE") {
        const cause = (error.cause as { code?: string } | undefined)?.code ?? error.message;
        throw new ReviewError(
          "REVIEW_REGISTRY_UNREACHABLE",
          `the registry at ${this.url} cannot be reached (${cause})`,
          {
            cause: error,
          },
        );
      }
      // An untrusted certificate: the message names SCHEMA_REGISTRY_CA_FILE.
      throw new ReviewError("REVIEW_REGISTRY_ERROR", (error as Error).message, { cause: error });
    }
    const refused = this.#http.authError(response.status, `${method} ${path}`, undefined);
    if (refused !== undefined) throw new ReviewError("REVIEW_REGISTRY_ERROR", refused.message);
    const text = response.body;
    let json: unknown = null;
    try {
      json = text === "" ? null : JSON.parse(text);
    } catch {
      json = text;
    }
    if (response.status >= 500) {
      throw new ReviewError(
        "REVIEW_REGISTRY_ERROR",
        `the registry at ${this.url} answered ${method} ${path} with ${response.status}: ${text.slice(0, 200)}`,
      );
    }
    return { status: response.status, json };
  }

  /**
   * Checks that the registry answers (GET /config).
   * @throws ReviewError REVIEW_REGISTRY_UNREACHABLE or REVIEW_REGISTRY_ERROR
   */
  async ping(): Promise<Compatibility> {
    const { status, json } = await this.#request("GET", "/config");
    if (status !== 200) {
      throw new ReviewError(
        "REVIEW_REGISTRY_ERROR",
        `GET ${this.url}/config answered ${status}: is this a registry API?`,
      );
    }
    return level(json) ?? "BACKWARD";
  }

  /** The subject's versions and compatibility level. */
  async subject(subject: string, globalLevel: Compatibility): Promise<RegistrySubject> {
    const s = encodeURIComponent(subject);
    const config = await this.#request("GET", `/config/${s}`);
    const compatibility = (config.status === 200 ? level(config.json) : undefined) ?? globalLevel;
    const list = await this.#request("GET", `/subjects/${s}/versions`);
    if (list.status === 404 || !Array.isArray(list.json)) return { versions: [], compatibility };
    const versions: RegistrySubject["versions"] = [];
    for (const version of (list.json as number[]).sort((a, b) => a - b)) {
      const got = await this.#request("GET", `/subjects/${s}/versions/${version}`);
      const schema = (got.json as { schema?: string } | null)?.schema;
      if (typeof schema === "string") versions.push({ version, schema: JSON.parse(schema) as Json });
    }
    return { versions, compatibility };
  }

  /**
   * The registry's own verdict: `POST /compatibility/subjects/<subject>/versions/latest` (under the subject's
   * configured level). Undefined when the registry answers 404 (Apicurio answers true for an unknown subject:
   * ask only about registered subjects).
   */
  async isCompatible(subject: string, schema: Json): Promise<boolean | undefined> {
    const { status, json } = await this.#request(
      "POST",
      `/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest`,
      { schema: JSON.stringify(schema) },
    );
    if (status === 404) return undefined;
    if (status !== 200) {
      throw new ReviewError(
        "REVIEW_REGISTRY_ERROR",
        `the registry refused the compatibility check of ${subject} (${status}): ${JSON.stringify(json)}`,
      );
    }
    return (json as { is_compatible?: boolean }).is_compatible === true;
  }
}

function level(json: unknown): Compatibility | undefined {
  const value = (json as { compatibilityLevel?: string; compatibility?: string } | null) ?? {};
  return (value.compatibilityLevel ?? value.compatibility) as Compatibility | undefined;
}
