import { type Catalog, selfContainedSchema } from "@kronos/catalog";
import { ConfluentRegistryClient } from "@kronos/contracts";

/** One line of what `register` did. */
export interface RegisteredSubject {
  subject: string;
  id: number;
  compatibility: string;
}

/**
 * Registers every event's self-contained schema under its subject (RecordNameStrategy) and sets the subject's
 * compatibility from the manifest. Idempotent: an identical schema keeps its id and creates no version.
 * @param onProgress called after each subject
 * @throws ContractError SCHEMA_INCOMPATIBLE (with the registry's reason) when the registry refuses a schema;
 *   REGISTRY_UNAVAILABLE when it cannot be reached. Subjects before the failing one stay registered.
 */
export async function registerCatalog(
  catalog: Catalog,
  registryUrl: string,
  onProgress: (done: RegisteredSubject, index: number, total: number) => void = () => undefined,
): Promise<RegisteredSubject[]> {
  const client = new ConfluentRegistryClient({ url: registryUrl });
  const results: RegisteredSubject[] = [];
  for (const [index, event] of catalog.events.entries()) {
    const schema = JSON.stringify(selfContainedSchema(catalog, event.name));
    const id = await client.register(event.subject, schema, event.compatibility);
    const done = { subject: event.subject, id, compatibility: event.compatibility };
    results.push(done);
    onProgress(done, index, catalog.events.length);
  }
  return results;
}
