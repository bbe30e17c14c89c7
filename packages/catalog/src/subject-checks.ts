import type { CatalogIssue } from "./errors.js";
import { manifestPosition } from "./manifest.js";
import {
  DEFAULT_SUBJECT_NAMING,
  type EventSubjects,
  eventSubjects,
  isSubjectNaming,
  messageSubjectNaming,
  SUBJECT_NAMING_EXTENSION,
  SUBJECT_NAMINGS,
  type SubjectNaming,
} from "./subjects.js";
import type { EventBinding, JsonObject } from "./types.js";

/** A message of the manifest as the subject checks need it. */
export interface SubjectCheckMessage {
  /** Key under `components.messages`. */
  id: string;
  /** The record's full name. */
  name: string;
  raw: unknown;
  bindings: readonly EventBinding[];
}

/**
 * Checks the subject naming of every message (see `schemas/README.md`, "Subject naming") and returns each
 * message's subjects by message id. Problems go to `issues`, each with its line and column in the manifest:
 * - the root's and each message's `x-kronos-subject-naming` is one of {@link SUBJECT_NAMINGS};
 * - a message's Kafka binding that states `schemaLookupStrategy` states the same strategy;
 * - TopicNameStrategy and TopicRecordNameStrategy need a Kafka topic (a RabbitMQ-only event has no topic to name
 *   its subject after: it uses RecordNameStrategy);
 * - a topic carrying an event under TopicNameStrategy carries no other event (`<topic>-value` holds one record type);
 * - no two events share a subject.
 */
export function checkSubjects(
  manifest: JsonObject,
  manifestText: string,
  manifestFile: string,
  messages: readonly SubjectCheckMessage[],
  issues: CatalogIssue[],
): Map<string, EventSubjects> {
  const issue = (path: string[], entry: string, message: string) =>
    issues.push({ file: manifestFile, entry, message, ...manifestPosition(manifestText, path) });
  const rootNaming = manifest[SUBJECT_NAMING_EXTENSION];
  if (rootNaming !== undefined && !isSubjectNaming(rootNaming)) {
    issue(
      [SUBJECT_NAMING_EXTENSION],
      SUBJECT_NAMING_EXTENSION,
      `must be one of ${SUBJECT_NAMINGS.join(", ")}, got ${JSON.stringify(rootNaming)}`,
    );
  }
  const eventsOnTopic = new Map<string, string[]>();
  for (const message of messages) {
    for (const binding of message.bindings) {
      if (binding.broker === "kafka")
        eventsOnTopic.set(binding.topic, [...(eventsOnTopic.get(binding.topic) ?? []), message.name]);
    }
  }

  const out = new Map<string, EventSubjects>();
  const subjectOwner = new Map<string, string>();
  for (const message of messages) {
    const entry = `components.messages.${message.id}`;
    const at = ["components", "messages", message.id];
    const read = messageSubjectNaming(manifest, message.raw);
    const ownPath = read.from === "message" ? [...at, SUBJECT_NAMING_EXTENSION] : at;
    if (!isSubjectNaming(read.naming)) {
      if (read.from === "message") {
        issue(
          ownPath,
          entry,
          `${SUBJECT_NAMING_EXTENSION} must be one of ${SUBJECT_NAMINGS.join(", ")}, got ${JSON.stringify(read.naming)}`,
        );
      }
      continue;
    }
    const naming: SubjectNaming = read.naming;
    if (read.lookupStrategy !== undefined && read.lookupStrategy !== naming) {
      issue(
        [...at, "bindings"],
        entry,
        `its Kafka binding says schemaLookupStrategy ${JSON.stringify(read.lookupStrategy)} but the event uses ${naming}` +
          `${read.from === "default" ? " (the default)" : ""}: give the message a Kafka binding with schemaLookupStrategy: ${naming}`,
      );
    }
    const topics = message.bindings.flatMap((b) => (b.broker === "kafka" ? [b.topic] : []));
    if (naming !== DEFAULT_SUBJECT_NAMING && topics.length === 0) {
      issue(
        ownPath,
        entry,
        `${message.name} uses ${naming} but is bound to no Kafka topic: a RabbitMQ-only event has no topic to name ` +
          `its subject after; use ${SUBJECT_NAMING_EXTENSION}: RecordNameStrategy (the subject is then the record name)`,
      );
      continue;
    }
    if (naming === "TopicNameStrategy") {
      for (const topic of topics) {
        const others = (eventsOnTopic.get(topic) ?? []).filter((name) => name !== message.name);
        if (others.length > 0) {
          issue(
            ownPath,
            entry,
            `${message.name} uses TopicNameStrategy on Kafka topic ${topic}, which also carries ${others.join(", ")}: ` +
              `the subject ${topic}-value holds one record type; use TopicRecordNameStrategy or RecordNameStrategy, ` +
              "or give the event a topic of its own",
          );
        }
      }
    }
    const subjects = eventSubjects(naming, message.name, topics);
    for (const subject of subjects.subjects) {
      const owner = subjectOwner.get(subject);
      if (owner !== undefined && owner !== message.name) {
        issue(ownPath, entry, `${message.name}'s subject ${subject} is also the subject of ${owner}`);
      }
      subjectOwner.set(subject, message.name);
    }
    out.set(message.id, subjects);
  }
  return out;
}
