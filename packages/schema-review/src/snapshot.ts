import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import {
  COMPATIBILITY_MODES,
  type Compatibility,
  DEFAULT_COMPATIBILITY,
  DEFAULT_SUBJECT_NAMING,
  effectiveSubjectNaming,
  eventSubjects,
  isObject,
  type Json,
  type JsonObject,
  MANIFEST_FILE,
  manifestChannels,
  manifestMessages,
  type NamedType,
  type ParsedFile,
  parseManifest,
  parseSchemaFiles,
  type SchemaError,
  SHARED_ATTRIBUTE,
  SHARED_FOLDER,
  type SubjectNaming,
  selfContainedOf,
} from "@kronos/catalog";
import avro from "avsc";
import { type AvroSchema, parseAvro } from "./avro.js";
import { ReviewError } from "./errors.js";
import type { GitRepo } from "./git.js";

export { MANIFEST_FILE };

/** The text of the catalog's files at one point in time (working tree or a commit). */
export interface SchemaFiles {
  /** Where they come from, for messages: `working tree`, `base main (1a2b3c4)`. */
  label: string;
  /** Path relative to the schemas folder (`gaia/CriticalAlert.avsc`, `asyncapi.yaml`) → text. */
  files: Map<string, string>;
}

/** A topic or exchange that carries an event, from the manifest's channels. */
export interface EventDestination {
  broker: "kafka" | "rabbitmq";
  /** Topic or exchange name. */
  name: string;
  /** AsyncAPI channel id. */
  channel: string;
}

/** An event (top-level, non-shared record) as the review sees it. */
export interface EventView {
  /** Full record name. */
  name: string;
  /** Its registry subjects (the record name under RecordNameStrategy, else one per Kafka topic), default first. */
  subjects: string[];
  /** Schema file relative to the schemas folder. */
  file: string;
  /** Folder = domain, e.g. `gaia`. */
  domain: string;
  /** Key under `components.messages`, or null when the manifest has no entry for the event. */
  messageId: string | null;
  compatibility: Compatibility;
  owner: string | null;
  destinations: EventDestination[];
  /** The self-contained schema (shared types inlined), as the registry sees it. */
  json: Json;
  schema: AvroSchema;
}

/** The catalog at one point in time, read tolerantly (lint problems do not stop it). */
export interface CatalogView {
  label: string;
  /** Events by full name. */
  events: Map<string, EventView>;
  /** Every parsed .avsc file, by path relative to the schemas folder. */
  files: Map<string, JsonObject>;
  /** The same files in the catalog's Avro model (definitions, references, positions for lines). */
  parsed: Map<string, ParsedFile>;
  /** Every named type of those files, by full name. */
  types: ReadonlyMap<string, NamedType>;
  /** The parsed manifest (empty object when missing). */
  manifest: JsonObject;
  /** The manifest text, for line numbers. */
  manifestText: string;
}

/** Reads the .avsc files and the manifest of a schemas folder on disk. */
export function readWorkingTree(schemasDir: string): SchemaFiles {
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && (entry.name.endsWith(".avsc") || path === join(schemasDir, MANIFEST_FILE))) {
        files.set(relative(schemasDir, path).split(sep).join("/"), readFileSync(path, "utf8"));
      }
    }
  };
  walk(schemasDir);
  return { label: "working tree", files };
}

/** Reads the .avsc files and the manifest of the schemas folder (`schemasPath`, repository-relative) at `commit`. */
export function readCommit(repo: GitRepo, commit: string, schemasPath: string, label: string): SchemaFiles {
  const files = new Map<string, string>();
  const prefix = schemasPath === "" ? "" : `${schemasPath}/`;
  for (const [path, blob] of repo.listFiles(commit, schemasPath === "" ? "." : schemasPath)) {
    const rel = path.slice(prefix.length);
    if (rel.endsWith(".avsc") || rel === MANIFEST_FILE) files.set(rel, repo.readBlob(blob));
  }
  return { label, files };
}

/**
 * Parses a snapshot of the catalog: every .avsc file, the manifest, and each event's self-contained schema.
 * With `strict` (the base and the head) a file that does not parse stops the review; without (older history)
 * it is skipped.
 *
 * @throws ReviewError REVIEW_SCHEMA_UNPARSABLE (a schema is not JSON or not valid Avro) or
 *   REVIEW_MANIFEST_UNPARSABLE, naming the file and the snapshot.
 */
