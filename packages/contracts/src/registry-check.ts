import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { describeError } from "./errors.js";
import type { EventDescriptor } from "./event.js";
import type { ConfluentRegistryClient } from "./registry-client.js";

/** The file a release writes into each generated package: which registered schema each of its events is. */
export const REGISTRY_PINS_FILE = "kronos-registry.json";

/** Where one event's schema was registered when its package was released. */
export interface RegistryPin {
  /** The event's default subject, and its version and schema id there. */
  readonly subject: string;
  readonly version: number;
  readonly id: number;
  /** Every subject of the event (one per Kafka topic under a topic naming strategy), absent in older pins. */
  readonly subjects?: Readonly<Record<string, { readonly version: number; readonly id: number }>>;
}

/** The contents of {@link REGISTRY_PINS_FILE}. */
export interface RegistryPins {
  /** The registry the versions are from. */
  readonly registry: string;
  /** By event (full record name). */
  readonly events: Readonly<Record<string, RegistryPin>>;
}

/** An installed generated package: its name, version, events and pins. */
export interface InstalledEventsPackage {
  readonly name: string;
  readonly version: string;
  readonly events: readonly EventDescriptor<unknown>[];
  readonly pins: RegistryPins | undefined;
}

/** What the registry's latest version of one event means for the installed package. */
export interface EventRegistryCheck {
  readonly package: string;
  readonly event: string;
  readonly subject: string;
  /** The version the package was released against (from its pins), if known. */
  readonly pinned: number | undefined;
  /** The registry's latest version, `undefined` when the subject is not registered. */
  readonly latest: number | undefined;
  /** True when the installed schema can read what the latest registered schema writes. */
  readonly readable: boolean;
  /** Why not, and what to do. */
  readonly problem: string | undefined;
}

function isDescriptor(value: unknown): value is EventDescriptor<unknown> {
  const candidate = value as Partial<EventDescriptor<unknown>> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.name === "string" &&
    typeof candidate.subject === "string" &&
    typeof candidate.type?.createResolver === "function"
  );
}

/** The folder of the package whose entry point is `entry` (the nearest package.json named `name` above it). */
function packageDir(entry: string, name: string): string {
  let dir = dirname(entry);
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === name) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the folder of ${name} from ${entry}`);
    dir = parent;
  }
}

/**
 * The generated event packages (`@kronos/events-*`) a project depends on (its package.json's dependencies and
 * devDependencies), loaded from its node_modules: their events, and the registry versions their release recorded.
 */
export async function installedEventsPackages(projectDir: string): Promise<InstalledEventsPackage[]> {
  const manifest = JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const names = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })
    .filter((name) => name.startsWith("@kronos/events-"))
    .sort();
  const require = createRequire(join(projectDir, "package.json"));
  const packages: InstalledEventsPackage[] = [];
  for (const name of names) {
    const entry = require.resolve(name);
    const dir = packageDir(entry, name);
    const exported = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
    const pinsFile = join(dir, REGISTRY_PINS_FILE);
    packages.push({
      name,
      version: (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version,
      events: Object.values(exported).filter(isDescriptor),
      pins: existsSync(pinsFile) ? (JSON.parse(readFileSync(pinsFile, "utf8")) as RegistryPins) : undefined,
    });
  }
  return packages;
}

/**
 * Checks each installed event against the registry: can the installed schema read what the registry's latest
 * version of its subject writes (Avro schema resolution, as the consumer will do)? A service runs this after the
 * catalog moved on, to know whether it must update its packages before newer producers reach it.
 */
export async function checkAgainstRegistry(
  packages: readonly InstalledEventsPackage[],
  client: ConfluentRegistryClient,
): Promise<EventRegistryCheck[]> {
  const checks: EventRegistryCheck[] = [];
  for (const pkg of packages) {
    for (const event of pkg.events) {
      // Every subject of the event (one per Kafka topic under a topic naming strategy); packages generated before
      // subject naming strategies carry only `subject`.
      for (const subject of event.subjects ?? [event.subject]) {
        checks.push(await checkSubject(pkg, event, subject, client));
      }
    }
  }
  return checks;
}

async function checkSubject(
  pkg: InstalledEventsPackage,
  event: EventDescriptor<unknown>,
  subject: string,
  client: ConfluentRegistryClient,
): Promise<EventRegistryCheck> {
  const pin = pkg.pins?.events[event.name];
  const pinned = pin?.subject === subject ? pin.version : pin?.subjects?.[subject]?.version;
  const base = { package: pkg.name, event: event.name, subject, pinned };
  const latest = await client.latestVersion(subject);
  if (latest === undefined) {
    return {
      ...base,
      latest: undefined,
      readable: false,
      problem: `subject ${subject} is not in the registry ${client.url}: register the catalog (kronos-schemas register)`,
    };
  }
  const writer = await client.getWriterType(latest.id);
  let problem: string | undefined;
  try {
    if (writer === undefined) throw new Error(`schema id ${latest.id} is missing`);
    event.type.createResolver(writer);
  } catch (error) {
    problem =
      `${pkg.name}@${pkg.version} cannot read version ${latest.version} of ${subject} ` +
      `(${describeError(error)}): update it (npm update ${pkg.name}) before producers use that version`;
  }
  return { ...base, latest: latest.version, readable: problem === undefined, problem };
}
