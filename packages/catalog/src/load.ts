import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { checkFieldPath, isObject, templateFields } from "./avro.js";
import { describe, exchangeSettings, kafkaSettings, mergeQueues, queueSpecs, settingsOf } from "./bindings.js";
import { CatalogError, type CatalogIssue } from "./errors.js";
import {
  CHANNEL_ROLES,
  localRef,
  MANIFEST_FILE,
  manifestChannels,
  manifestMessages,
  parseManifest,
} from "./manifest.js";
import { readSchemas, type SchemaFile } from "./schemas.js";
import { checkSubjects } from "./subject-checks.js";
import { DEFAULT_SUBJECT_NAMING, type EventSubjects } from "./subjects.js";
import {
  type Catalog,
  type CatalogEvent,
  COMPATIBILITY_MODES,
  type Compatibility,
  DEFAULT_COMPATIBILITY,
  type Destination,
  type EventBinding,
  type JsonObject,
  type TopologyChannel,
} from "./types.js";

export { MANIFEST_FILE };
/** The default subject naming strategy (subject = the record's full name); see `subjects.ts` for the others. */
export const SUBJECT_NAMING = DEFAULT_SUBJECT_NAMING;
/** Payload `schemaFormat` prefix the manifest's messages must use. */
export const AVRO_SCHEMA_FORMAT = "application/vnd.apache.avro";

const OWNER_PATTERN = /^[a-z][a-z0-9-]*$/;

interface ManifestMessage {
  id: string;
  entry: string;
  raw: JsonObject;
  schemaFile: SchemaFile;
  compatibility: Compatibility;
  owner: string;
  partitionKey: string | null;
  routingKey: string | null;
  bindings: EventBinding[];
}

/**
 * Loads the event catalog: every `.avsc` under `schemasDir` and the AsyncAPI 3 manifest `asyncapi.yaml` at its
 * root, checked against each other and against the Kronos rules (see the package README). Synchronous.
 *
 * @throws CatalogError listing every problem found (each naming the file and the entry), when the catalog is invalid
 *   or `schemasDir` does not exist.
 */
