import { isObject } from "./avro.js";
import { localRef } from "./manifest.js";
import type { JsonObject } from "./types.js";

/**
 * How an event's registry subject is named (Confluent's strategy names):
 * - `RecordNameStrategy`: the record's full name, e.g. `kronos.auth.LoginSucceeded`, whatever carries it. One topic
 *   may carry several event types, and one event travels on Kafka and RabbitMQ under one subject. The default.
 * - `TopicNameStrategy`: `<topic>-value`, what Kafka Connect, ksqlDB and Flink assume. One subject per topic the
 *   event is bound to, and a topic carrying it carries no other event type.
 * - `TopicRecordNameStrategy`: `<topic>-<full record name>`: one subject per (topic, event).
 */
export type SubjectNaming = "RecordNameStrategy" | "TopicNameStrategy" | "TopicRecordNameStrategy";

/** Every valid {@link SubjectNaming}. */
export const SUBJECT_NAMINGS: readonly SubjectNaming[] = [
  "RecordNameStrategy",
  "TopicNameStrategy",
  "TopicRecordNameStrategy",
];

/** The strategy of an event when neither its message nor the manifest's root says `x-kronos-subject-naming`. */
export const DEFAULT_SUBJECT_NAMING: SubjectNaming = "RecordNameStrategy";

/** The manifest extension naming the strategy: at the root (every message's default) and on a message. */
export const SUBJECT_NAMING_EXTENSION = "x-kronos-subject-naming";

/** True for a valid {@link SubjectNaming}. */
export function isSubjectNaming(value: unknown): value is SubjectNaming {
  return SUBJECT_NAMINGS.includes(value as SubjectNaming);
}

/**
 * The one subject naming rule: the subject of `recordName`'s messages on Kafka topic `topic` under `naming`.
 * `topic` is ignored by RecordNameStrategy.
 *
 * @throws Error when a topic strategy is given no topic (the caller must refuse such an event first).
 */
export function subjectName(naming: SubjectNaming, recordName: string, topic?: string): string {
  if (naming === "RecordNameStrategy") return recordName;
  if (topic === undefined || topic === "")
    throw new Error(`${naming} needs a Kafka topic to name ${recordName}'s subject`);
  return naming === "TopicNameStrategy" ? `${topic}-value` : `${topic}-${recordName}`;
}

/** The registry subjects of one event. */
export interface EventSubjects {
  naming: SubjectNaming;
  /**
   * The default subject: the record name under RecordNameStrategy, else the subject of the event's first Kafka topic
   * (in manifest order). Messages not on a Kafka topic (RabbitMQ) are framed with the id registered here, so bytes
   * relayed between the brokers keep one schema id.
   */
  subject: string;
  /** Per Kafka topic the event is bound to, the subject of its messages there. */
  topicSubjects: Record<string, string>;
  /** Every distinct subject, default first: what `register` registers. */
  subjects: string[];
}

/**
 * The subjects of `recordName` bound to Kafka `topics` (manifest order) under `naming`.
 *
 * @throws Error when a topic strategy is given no topic.
 */
export function eventSubjects(naming: SubjectNaming, recordName: string, topics: readonly string[]): EventSubjects {
  const topicSubjects: Record<string, string> = {};
  for (const topic of topics) topicSubjects[topic] = subjectName(naming, recordName, topic);
  const subject = subjectName(naming, recordName, topics[0]);
  return { naming, subject, topicSubjects, subjects: [...new Set([subject, ...Object.values(topicSubjects)])] };
}

/** What the manifest says of one message's strategy, read as written (the loader checks it). */
export interface MessageSubjectNaming {
  /** The message's own `x-kronos-subject-naming`, else the root's, else the default; as written. */
  naming: unknown;
  /** Where it comes from: `message`, `root` or `default`. */
  from: "message" | "root" | "default";
  /** The message's Kafka binding's `schemaLookupStrategy` (inline or through `$ref`), when it states one. */
  lookupStrategy: unknown;
}

/** Reads the subject naming of the message `raw` (an entry of `components.messages`) of `manifest`. Never throws. */
export function messageSubjectNaming(manifest: JsonObject, raw: unknown): MessageSubjectNaming {
  const message = isObject(raw) ? raw : {};
  const own = message[SUBJECT_NAMING_EXTENSION];
  const root = manifest[SUBJECT_NAMING_EXTENSION];
  const naming = own ?? root ?? DEFAULT_SUBJECT_NAMING;
  const from = own !== undefined ? "message" : root !== undefined ? "root" : "default";
  let bindings = message.bindings;
  const ref = localRef(bindings, "#/components/messageBindings/");
  if (ref !== undefined) {
    const components = isObject(manifest.components) ? manifest.components : {};
    const shared = isObject(components.messageBindings) ? components.messageBindings : {};
    bindings = shared[ref];
  }
  const kafka = isObject(bindings) && isObject(bindings.kafka) ? bindings.kafka : {};
  return { naming, from, lookupStrategy: kafka.schemaLookupStrategy };
}

/** The subject naming of a message for tolerant readers (the schema review): the default when it is not valid. */
export function effectiveSubjectNaming(manifest: JsonObject, raw: unknown): SubjectNaming {
  const { naming } = messageSubjectNaming(manifest, raw);
  return isSubjectNaming(naming) ? naming : DEFAULT_SUBJECT_NAMING;
}
