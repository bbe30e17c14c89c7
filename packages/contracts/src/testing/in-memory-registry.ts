import type { Type } from "avsc";
import { createAvroType } from "../avro.js";
import type { CompatibilityLevel, SchemaRegistryClient } from "../registry-client.js";

/**
 * A schema registry in memory, for unit tests and fuzzing: ids from 1, one id per distinct schema text, subjects
 * holding versions. It does not check compatibility (use the real registry in integration tests for that).
 */
export class InMemorySchemaRegistry implements SchemaRegistryClient {
  readonly #ids = new Map<string, number>();
  readonly #schemas = new Map<number, string>();
  readonly #subjects = new Map<string, number[]>();
  readonly compatibility = new Map<string, CompatibilityLevel>();

  async lookupId(subject: string, schema: string): Promise<number | undefined> {
    const id = this.#ids.get(schema);
    return id !== undefined && this.#subjects.get(subject)?.includes(id) ? id : undefined;
  }

  async register(subject: string, schema: string, compatibility?: CompatibilityLevel): Promise<number> {
    if (compatibility) this.compatibility.set(subject, compatibility);
    let id = this.#ids.get(schema);
    if (id === undefined) {
      id = this.#schemas.size + 1;
      this.#ids.set(schema, id);
      this.#schemas.set(id, schema);
    }
    const versions = this.#subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.#subjects.set(subject, versions);
    return id;
  }

  async getWriterType(id: number): Promise<Type | undefined> {
    const schema = this.#schemas.get(id);
    return schema === undefined ? undefined : createAvroType(schema);
  }

  async getLatestSchemaId(subject: string): Promise<number | undefined> {
    return this.#subjects.get(subject)?.at(-1);
  }
}
