import { type Catalog, selfContainedSchema } from "@kronos/catalog";
import {
  ConfluentRegistryClient,
  ContractError,
  isContractError,
  type RegistryConnectionOptions,
  registrySettingsFromEnv,
} from "@kronos/contracts";

/**
 * The exact text `register` sends for the event `eventName` (its full name), under each of its subjects: the
 * catalog's self-contained schema, serialized. Codegen embeds the same schema (the same inliner over the same definitions)
 * in the event's descriptor, and the gateway registers `JSON.stringify(descriptor.schema)`: a test in every
 * `@kronos/events-*` package (`describeRegisteredSchemas`) checks the two are byte-identical.
 *
 * @throws Error when `eventName` is not an event of the catalog.
 */
export function registeredSchema(catalog: Catalog, eventName: string): string {
  return JSON.stringify(selfContainedSchema(catalog, eventName));
}

/** One line of what `register` did. */
export interface RegisteredSubject {
  subject: string;
  /** The event (full record name) registered under `subject`. */
  event: string;
  id: number;
  compatibility: string;
}

/**
 * Registers every event's self-contained schema under each of its subjects (`event.subjects`: the record name
 * under RecordNameStrategy, one per Kafka topic under TopicNameStrategy and TopicRecordNameStrategy) and sets each
 * subject's compatibility from the manifest. Idempotent: an identical schema keeps its id and creates no version.
 * @param registry the registry's URL (credentials and CA then come from `SCHEMA_REGISTRY_*`, see
 *   `registrySettingsFromEnv`) or its whole connection
 * @param onProgress called after each subject, with the number of subjects in all
 * @throws ContractError SCHEMA_INCOMPATIBLE (with the registry's reason) when the registry refuses a schema;
 *   REGISTRY_UNAVAILABLE when it cannot be reached. Subjects before the failing one stay registered.
 */
export async function registerCatalog(
  catalog: Catalog,
  registry: string | RegistryConnectionOptions,
  onProgress: (done: RegisteredSubject, index: number, total: number) => void = () => undefined,
): Promise<RegisteredSubject[]> {
  const client = new ConfluentRegistryClient(
    typeof registry === "string" ? registrySettingsFromEnv(process.env, registry) : registry,
  );
  const results: RegisteredSubject[] = [];
  const work = catalog.events.flatMap((event) => event.subjects.map((subject) => ({ event, subject })));
  for (const [index, { event, subject }] of work.entries()) {
    const schema = registeredSchema(catalog, event.name);
    let id: number;
    try {
      id = await client.register(subject, schema, event.compatibility);
    } catch (error) {
      throw explainRefusal(error, subject, event.file, event.schema);
    }
    const done = { subject, event: event.name, id, compatibility: event.compatibility };
    results.push(done);
    onProgress(done, index, work.length);
  }
  return results;
}

/**
 * The registry names what broke as JSON pointers into the new schema (Apicurio: `[required at /fields/3]`);
 * a reviewer wants the field's name. Adds "field `x` (/fields/3)" for each pointer the message holds.
 */
export function explainRefusal(error: unknown, subject: string, file: string, schema: unknown): unknown {
  if (!isContractError(error) || error.code !== "SCHEMA_INCOMPATIBLE") return error;
  const fields = (schema as { fields?: Array<{ name?: string }> }).fields ?? [];
  const named = [...error.message.matchAll(/\/fields\/(\d+)/g)].flatMap((match) => {
    const field = fields[Number(match[1])];
    return field?.name ? [`field \`${field.name}\` (${match[0]})`] : [];
  });
  const which = named.length > 0 ? ` What broke it: ${[...new Set(named)].join(", ")}.` : "";
  return new ContractError(
    "SCHEMA_INCOMPATIBLE",
    `the registry refused ${file} for subject ${subject} under its compatibility rule.${which} Registry said: ${error.message}`,
    { cause: error },
  );
}
