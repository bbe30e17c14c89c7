import { type SubjectNaming, subjectName } from "@kronos/catalog";
import { defineEvent, type EventDescriptor, isContractError, type RegistrySerde } from "@kronos/contracts";
import { describeError } from "@kronos/transport";
import { violationList } from "../validation.js";

/** The subjects a replay to a Kafka topic checks against, in this order: the first one registered is the topic's. */
const TOPIC_FIRST: readonly SubjectNaming[] = ["TopicNameStrategy", "TopicRecordNameStrategy", "RecordNameStrategy"];

/** The outcome of the check a replay makes before sending a message. */
export type CheckResult = { ok: true; note: string } | { ok: false; problem: string };

/** How the problem of a message that fails today's validation starts (the dry-run report counts them by it). */
export const VALIDATION_PROBLEM = "fails today's validation";

/** The destination's current schema of a writer: its subject, id, and an event descriptor built from it. */
interface CurrentSchema {
  readonly subject: string;
  readonly schemaId: number;
  readonly event: EventDescriptor<unknown>;
}

type Compatibility = { ok: true; note: string; current?: CurrentSchema } | { ok: false; problem: string };

/**
 * The check a replay makes before sending (all a dry run does), in three steps:
 *
 * 1. the body decodes with its writer schema (fetched by the frame's id);
 * 2. the destination's current reader schema (the latest version under the writer's subject: on a Kafka topic the
 *    first registered of `<topic>-value`, `<topic>-<record name>` and the record name, so every subject naming
 *    strategy is honoured; elsewhere the record name) can read what that writer wrote, by Avro schema resolution;
 * 3. today's validation: the message, read as a consumer would read it today (the serde resolving the writer to the
 *    current schema), passes the validation the gateway runs on publish (an event descriptor's `validate`,
 *    `@kronos/contracts`' `validateValue`: types, logical types such as uuid and dates, no undeclared fields),
 *    with the current schema as the registry has it. Every violation is named with its path.
 *
 * A body that is not a Confluent frame (e.g. a Kafka Connect record) is not checked: it is replayed as it is. Steps
 * 2 and the current schema are cached per writer schema id; a registry failure is not cached.
 */
export class ReplayCheck {
  readonly #serde: RegistrySerde;
  /** Per writer schema id and Kafka topic (`<id>|<topic>`). */
  readonly #bySchema = new Map<string, Promise<Compatibility>>();

  constructor(serde: RegistrySerde) {
    this.#serde = serde;
  }

  /** Checks `body` (written with `schemaId`) for a replay to Kafka topic `topic` (undefined for RabbitMQ). */
  async check(body: Buffer, schemaId: number | null, topic?: string): Promise<CheckResult> {
    if (schemaId === null) return { ok: true, note: "not a Confluent frame: replayed as it is, unchecked" };
    try {
      await this.#serde.decodeAny(body);
    } catch (error) {
      const code = isContractError(error) ? `${error.code}: ` : "";
      return { ok: false, problem: `does not decode: ${code}${(error as Error).message}` };
    }
    const key = `${schemaId}|${topic ?? ""}`;
    let compatible = this.#bySchema.get(key);
    if (!compatible) {
      compatible = this.#compatible(schemaId, topic);
      this.#bySchema.set(key, compatible);
      // A registry failure is not a verdict: do not cache it.
      compatible.catch(() => this.#bySchema.delete(key));
    }
    const verdict = await compatible;
    if (!verdict.ok) return verdict;
    if (verdict.current === undefined) return { ok: true, note: verdict.note };
    return this.#validate(body, verdict.current, verdict.note);
  }

  async #validate(body: Buffer, current: CurrentSchema, note: string): Promise<CheckResult> {
    const against = `${VALIDATION_PROBLEM} (${current.subject}, schema id ${current.schemaId})`;
    let value: unknown;
    try {
      value = await this.#serde.decode(current.event, body);
    } catch (error) {
      // A logical type of the current schema refuses the writer's value (e.g. a uuid field given "abc").
      const code = isContractError(error) ? `${error.code}: ` : "";
      return { ok: false, problem: `${against}: ${code}${describeError(error)}` };
    }
    const violations = current.event.validate(value);
    if (violations.length > 0) return { ok: false, problem: `${against}: ${violationList(violations)}` };
    return { ok: true, note: `${note}; passes today's validation` };
  }

  async #compatible(schemaId: number, topic: string | undefined): Promise<Compatibility> {
    const client = this.#serde.client;
    const writer = await client.getWriterType(schemaId);
    if (!writer) return { ok: false, problem: `writer schema id ${schemaId} is not in the registry` };
    const name = writer.name;
    if (!name) return { ok: true, note: "the writer schema is not a named type: no subject to check against" };
    const candidates = topic === undefined ? [name] : TOPIC_FIRST.map((naming) => subjectName(naming, name, topic));
    let subject = name;
    let latestId: number | undefined;
    for (const candidate of candidates) {
      latestId = await client.getLatestSchemaId(candidate);
      subject = candidate;
      if (latestId !== undefined) break;
    }
    if (latestId === undefined) {
      return { ok: true, note: `no schema is registered under ${candidates.join(", ")} today` };
    }
    const reader = latestId === schemaId ? writer : await client.getWriterType(latestId);
    if (!reader) return { ok: false, problem: `the current schema of ${subject} (id ${latestId}) cannot be fetched` };
    const event = currentEvent(subject, reader.schema({ exportAttrs: true }) as object);
    const current = event === undefined ? undefined : { subject, schemaId: latestId, event };
    const verdict = (note: string): Compatibility =>
      current === undefined ? { ok: true, note } : { ok: true, note, current };
    if (latestId === schemaId) return verdict(`written with the current schema of ${subject}`);
    try {
      reader.createResolver(writer);
      return verdict(`the current schema of ${subject} (id ${latestId}) reads writer schema id ${schemaId}`);
    } catch (error) {
      return {
        ok: false,
        problem: `the current schema of ${subject} (id ${latestId}) cannot read writer schema id ${schemaId}: ${(error as Error).message}`,
      };
    }
  }
}

/**
 * The event descriptor of a registered schema (its logical types and attributes kept), as the gateway holds one;
 * undefined when the schema is no event (not a record): there is no event validation to run then.
 */
function currentEvent(subject: string, schema: object): EventDescriptor<unknown> | undefined {
  try {
    return defineEvent({ name: subject, schema, source: `the registry's latest schema of ${subject}` });
  } catch {
    return undefined;
  }
}
