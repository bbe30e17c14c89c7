import { posix } from "node:path";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import { isObject } from "./avro.js";
import type { JsonObject } from "./types.js";

/** File name of the contract manifest, at the root of the schemas directory. */
export const MANIFEST_FILE = "asyncapi.yaml";

/**
 * What a channel of the manifest is for (`x-kronos-role`; default `events`). Only `events` channels are
 * destinations events are published to and bound to; the others describe the topology around them (retry topics and
 * queues, dead-letter topics, exchanges and queues, reply topics) so the document tells the whole truth.
 */
export type ChannelRole = "events" | "retry" | "dead-letter" | "reply";

/** Every valid {@link ChannelRole}. */
export const CHANNEL_ROLES: readonly ChannelRole[] = ["events", "retry", "dead-letter", "reply"];

/** The manifest's YAML read into a JSON object, with what stopped it (empty when nothing did). */
export interface ManifestDocument {
  manifest: JsonObject;
  /** YAML errors, or that the document is not a mapping. */
  problems: string[];
}

/** Parses the manifest's text. Never throws: an unparsable document is `{}` with its problems. */
export function parseManifest(text: string): ManifestDocument {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0)
    return { manifest: {}, problems: doc.errors.map((e) => `is not valid YAML: ${e.message}`) };
  const value: unknown = doc.toJS();
  if (isObject(value)) return { manifest: value, problems: [] };
  return { manifest: {}, problems: ["must be a YAML mapping"] };
}

/** The `#/...` target of a local `$ref` after `prefix`, else undefined. */
export function localRef(value: unknown, prefix: string): string | undefined {
  if (!isObject(value) || typeof value.$ref !== "string" || !value.$ref.startsWith(prefix)) return undefined;
  return value.$ref.slice(prefix.length);
}

/** One entry of `components.messages`, read as written (the loader checks it). */
export interface ManifestMessage {
  id: string;
  /** `components.messages.<id>`, for problems. */
  entry: string;
  /** The entry itself; not an object when the manifest is wrong. */
  raw: unknown;
  /** `payload.schema.$ref` as written, e.g. `./gaia/CriticalAlert.avsc`. */
  schemaRef: string | undefined;
  /** The schema file relative to the schemas folder (`gaia/CriticalAlert.avsc`), when the $ref stays inside it. */
  schemaFile: string | undefined;
}

/** Reads `components.messages`, in document order. */
export function manifestMessages(manifest: JsonObject): ManifestMessage[] {
  const components = isObject(manifest.components) ? manifest.components : {};
  const raw = isObject(components.messages) ? components.messages : {};
  return Object.entries(raw).map(([id, message]) => {
    const payload = isObject(message) && isObject(message.payload) ? message.payload : {};
    const schemaRef =
      isObject(payload.schema) && typeof payload.schema.$ref === "string" ? payload.schema.$ref : undefined;
    const normalized = schemaRef === undefined ? undefined : posix.normalize(schemaRef);
    const inside = normalized !== undefined && !normalized.startsWith("../") && !posix.isAbsolute(normalized);
    return {
      id,
      entry: `components.messages.${id}`,
      raw: message,
      schemaRef,
      schemaFile: inside ? normalized : undefined,
    };
  });
}

/** One channel of the manifest, read as written (the loader checks it). */
export interface ManifestChannel {
  id: string;
  /** `channels.<id>`, for problems. */
  entry: string;
  /** The channel itself; not an object when the manifest is wrong. */
  raw: unknown;
  address: string | undefined;
  /** `x-kronos-role`, `events` when absent; undefined when it is not a known role. */
  role: ChannelRole | undefined;
  /** The brokers it has a binding for (`kafka`, `amqp`): exactly one when the channel is valid. */
  bindings: Array<"kafka" | "amqp">;
  /** Kafka: the topic (binding's `topic`, else the address); RabbitMQ: the exchange name (else the address). */
  name: string | undefined;
  /** Its `messages`, each with the `components.messages` id it references (undefined when not such a $ref). */
  messages: Array<{ key: string; id: string | undefined }>;
}

/** Reads `channels`, in document order. */
export function manifestChannels(manifest: JsonObject): ManifestChannel[] {
  const channels = isObject(manifest.channels) ? manifest.channels : {};
  return Object.entries(channels).map(([id, raw]) => {
    const channel = isObject(raw) ? raw : {};
    const bindings = isObject(channel.bindings) ? channel.bindings : {};
    const present = (["kafka", "amqp"] as const).filter((b) => bindings[b] !== undefined);
    const address = typeof channel.address === "string" ? channel.address : undefined;
    const kafka = isObject(bindings.kafka) ? bindings.kafka : undefined;
    const amqp = isObject(bindings.amqp) ? bindings.amqp : undefined;
    const exchange = amqp && isObject(amqp.exchange) ? amqp.exchange.name : undefined;
    const named = present[0] === "kafka" ? kafka?.topic : exchange;
    const role = channel["x-kronos-role"] ?? "events";
    const messages = isObject(channel.messages) ? Object.entries(channel.messages) : [];
    return {
      id,
      entry: `channels.${id}`,
      raw,
      address,
      role: CHANNEL_ROLES.includes(role as ChannelRole) ? (role as ChannelRole) : undefined,
      bindings: [...present],
      name: typeof named === "string" ? named : address,
      messages: messages.map(([key, value]) => ({ key, id: localRef(value, "#/components/messages/") })),
    };
  });
}

/** A line and column (both from 1) in the manifest's text. */
export interface ManifestPosition {
  line: number;
  column: number;
}

/**
 * Where the entry at `path` (keys from the root, e.g. `["components", "messages", "CriticalAlert"]`) is written in
 * the manifest `text`: the position of its key, else of the nearest ancestor's. Undefined when the text does not
 * parse or has none of the path.
 */
export function manifestPosition(text: string, path: readonly string[]): ManifestPosition | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) return undefined;
  let node: unknown = doc.contents;
  let found: ManifestPosition | undefined;
  for (const key of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
    if (pair === undefined || !isScalar(pair.key) || pair.key.range === undefined || pair.key.range === null) break;
    const { line, col } = lineCounter.linePos(pair.key.range[0]);
    found = { line, column: col };
    node = pair.value;
  }
  return found;
}
