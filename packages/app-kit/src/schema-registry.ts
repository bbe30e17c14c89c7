/**
 * A minimal client of a Confluent-compatible schema registry, enough to tell whether it answers. The contracts
 * runtime (a later issue) brings the real serde.
 */
export interface SchemaRegistryProbe {
  /** The registry's base URL, no trailing slash. */
  readonly url: string;
  /**
   * `GET <url>/subjects`; resolves when it answers 200. Rejects with an Error naming the URL and what happened
   * (status, connection error, or timeout after `timeoutMs`, default 2000).
   */
  checkHealth(timeoutMs?: number): Promise<void>;
}

/** Creates a {@link SchemaRegistryProbe} for `url` (a ccompat base such as `http://host:8081/apis/ccompat/v7`). */
export function createSchemaRegistryProbe(url: string): SchemaRegistryProbe {
  const base = url.replace(/\/+$/, "");
  return {
    url: base,
    async checkHealth(timeoutMs = 2000) {
      const target = `${base}/subjects`;
      let response: Response;
      try {
        response = await fetch(target, {
          headers: { accept: "application/vnd.schemaregistry.v1+json, application/json" },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const e = error as Error & { cause?: { message?: string } };
        const reason = e.name === "TimeoutError" ? `timed out after ${timeoutMs} ms` : (e.cause?.message ?? e.message);
        throw new Error(`GET ${target} failed: ${reason}`, { cause: error });
      }
      // Read the body so the connection goes back to the pool.
      await response.arrayBuffer().catch(() => undefined);
      if (response.status !== 200) throw new Error(`GET ${target} answered ${response.status}`);
    },
  };
}
