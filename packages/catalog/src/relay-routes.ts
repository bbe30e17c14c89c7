import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { isObject } from "./avro.js";
import { CatalogError, type CatalogIssue } from "./errors.js";
import { loadCatalogSync } from "./load.js";
import { MANIFEST_FILE, parseManifest } from "./manifest.js";
import type { Catalog, CatalogEvent } from "./types.js";

/** The manifest extension that declares a relay route, on a `send` operation (the operation's channel is the target). */
export const RELAY_EXTENSION = "x-kronos-relay";

/** Where a relay route reads: a Kafka topic through a consumer group, or a RabbitMQ queue bound to an exchange. */
export type RelaySource =
  | { broker: "kafka"; channel: string; topic: string; consumerGroup: string }
  | { broker: "rabbitmq"; channel: string; exchange: string; queue: string; bindingKeys: string[] };

/**
 * Where a relay route writes: a Kafka topic (record key: the carried Kafka key, else the event's partition key
 * field) or a RabbitMQ exchange (routing key: `routingKey` when given, else the event's routing key template).
 */
export type RelayTarget =
  | { broker: "kafka"; channel: string; topic: string }
  | { broker: "rabbitmq"; channel: string; exchange: string; routingKey: string | null };

/** One relay route of the manifest: an `x-kronos-relay` extension on a `send` operation. */
export interface RelayRoute {
  /** The operation id, e.g. `relayCriticalAlerts`. */
  id: string;
  from: RelaySource;
  to: RelayTarget;
  /** Full names of the events the route carries; each is bound to both the source and the target channel. */
  events: string[];
  /** What identifies a message for de-duplication: its message id, or a payload field (dotted path). */
  dedup: { by: "message-id" } | { by: "field"; field: string };
  /** De-duplication window in ms; null: the relay's default. */
  dedupWindowMs: number | null;
  /** AMQP priority from a payload field's value (enum symbol or text); null: the source's priority, if any. */
  priority: { field: string; values: Record<string, number> } | null;
}

interface ChannelInfo {
  broker: "kafka" | "rabbitmq";
  name: string;
  events: Set<string>;
}

function channelsOf(catalog: Catalog): Map<string, ChannelInfo> {
  const channels = new Map<string, ChannelInfo>();
  for (const event of catalog.events) {
    for (const binding of event.bindings) {
      const name = binding.broker === "kafka" ? binding.topic : binding.exchange.name;
      const info = channels.get(binding.channel) ?? { broker: binding.broker, name, events: new Set<string>() };
      info.events.add(event.name);
      channels.set(binding.channel, info);
    }
  }
  return channels;
}

function channelRef(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.$ref !== "string" || !value.$ref.startsWith("#/channels/")) return undefined;
  return value.$ref.slice("#/channels/".length);
}

const NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Reads the relay routes of a parsed manifest (`x-kronos-relay` on its operations), checked against `catalog` (the
 * same manifest loaded by `loadCatalogSync`): the source channel and the target (the operation's channel) exist and
 * are on different brokers, every event is bound to both, a Kafka source names its consumer group and a RabbitMQ
 * source its queue.
 *
 * @throws CatalogError listing every problem, each naming the entry (`operations.<id>.x-kronos-relay...`).
 */
export function parseRelayRoutes(manifest: unknown, catalog: Catalog, file = `schemas/${MANIFEST_FILE}`): RelayRoute[] {
  const issues: CatalogIssue[] = [];
  const issue = (entry: string, message: string) => issues.push({ file, entry, message });
  const channels = channelsOf(catalog);
  const byMessageId = new Map<string, CatalogEvent>(catalog.events.map((e) => [e.messageId, e]));
  const operations = isObject(manifest) && isObject(manifest.operations) ? manifest.operations : {};
  const routes: RelayRoute[] = [];
  const queues = new Map<string, string>();

  for (const [id, operation] of Object.entries(operations)) {
    if (!isObject(operation) || operation[RELAY_EXTENSION] === undefined) continue;
    const entry = `operations.${id}.${RELAY_EXTENSION}`;
    const raw = operation[RELAY_EXTENSION];
    if (!isObject(raw)) {
      issue(entry, "must be a mapping (from, messages, options)");
      continue;
    }
    const problemsBefore = issues.length;
    if (operation.action !== "send")
      issue(entry, "a relay route must be on a send operation (its channel is the target)");

    const targetId = channelRef(operation.channel);
    const target = targetId === undefined ? undefined : channels.get(targetId);
    if (target === undefined) issue(entry, `its target ${JSON.stringify(targetId ?? null)} is not a known channel`);
    const from = isObject(raw.from) ? raw.from : {};
    const sourceId = channelRef(from.channel);
    const source = sourceId === undefined ? undefined : channels.get(sourceId);
    if (source === undefined) {
      issue(`${entry}.from.channel`, `${JSON.stringify(sourceId ?? null)} is not a known channel (#/channels/<id>)`);
    }
    if (source && target && source.broker === target.broker) {
      issue(entry, `source and target are both on ${source.broker}: a relay route crosses brokers`);
    }

    const events: string[] = [];
    const rawMessages = Array.isArray(raw.messages) ? raw.messages : [];
    if (rawMessages.length === 0) issue(`${entry}.messages`, "must list the events the route carries ($ref each)");
    rawMessages.forEach((value, index) => {
      const ref = isObject(value) && typeof value.$ref === "string" ? value.$ref : "";
      const event = ref.startsWith("#/components/messages/")
        ? byMessageId.get(ref.slice("#/components/messages/".length))
        : undefined;
      if (event === undefined) {
        issue(`${entry}.messages[${index}]`, `${JSON.stringify(ref)} is not an event of the manifest`);
        return;
      }
      if (target && !target.events.has(event.name)) {
        issue(`${entry}.messages[${index}]`, `${event.name} is not bound to the target ${target.name} (${targetId})`);
      }
      if (source && !source.events.has(event.name)) {
        issue(`${entry}.messages[${index}]`, `${event.name} is not bound to the source ${source.name} (${sourceId})`);
      }
      events.push(event.name);
    });

    let relaySource: RelaySource | undefined;
    if (source?.broker === "kafka" && sourceId !== undefined) {
      const group = from.consumerGroup;
      if (typeof group !== "string" || !NAME.test(group)) {
        issue(`${entry}.from.consumerGroup`, "a Kafka source needs its consumer group (letters, digits, . _ -)");
      } else relaySource = { broker: "kafka", channel: sourceId, topic: source.name, consumerGroup: group };
    } else if (source?.broker === "rabbitmq" && sourceId !== undefined) {
      const queue = from.queue;
      const keys = from.bindingKeys ?? ["#"];
      if (typeof queue !== "string" || !NAME.test(queue)) {
        issue(`${entry}.from.queue`, "a RabbitMQ source needs the queue the relay declares and reads");
      } else if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
        issue(`${entry}.from.bindingKeys`, "must be a list of binding keys");
      } else {
        const other = queues.get(queue);
        if (other !== undefined) issue(`${entry}.from.queue`, `${queue} is already the source of ${other}`);
        queues.set(queue, id);
        relaySource = {
          broker: "rabbitmq",
          channel: sourceId,
          exchange: source.name,
          queue,
          bindingKeys: keys as string[],
        };
      }
    }

    const dedupField = raw.dedupField;
    if (dedupField !== undefined && (typeof dedupField !== "string" || dedupField === "")) {
      issue(`${entry}.dedupField`, "must be a payload field path, e.g. fingerprint");
    }
    const windowMs = raw.dedupWindowMs ?? null;
    if (windowMs !== null && !(Number.isInteger(windowMs) && (windowMs as number) > 0)) {
      issue(`${entry}.dedupWindowMs`, "must be a positive number of milliseconds");
    }
    const priority = parsePriority(raw.priority, `${entry}.priority`, issue);
    const routingKey = raw.routingKey ?? null;
    if (routingKey !== null && typeof routingKey !== "string") issue(`${entry}.routingKey`, "must be a template");

    if (issues.length > problemsBefore || !relaySource || !target || targetId === undefined) continue;
    routes.push({
      id,
      from: relaySource,
      to:
        target.broker === "kafka"
          ? { broker: "kafka", channel: targetId, topic: target.name }
          : { broker: "rabbitmq", channel: targetId, exchange: target.name, routingKey: routingKey as string | null },
      events,
      dedup: typeof dedupField === "string" ? { by: "field", field: dedupField } : { by: "message-id" },
      dedupWindowMs: windowMs as number | null,
      priority,
    });
  }
  if (issues.length > 0) throw new CatalogError(issues);
  return routes;
}

function parsePriority(
  raw: unknown,
  entry: string,
  issue: (entry: string, message: string) => void,
): RelayRoute["priority"] {
  if (raw === undefined || raw === null) return null;
  if (!isObject(raw) || typeof raw.field !== "string" || !isObject(raw.values)) {
    issue(entry, "must be { field, values: { <value>: <priority 0-255> } }");
    return null;
  }
  const values: Record<string, number> = {};
  for (const [value, level] of Object.entries(raw.values)) {
    if (!Number.isInteger(level) || (level as number) < 0 || (level as number) > 255) {
      issue(`${entry}.values.${value}`, "must be a priority from 0 to 255");
    } else values[value] = level as number;
  }
  return { field: raw.field, values };
}

/**
 * Loads the catalog in `schemasDir` and the relay routes of its manifest.
 *
 * @throws CatalogError when the catalog or a route is invalid.
 */
export function loadRelayRoutes(schemasDir: string): { catalog: Catalog; routes: RelayRoute[] } {
  const catalog = loadCatalogSync(schemasDir);
  // The loader has just read and checked this document: it parses.
  const { manifest } = parseManifest(readFileSync(join(catalog.dir, MANIFEST_FILE), "utf8"));
  return { catalog, routes: parseRelayRoutes(manifest, catalog, `${basename(catalog.dir)}/${MANIFEST_FILE}`) };
}