export function buildView(snapshot: SchemaFiles, strict: boolean): CatalogView {
  const fail = (file: string, message: string): void => {
    if (strict) throw new ReviewError("REVIEW_SCHEMA_UNPARSABLE", `${file} at ${snapshot.label} ${message}`);
  };
  const describeProblem = (problem: SchemaError): string =>
    `${problem.code === "SCHEMA_INVALID_JSON" ? "is not valid JSON" : "is not a valid Avro schema"}: ${problem.message}`;
  const inputs = [...snapshot.files]
    .filter(([file]) => file.endsWith(".avsc"))
    .map(([path, content]) => ({ path, content }));
  const set = parseSchemaFiles(inputs);
  for (const problem of set.problems) fail(problem.file, describeProblem(problem));
  const files = new Map<string, JsonObject>(set.files.map((f) => [f.path, f.json as JsonObject]));

  const manifestText = snapshot.files.get(MANIFEST_FILE) ?? "";
  const read = manifestText === "" ? { manifest: {}, problems: [] } : parseManifest(manifestText);
  const [manifestProblem] = read.problems;
  if (manifestProblem !== undefined && strict) {
    throw new ReviewError("REVIEW_MANIFEST_UNPARSABLE", `${MANIFEST_FILE} at ${snapshot.label} ${manifestProblem}`);
  }
  const manifest: JsonObject = read.manifest;
  const messages = messageIndex(manifest);

  const events = new Map<string, EventView>();
  for (const parsed of set.files) {
    const file = parsed.path;
    const json = parsed.json as JsonObject;
    const root = set.types.get(parsed.root) as NamedType;
    const folders = file.split("/").slice(0, -1);
    const shared = folders[0] === SHARED_FOLDER || json[SHARED_ATTRIBUTE] === true || root.kind !== "record";
    if (shared || folders.length === 0) continue;
    const name = root.fullName;
    const self = selfContainedOf(name, set.types);
    let schema: AvroSchema;
    try {
      avro.Type.forSchema(self as avro.Schema);
      schema = parseAvro(self);
    } catch (error) {
      fail(file, `is not a valid Avro schema: ${(error as Error).message}`);
      continue;
    }
    const message = messages.get(file);
    events.set(name, {
      name,
      subjects: subjectsOf(message, name),
      file,
      domain: folders.join("/"),
      messageId: message?.id ?? null,
      compatibility: message?.compatibility ?? DEFAULT_COMPATIBILITY,
      owner: message?.owner ?? null,
      destinations: message?.destinations ?? [],
      json: self,
      schema,
    });
  }
  const parsed = new Map(set.files.map((f) => [f.path, f]));
  return { label: snapshot.label, events, files, parsed, types: set.types, manifest, manifestText };
}

/** The subjects of `name` (tolerant: the record name when the manifest cannot name others). */
function subjectsOf(message: ManifestMessage | undefined, name: string): string[] {
  const topics = (message?.destinations ?? []).flatMap((d) => (d.broker === "kafka" ? [d.name] : []));
  const naming = message?.subjectNaming ?? DEFAULT_SUBJECT_NAMING;
  return naming !== DEFAULT_SUBJECT_NAMING && topics.length === 0
    ? [name]
    : eventSubjects(naming, name, topics).subjects;
}

interface ManifestMessage {
  id: string;
  subjectNaming: SubjectNaming;
  compatibility: Compatibility;
  owner: string | null;
  destinations: EventDestination[];
}

/**
 * The manifest's messages by schema file (relative to the schemas folder), with the event channels that carry
 * them; read with the catalog's manifest reader, tolerantly (lint reports what is missing).
 */
export function messageIndex(manifest: JsonObject): Map<string, ManifestMessage> {
  const byId = new Map<string, ManifestMessage & { file: string }>();
  for (const { id, raw, schemaRef, schemaFile } of manifestMessages(manifest)) {
    if (!isObject(raw) || schemaRef === undefined) continue;
    const mode = raw["x-kronos-compatibility"];
    byId.set(id, {
      id,
      subjectNaming: effectiveSubjectNaming(manifest, raw),
      file: schemaFile ?? schemaRef,
      compatibility: COMPATIBILITY_MODES.includes(mode as Compatibility)
        ? (mode as Compatibility)
        : DEFAULT_COMPATIBILITY,
      owner: typeof raw["x-kronos-owner"] === "string" ? raw["x-kronos-owner"] : null,
      destinations: [],
    });
  }
  for (const channel of manifestChannels(manifest)) {
    const broker = channel.bindings[0];
    if (channel.role !== "events" || broker === undefined || channel.name === undefined) continue;
    const destination: EventDestination = {
      broker: broker === "kafka" ? "kafka" : "rabbitmq",
      name: channel.name,
      channel: channel.id,
    };
    for (const { id } of channel.messages) {
      const message = id === undefined ? undefined : byId.get(id);
      if (
        message &&
        !message.destinations.some((d) => d.broker === destination.broker && d.name === destination.name)
      ) {
        message.destinations.push(destination);
      }
    }
  }
  return new Map([...byId.values()].map((m) => [m.file, m]));
}
