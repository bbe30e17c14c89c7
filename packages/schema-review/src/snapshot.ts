import { readdirSync, readFileSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";
import {
  COMPATIBILITY_MODES,
  type Compatibility,
  DEFAULT_COMPATIBILITY,
  inlineNamedTypes,
  isObject,
  type Json,
  type JsonObject,
  qualify,
} from "@kronos/catalog";
import avro from "avsc";
import { parse as parseYaml } from "yaml";
import { type AvroSchema, definitionsOf, parseAvro } from "./avro.js";
import { ReviewError } from "./errors.js";
import type { GitRepo } from "./git.js";

/** File name of the contract manifest in the schemas folder. */
export const MANIFEST_FILE = "asyncapi.yaml";
const SHARED_FOLDER = "common";
const SHARED_ATTRIBUTE = "kronos.shared";

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
  /** Full record name = registry subject (RecordNameStrategy). */
  name: string;
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
  const files = new Map<string, JsonObject>();
  const definitions = new Map<string, JsonObject>();
  const fail = (file: string, message: string): void => {
    if (strict) throw new ReviewError("REVIEW_SCHEMA_UNPARSABLE", `${file} at ${snapshot.label} ${message}`);
  };
  for (const [file, text] of snapshot.files) {
    if (!file.endsWith(".avsc")) continue;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      fail(file, `is not valid JSON: ${(error as Error).message}`);
      continue;
    }
    if (!isObject(json) || typeof json.name !== "string" || typeof json.type !== "string") {
      fail(file, "does not hold one named Avro type (record, enum or fixed)");
      continue;
    }
    files.set(file, json);
    for (const [name, def] of definitionsOf(json)) definitions.set(name, def);
  }

  const manifestText = snapshot.files.get(MANIFEST_FILE) ?? "";
  let manifest: JsonObject = {};
  try {
    const parsed: unknown = manifestText === "" ? {} : parseYaml(manifestText);
    if (isObject(parsed)) manifest = parsed;
  } catch (error) {
    if (strict) {
      throw new ReviewError(
        "REVIEW_MANIFEST_UNPARSABLE",
        `${MANIFEST_FILE} at ${snapshot.label} is not valid YAML: ${(error as Error).message}`,
      );
    }
  }
  const messages = manifestMessages(manifest);

  const events = new Map<string, EventView>();
  for (const [file, json] of files) {
    const folders = file.split("/").slice(0, -1);
    const shared = folders[0] === SHARED_FOLDER || json[SHARED_ATTRIBUTE] === true || json.type !== "record";
    if (shared || folders.length === 0) continue;
    const name = qualify(json.name as string, typeof json.namespace === "string" ? json.namespace : "");
    const self = inlineNamedTypes(json, (full) => definitions.get(full));
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
  return { label: snapshot.label, events, files, manifest, manifestText };
}

interface ManifestMessage {
  id: string;
  compatibility: Compatibility;
  owner: string | null;
  destinations: EventDestination[];
}

/** The manifest's messages by schema file (relative to the schemas folder), with the channels that carry them. */
export function manifestMessages(manifest: JsonObject): Map<string, ManifestMessage> {
  const components = isObject(manifest.components) ? manifest.components : {};
  const raw = isObject(components.messages) ? components.messages : {};
  const byId = new Map<string, ManifestMessage & { file: string }>();
  for (const [id, message] of Object.entries(raw)) {
    if (!isObject(message)) continue;
    const payload = isObject(message.payload) ? message.payload : {};
    const ref = isObject(payload.schema) ? payload.schema.$ref : undefined;
    if (typeof ref !== "string") continue;
    const mode = message["x-kronos-compatibility"];
    byId.set(id, {
      id,
      file: posix.normalize(ref),
      compatibility: COMPATIBILITY_MODES.includes(mode as Compatibility)
        ? (mode as Compatibility)
        : DEFAULT_COMPATIBILITY,
      owner: typeof message["x-kronos-owner"] === "string" ? message["x-kronos-owner"] : null,
      destinations: [],
    });
  }
  const channels = isObject(manifest.channels) ? manifest.channels : {};
  for (const [channelId, channel] of Object.entries(channels)) {
    if (!isObject(channel)) continue;
    const bindings = isObject(channel.bindings) ? channel.bindings : {};
    const amqp = isObject(bindings.amqp) ? bindings.amqp : undefined;
    const kafka = isObject(bindings.kafka) ? bindings.kafka : undefined;
    const exchange = amqp && isObject(amqp.exchange) ? amqp.exchange.name : undefined;
    const address = typeof channel.address === "string" ? channel.address : undefined;
    const destination: EventDestination | undefined = kafka
      ? { broker: "kafka", name: String(kafka.topic ?? address), channel: channelId }
      : amqp
        ? { broker: "rabbitmq", name: String(exchange ?? address), channel: channelId }
        : undefined;
    if (destination === undefined) continue;
    const refs = isObject(channel.messages) ? Object.values(channel.messages) : [];
    for (const ref of refs) {
      const target = isObject(ref) && typeof ref.$ref === "string" ? ref.$ref : "";
      const id = target.startsWith("#/components/messages/") ? target.slice("#/components/messages/".length) : "";
      const message = byId.get(id);
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