export function loadCatalogSync(schemasDir: string): Catalog {
  const dir = resolve(schemasDir);
  const label = basename(dir);
  const manifestLabel = `${label}/${MANIFEST_FILE}`;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new CatalogError([{ file: label, entry: "(directory)", message: `${dir} is not a directory` }]);
  }
  const issues: CatalogIssue[] = [];
  const issue = (entry: string, message: string) => issues.push({ file: manifestLabel, entry, message });

  const { files, types } = readSchemas(dir, label, issues);
  const filesByPath = new Map(files.map((f) => [f.file, f]));
  const lookup = (name: string) => types.get(name)?.schema;

  // ---- the manifest document
  let manifest: JsonObject = {};
  let manifestText = "";
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) {
    issue("(file)", "the contract manifest does not exist");
  } else {
    manifestText = readFileSync(manifestPath, "utf8");
    const read = parseManifest(manifestText);
    for (const problem of read.problems) issue("(file)", problem);
    manifest = read.manifest;
  }
  if (existsSync(manifestPath)) {
    if (typeof manifest.asyncapi !== "string" || !manifest.asyncapi.startsWith("3.")) {
      issue(
        "asyncapi",
        `must be an AsyncAPI 3 document (asyncapi: 3.0.0), got ${JSON.stringify(manifest.asyncapi ?? null)}`,
      );
    }
  }

  // ---- messages
  const declared = manifestMessages(manifest);
  const declaredIds = new Set(declared.map((m) => m.id));
  const messages = new Map<string, ManifestMessage>();
  const declaredBy = new Map<string, string>();
  for (const { id, entry, raw, schemaRef: ref, schemaFile: relative } of declared) {
    if (!isObject(raw)) {
      issue(entry, "must be a message object");
      continue;
    }
    const payload = isObject(raw.payload) ? raw.payload : undefined;
    if (typeof payload?.schemaFormat !== "string" || !payload.schemaFormat.startsWith(AVRO_SCHEMA_FORMAT)) {
      issue(entry, `payload.schemaFormat must be "${AVRO_SCHEMA_FORMAT};version=1.9.0"`);
    }
    if (ref === undefined) {
      issue(entry, "payload.schema.$ref must name the event's .avsc file, e.g. ./<domain>/<Event>.avsc");
      continue;
    }
    const schemaFile = relative === undefined ? undefined : filesByPath.get(relative);
    if (schemaFile === undefined) {
      issue(entry, `schema ${ref} does not exist`);
      continue;
    }
    if (!schemaFile.isEvent) {
      issue(entry, `schema ${ref} is a shared type (${schemaFile.name}), not an event`);
      continue;
    }
    if (raw.name !== undefined && raw.name !== schemaFile.name) {
      issue(entry, `name ${JSON.stringify(raw.name)} must be the record's full name ${schemaFile.name}`);
    }
    const previous = declaredBy.get(schemaFile.name);
    if (previous !== undefined) {
      issue(entry, `declares ${schemaFile.name} again (already declared by components.messages.${previous})`);
      continue;
    }
    declaredBy.set(schemaFile.name, id);

    const owner = raw["x-kronos-owner"];
    if (typeof owner !== "string" || !OWNER_PATTERN.test(owner)) {
      issue(
        entry,
        `x-kronos-owner must name the owning service (lower-case, e.g. auth), got ${JSON.stringify(owner ?? null)}`,
      );
    }
    const compatibility = raw["x-kronos-compatibility"] ?? DEFAULT_COMPATIBILITY;
    if (!COMPATIBILITY_MODES.includes(compatibility as Compatibility)) {
      issue(
        entry,
        `x-kronos-compatibility ${JSON.stringify(compatibility)} is not one of ${COMPATIBILITY_MODES.join(", ")}`,
      );
    }
    const partitionKey = raw["x-kronos-partition-key"] ?? null;
    if (partitionKey !== null && typeof partitionKey !== "string") {
      issue(entry, "x-kronos-partition-key must be a field path, e.g. userId");
    } else if (partitionKey !== null && schemaFile.usable) {
      const problem = checkFieldPath(schemaFile.schema, partitionKey, lookup);
      if (problem !== undefined) issue(entry, `x-kronos-partition-key ${partitionKey}: ${problem}`);
    }
    const routingKey = raw["x-kronos-routing-key"] ?? null;
    if (routingKey !== null && typeof routingKey !== "string") {
      issue(entry, "x-kronos-routing-key must be a template, e.g. alert.{severity}");
    } else if (routingKey !== null && schemaFile.usable) {
      for (const field of templateFields(routingKey)) {
        const problem = checkFieldPath(schemaFile.schema, field, lookup);
        if (problem !== undefined) issue(entry, `x-kronos-routing-key placeholder {${field}}: ${problem}`);
      }
    }
    messages.set(id, {
      id,
      entry,
      raw,
      schemaFile,
      compatibility: compatibility as Compatibility,
      owner: typeof owner === "string" ? owner : "",
      partitionKey: typeof partitionKey === "string" ? partitionKey : null,
      routingKey: typeof routingKey === "string" ? routingKey : null,
      bindings: [],
    });
  }

  // ---- channels
  const channels = manifestChannels(manifest);
  const channelIds = new Set(channels.map((c) => c.id));
  const destinations = new Map<string, Destination>();
  const topology: TopologyChannel[] = [];
  const boundBy = new Map<string, string>();
  for (const channel of channels) {
    const { id: channelId, entry, raw, address, role } = channel;
    if (!isObject(raw)) {
      issue(entry, "must be a channel object");
      continue;
    }
    if (address === undefined) issue(entry, "address is missing (the topic or exchange name)");
    const bindings = isObject(raw.bindings) ? raw.bindings : {};
    const brokers = channel.bindings;
    if (brokers.length !== 1) {
      issue(entry, "needs exactly one of bindings.kafka and bindings.amqp");
      continue;
    }
    if (role === undefined) {
      issue(entry, `x-kronos-role must be one of ${CHANNEL_ROLES.join(", ")}`);
      continue;
    }
    if (role !== "events") {
      // Retry, dead-letter and reply channels describe the topology; no event is published to them by name.
      if (address !== undefined) {
        topology.push({
          channel: channelId,
          role,
          broker: brokers[0] === "kafka" ? "kafka" : "rabbitmq",
          address,
          description: typeof raw.description === "string" ? raw.description : "",
        });
      }
      continue;
    }
    const channelMessages: ManifestMessage[] = [];
    if (channel.messages.length === 0) issue(entry, "carries no messages");
    for (const { key, id } of channel.messages) {
      if (id === undefined) {
        issue(`${entry}.messages.${key}`, "must be a $ref to #/components/messages/<Event>");
        continue;
      }
      if (!declaredIds.has(id)) {
        issue(`${entry}.messages.${key}`, `references #/components/messages/${id}, which does not exist`);
        continue;
      }
      const message = messages.get(id);
      if (message !== undefined) channelMessages.push(message);
    }

    let destination: Destination | undefined;
    let makeBinding: ((message: ManifestMessage) => EventBinding) | undefined;
    if (brokers[0] === "kafka") {
      const settings = kafkaSettings(bindings.kafka, address, entry, issue);
      if (settings !== undefined) {
        destination = { broker: "kafka", name: settings.topic, ...settings, channels: [], events: [] };
        makeBinding = (message) => ({
          broker: "kafka",
          channel: channelId,
          ...settings,
          keyField: message.partitionKey,
        });
        for (const message of channelMessages) {
          if (message.partitionKey === null) {
            issue(
              message.entry,
              `is bound to Kafka topic ${settings.topic} (${entry}) but has no x-kronos-partition-key`,
            );
          }
        }
      }
    } else {
      const exchange = exchangeSettings(bindings.amqp, address, entry, issue);
      const queues = queueSpecs(raw["x-kronos-queues"], exchange?.type, entry, issue);
      if (exchange !== undefined) {
        destination = { broker: "rabbitmq", ...exchange, channels: [], queues: [], events: [] };
        makeBinding = (message) => ({
          broker: "rabbitmq",
          channel: channelId,
          exchange,
          routingKey: message.routingKey,
          queues,
        });
        for (const message of channelMessages) {
          if (message.routingKey === null && (exchange.type === "direct" || exchange.type === "topic")) {
            issue(
              message.entry,
              `is bound to ${exchange.type} exchange ${exchange.name} (${entry}) but has no x-kronos-routing-key`,
            );
          }
        }
        mergeQueues(destination, queues, entry, issue);
      }
    }
    if (destination === undefined || makeBinding === undefined) continue;

    const key = `${destination.broker}:${destination.broker === "rabbitmq" ? destination.vhost : ""}:${destination.name}`;
    const known = destinations.get(key);
    if (known === undefined) {
      destinations.set(key, destination);
    } else {
      if (settingsOf(known) !== settingsOf(destination)) {
        issue(
          entry,
          `${describe(destination)} is also declared by channels.${known.channels[0]} with different settings`,
        );
      }
      if (known.broker === "rabbitmq" && destination.broker === "rabbitmq")
        mergeQueues(known, destination.queues, entry, issue);
    }
    const target = known ?? destination;
    target.channels.push(channelId);
    for (const message of channelMessages) {
      const name = message.schemaFile.name;
      const previous = boundBy.get(`${key}|${name}`);
      if (previous !== undefined) {
        issue(entry, `binds ${name} to ${describe(target)} again (already bound by channels.${previous})`);
        continue;
      }
      boundBy.set(`${key}|${name}`, channelId);
      target.events.push(name);
      message.bindings.push(makeBinding(message));
    }
  }

  // ---- operations: each must point at a channel that exists
  const rawOperations = isObject(manifest.operations) ? manifest.operations : {};
  for (const [operationId, raw] of Object.entries(rawOperations)) {
    const entry = `operations.${operationId}`;
    if (!isObject(raw)) {
      issue(entry, "must be an operation object");
      continue;
    }
    if (raw.action !== "send" && raw.action !== "receive") issue(entry, "action must be send or receive");
    const refs: Array<[string, unknown]> = [["channel", raw.channel]];
    if (isObject(raw.reply)) refs.push(["reply.channel", raw.reply.channel]);
    for (const [field, value] of refs) {
      const channelId = localRef(value, "#/channels/");
      if (channelId === undefined || !channelIds.has(channelId)) {
        issue(entry, `${field} must be a $ref to an existing channel (#/channels/<id>)`);
      }
    }
  }

  // ---- completeness: every message bound, every event declared
  for (const message of messages.values()) {
    if (message.bindings.length === 0) issue(message.entry, "is not bound to any channel");
  }
  for (const file of files) {
    if (file.isEvent && !declaredBy.has(file.name)) {
      issues.push({
        file: `${label}/${file.file}`,
        entry: file.name,
        message: `event is missing from the manifest: declare it under components.messages in ${MANIFEST_FILE} and bind it to a channel (or mark the record "kronos.shared": true if it is not an event)`,
      });
    }
  }

  const subjects = checkSubjects(
    manifest,
    manifestText,
    manifestLabel,
    [...messages.values()].map((m) => ({ id: m.id, name: m.schemaFile.name, raw: m.raw, bindings: m.bindings })),
    issues,
  );

  if (issues.length > 0) throw new CatalogError(issues);

  const events: CatalogEvent[] = [...messages.values()].map((m) => ({
    name: m.schemaFile.name,
    namespace: m.schemaFile.name.slice(0, m.schemaFile.name.lastIndexOf(".")),
    domain: m.schemaFile.domain,
    ...subjectsOf(subjects.get(m.id) as EventSubjects),
    messageId: m.id,
    file: m.schemaFile.file,
    schema: m.schemaFile.schema,
    doc: typeof m.schemaFile.schema.doc === "string" ? m.schemaFile.schema.doc : "",
    compatibility: m.compatibility,
    owner: m.owner,
    partitionKey: m.partitionKey,
    routingKey: m.routingKey,
    bindings: m.bindings,
  }));
  events.sort((a, b) => a.name.localeCompare(b.name));
  const sortedDestinations = [...destinations.values()].sort(
    (a, b) => (a.broker === b.broker ? 0 : a.broker === "kafka" ? -1 : 1) || a.name.localeCompare(b.name),
  );
  for (const d of sortedDestinations) d.events.sort();
  return {
    dir,
    events,
    destinations: sortedDestinations,
    types: [...types.values()].sort((a, b) => a.name.localeCompare(b.name)),
    topology,
  };
}

/**
 * Loads the event catalog; see {@link loadCatalogSync} for what is checked.
 *
 * @throws CatalogError (as a rejected promise) listing every problem found.
 */
export async function loadCatalog(schemasDir: string): Promise<Catalog> {
  return loadCatalogSync(schemasDir);
}

function subjectsOf(s: EventSubjects): Pick<CatalogEvent, "subject" | "subjectNaming" | "topicSubjects" | "subjects"> {
  return { subject: s.subject, subjectNaming: s.naming, topicSubjects: s.topicSubjects, subjects: s.subjects };
}
