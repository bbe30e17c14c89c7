import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadCatalog } from "@kronos/catalog";
import {
  ConfluentRegistryClient,
  type EventDescriptor,
  REGISTRY_PINS_FILE,
  type RegistryPin,
  type RegistryPins,
  registrySettingsFromEnv,
} from "@kronos/contracts";
import { registerCatalog } from "@kronos/schema-cli";
import { ReleaseError } from "./errors.js";

/**
 * Registers the catalog's schemas (idempotent; the registry refusing one stops the release, since the packages
 * would write what the registry will not take) and returns how many subjects it holds.
 */
export async function registerSchemas(root: string, registryUrl: string): Promise<number> {
  const catalog = await loadCatalog(join(root, "schemas"));
  try {
    return (await registerCatalog(catalog, registryUrl)).length;
  } catch (error) {
    throw new ReleaseError(
      "SCHEMAS_REFUSED",
      `the schema registry ${registryUrl} did not take the catalog's schemas, so nothing was published: ${(error as Error).message}`,
    );
  }
}

/**
 * Writes `kronos-registry.json` into the built package in `dir`: the subject, registered version and id of each
 * event it exports (and of each of its subjects when it has several, one per Kafka topic), so a service knows which schema versions its installed package was released against
 * (`kronos-check-registry` compares them with the registry's latest).
 */
export async function writePins(dir: string, registryUrl: string): Promise<RegistryPins> {
  // Credentials and CA: SCHEMA_REGISTRY_USERNAME/_PASSWORD, _TOKEN, _CA_FILE, as every other registry user.
  const client = new ConfluentRegistryClient(registrySettingsFromEnv(process.env, registryUrl));
  const exported = (await import(pathToFileURL(join(dir, "dist", "index.js")).href)) as Record<string, unknown>;
  const events = Object.values(exported).filter(
    (value): value is EventDescriptor<unknown> =>
      typeof value === "object" && value !== null && "subject" in value && "schema" in value && "type" in value,
  );
  const pinned: Record<string, RegistryPin> = {};
  for (const event of events) {
    // Every subject of the event (one per Kafka topic under a topic naming strategy), the default first.
    const subjects: Record<string, { version: number; id: number }> = {};
    for (const subject of event.subjects) {
      const found = await client.versionOf(subject, JSON.stringify(event.schema));
      if (found === undefined) {
        throw new ReleaseError(
          "SCHEMAS_REFUSED",
          `${event.name}'s schema is not registered under ${subject} in ${registryUrl} after registering the catalog: ` +
            "the built package and schemas/ differ; rebuild and release again",
        );
      }
      subjects[subject] = found;
    }
    const main = subjects[event.subject] as { version: number; id: number };
    pinned[event.name] = {
      subject: event.subject,
      ...main,
      ...(event.subjects.length > 1 ? { subjects } : {}),
    };
  }
  const pins: RegistryPins = { registry: registryUrl, events: pinned };
  writeFileSync(join(dir, REGISTRY_PINS_FILE), `${JSON.stringify(pins, null, 2)}\n`);
  return pins;
}
