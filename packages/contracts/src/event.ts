import type { Type } from "avsc";
import { createAvroType } from "./avro.js";
import { createCodec, type EncodeWithHeader } from "./codec.js";
import { ContractError, type Violation } from "./errors.js";

/**
 * How an event's registry subjects are named (the manifest's `x-kronos-subject-naming`; `@kronos/catalog` holds the
 * rule and computes the subjects that generated descriptors carry): `RecordNameStrategy` (the record's full name,
 * the default), `TopicNameStrategy` (`<topic>-value`) or `TopicRecordNameStrategy` (`<topic>-<record name>`).
 */
export type SubjectNaming = "RecordNameStrategy" | "TopicNameStrategy" | "TopicRecordNameStrategy";

/** One event contract: its schema, registry subjects, source and a codec for its values. */
export interface EventDescriptor<T> {
  /** Fully-qualified record name, e.g. `kronos.auth.LoginSucceeded`. */
  readonly name: string;
  /**
   * The default registry subject: the record name under RecordNameStrategy (unless the definition says otherwise),
   * else the subject of the event's first Kafka topic. What messages off Kafka topics (RabbitMQ) are framed under.
   */
  readonly subject: string;
  /** How the subjects are named; default `RecordNameStrategy`. */
  readonly subjectNaming: SubjectNaming;
  /** Per Kafka topic the event is bound to, its subject there (empty when the definition gives none). */
  readonly topicSubjects: Readonly<Record<string, string>>;
  /** Every distinct subject, `subject` first. */
  readonly subjects: readonly string[];
  /**
   * The subject of the event's messages on Kafka topic `topic` (`subject` when `topic` is undefined, and on any
   * topic under RecordNameStrategy). Throws `ContractError` `TOPIC_NOT_BOUND` when a topic strategy names no subject
   * for `topic` (the manifest does not bind the event to it).
   */
  subjectFor(topic?: string): string;
  /** The self-contained Avro schema JSON. */
  readonly schema: object;
  /** The `.avsc` path relative to the repository, e.g. `schemas/auth/LoginSucceeded.avsc`. */
  readonly source: string;
  /** The manifest binding (typed by `@kronos/catalog`); `undefined` if none. */
  readonly binding: unknown;
  /** The avsc type (Kronos logical types, `wrapUnions: "auto"`). */
  readonly type: Type;
  /** Avro binary, no framing. Throws `ContractError` `VALIDATION_FAILED` with every violation. */
  encode(value: T): Buffer;
  /** Decodes Avro binary written with this exact schema. Throws `ContractError` `DECODE_FAILED`. */
  decode(bytes: Buffer): T;
  /** Every violation with its path; `[]` when valid. */
  validate(value: unknown): Violation[];
}

/**
 * Where a descriptor built by {@link defineEvent} keeps its header-aware encoder (not part of the public API): the
 * serde writes the Confluent frame and the Avro binary into one buffer. Descriptors built otherwise lack it.
 */
export const ENCODE_WITH_HEADER: unique symbol = Symbol("kronos.encodeWithHeader");

/** The header-aware encoder of a descriptor built by {@link defineEvent}, or undefined. */
export function encodeWithHeaderOf(event: EventDescriptor<unknown>): EncodeWithHeader | undefined {
  return (event as { [ENCODE_WITH_HEADER]?: EncodeWithHeader })[ENCODE_WITH_HEADER];
}

/** What {@link defineEvent} needs. */
export interface EventDefinition {
  name: string;
  /** Default: the first of `topicSubjects` under a topic strategy, else `name`. */
  subject?: string;
  /** Default `RecordNameStrategy`. */
  subjectNaming?: SubjectNaming;
  /** Per Kafka topic, the subject there (from the catalog). */
  topicSubjects?: Readonly<Record<string, string>>;
  schema: object;
  source: string;
  binding?: unknown;
}

/**
 * Builds the descriptor of one event. Throws `ContractError` `INVALID_SCHEMA` when avsc refuses the schema or the
 * schema is not a record named `name`.
 */
export function defineEvent<T>(definition: EventDefinition): EventDescriptor<T> {
  const type = createAvroType(definition.schema);
  if (type.typeName !== "record" || type.name !== definition.name) {
    throw new ContractError(
      "INVALID_SCHEMA",
      `event ${definition.name}: the schema in ${definition.source} must be a record named ${definition.name}, ` +
        `got ${type.name ?? type.typeName}`,
    );
  }
  const codec = createCodec<T>(type, `event ${definition.name}`);
  const subjectNaming = definition.subjectNaming ?? "RecordNameStrategy";
  const topicSubjects = Object.freeze({ ...definition.topicSubjects });
  const byRecord = subjectNaming === "RecordNameStrategy";
  const subject = definition.subject ?? (byRecord ? definition.name : Object.values(topicSubjects)[0]);
  if (subject === undefined) {
    throw new ContractError(
      "INVALID_SCHEMA",
      `event ${definition.name} uses ${subjectNaming} but its definition names no topic subject (topicSubjects)`,
    );
  }
  const subjectFor = (topic?: string): string => {
    if (topic === undefined || byRecord) return subject;
    const found = topicSubjects[topic];
    if (found !== undefined) return found;
    throw new ContractError(
      "TOPIC_NOT_BOUND",
      `event ${definition.name} uses ${subjectNaming} and has no subject on Kafka topic ${topic} ` +
        `(its topics: ${Object.keys(topicSubjects).join(", ") || "none"}): bind it to the topic in the manifest`,
    );
  };
  return Object.freeze({
    name: definition.name,
    subject,
    subjectNaming,
    topicSubjects,
    subjects: Object.freeze([...new Set([subject, ...Object.values(topicSubjects)])]),
    subjectFor,
    schema: definition.schema,
    source: definition.source,
    binding: definition.binding,
    type,
    encode: codec.encode,
    decode: codec.decode,
    validate: codec.validate,
    [ENCODE_WITH_HEADER]: codec.encodeWithHeader,
  });
}
