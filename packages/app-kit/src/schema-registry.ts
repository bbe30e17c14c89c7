import { ConfluentRegistryClient, type RegistryConnectionOptions } from "@kronos/contracts";

/** What the readiness check needs of the schema registry: does it answer, with our credentials? */
export interface SchemaRegistryProbe {
  /** The registry's base URL, no trailing slash, no credentials. */
  readonly url: string;
  /**
   * `GET <url>/subjects` with the app's credentials and CA; resolves when it answers 200. Rejects with a
   * `ContractError` naming the URL and what happened: `REGISTRY_UNAUTHORIZED` (naming the credential settings),
   * `REGISTRY_TLS_FAILED` (naming `SCHEMA_REGISTRY_CA_FILE`), `REGISTRY_UNAVAILABLE` (connection error, or timeout
   * after `timeoutMs`, default 2000), `REGISTRY_REQUEST_FAILED` (another status).
   */
  checkHealth(timeoutMs?: number): Promise<void>;
}

/**
 * Creates a {@link SchemaRegistryProbe} for a registry: its URL (a ccompat base such as
 * `http://host:8081/apis/ccompat/v7`) or its whole connection (`ServiceConfig.schemaRegistry`). It goes through
 * the contracts client's HTTP layer, so it sends exactly what the serde sends.
 */
export function createSchemaRegistryProbe(registry: string | RegistryConnectionOptions): SchemaRegistryProbe {
  const client = new ConfluentRegistryClient(typeof registry === "string" ? { url: registry } : registry);
  return { url: client.url, checkHealth: (timeoutMs) => client.checkHealth(timeoutMs) };
}
