import { isContractError, type RegistrySerde } from "@kronos/contracts";

/** The outcome of the check a replay makes before sending a message. */
export type CheckResult = { ok: true; note: string } | { ok: false; problem: string };

/**
 * The schema check of a replay (and all a dry run does): does the body decode with its writer schema, and can the
 * destination's current reader schema (the latest version under the writer's subject, RecordNameStrategy) read
 * what that writer wrote — checked by Avro schema resolution, as a consumer would. A body that is not a Confluent
 * frame (e.g. a Kafka Connect record) is not checked: it is replayed as it is. Results are cached per schema id.
 */
export class ReplayCheck {
  readonly #serde: RegistrySerde;
  readonly #bySchema = new Map<number, Promise<CheckResult>>();

  constructor(serde: RegistrySerde) {
    this.#serde = serde;
  }

  async check(body: Buffer, schemaId: number | null): Promise<CheckResult> {
    if (schemaId === null) return { ok: true, note: "not a Confluent frame: replayed as it is, unchecked" };
    try {
      await this.#serde.decodeAny(body);
    } catch (error) {
      const code = isContractError(error) ? `${error.code}: ` : "";
      return { ok: false, problem: `does not decode: ${code}${(error as Error).message}` };
    }
    let compatible = this.#bySchema.get(schemaId);
    if (!compatible) {
      compatible = this.#compatible(schemaId);
      this.#bySchema.set(schemaId, compatible);
      // A registry failure is not a verdict: do not cache it.
      compatible.catch(() => this.#bySchema.delete(schemaId));
    }
    return compatible;
  }

  async #compatible(schemaId: number): Promise<CheckResult> {
    const client = this.#serde.client;
    const writer = await client.getWriterType(schemaId);
    if (!writer) return { ok: false, problem: `writer schema id ${schemaId} is not in the registry` };
    const subject = writer.name;
    if (!subject) return { ok: true, note: "the writer schema is not a named type: no subject to check against" };
    const latestId = await client.getLatestSchemaId(subject);
    if (latestId === undefined) return { ok: true, note: `no schema is registered under ${subject} today` };
    if (latestId === schemaId) return { ok: true, note: `written with the current schema of ${subject}` };
    const reader = await client.getWriterType(latestId);
    if (!reader) return { ok: false, problem: `the current schema of ${subject} (id ${latestId}) cannot be fetched` };
    try {
      reader.createResolver(writer);
      return { ok: true, note: `the current schema of ${subject} (id ${latestId}) reads writer schema id ${schemaId}` };
    } catch (error) {
      return {
        ok: false,
        problem: `the current schema of ${subject} (id ${latestId}) cannot read writer schema id ${schemaId}: ${(error as Error).message}`,
      };
    }
  }
}
