import type { SubjectNaming } from "./subjects.js";

/** A JSON value, as parsed from an .avsc file. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
/** A JSON object, as parsed from an .avsc file. */
export interface JsonObject {
  [key: string]: Json;
}

/** Schema registry compatibility modes (Confluent names), set per subject. */
export type Compatibility =
  | "BACKWARD"
  | "BACKWARD_TRANSITIVE"
  | "FORWARD"
  | "FORWARD_TRANSITIVE"
  | "FULL"
  | "FULL_TRANSITIVE"
  | "NONE";

/** Every valid {@link Compatibility}, in the registry's order. */
export const COMPATIBILITY_MODES: readonly Compatibility[] = [
  "BACKWARD",
  "BACKWARD_TRANSITIVE",
  "FORWARD",
  "FORWARD_TRANSITIVE",
  "FULL",
  "FULL_TRANSITIVE",
  "NONE",
];

/** The compatibility a message gets when the manifest does not say `x-kronos-compatibility`. */
export const DEFAULT_COMPATIBILITY: Compatibility = "BACKWARD";

/** Kafka `cleanup.policy` values. */
export type CleanupPolicy = "delete" | "compact";

/** RabbitMQ exchange types. */
export type ExchangeType = "direct" | "topic" | "fanout" | "headers";

/** RabbitMQ queue types the catalog accepts. */
export type QueueType = "classic" | "quorum";

/** Where a queue's rejected or expired messages go (`x-dead-letter-exchange` and friends). */
export interface DeadLetterTarget {
  /** Dead-letter exchange (`x-dead-letter-exchange`). */
  exchange: string;
  /** Routing key dead letters are republished with (`x-dead-letter-routing-key`); null keeps the original one. */
  routingKey: string | null;
  /** Queue bound to the dead-letter exchange that holds them; null when the manifest names none. */
  queue: string | null;
}

/** A RabbitMQ queue declared by the manifest (`x-kronos-queues`). */
export interface QueueSpec {
  name: string;
  type: QueueType;
  /** Default true. */
  durable: boolean;
  /** Keys the queue is bound to the exchange with; empty for fanout exchanges. */
  bindingKeys: string[];
  /** `x-max-priority` (classic queues only); null when the queue has no priorities. */
  maxPriority: number | null;
  /** `x-delivery-limit` (quorum queues only); null for the broker's default. */
  deliveryLimit: number | null;
  deadLetter: DeadLetterTarget | null;
}

/** Settings of a Kafka topic, from the channel's `bindings.kafka`. */
export interface KafkaTopicSettings {
  /** Topic name. */
  topic: string;
  partitions: number;
  replicas: number;
  /** `topicConfiguration["cleanup.policy"]`. */
  cleanupPolicy: CleanupPolicy[];
  /** `topicConfiguration["retention.ms"]`; null when not set (compacted topics). -1 keeps forever. */
  retentionMs: number | null;
}

/** Settings of a RabbitMQ exchange, from the channel's `bindings.amqp.exchange`. */
export interface RabbitExchangeSettings {
  name: string;
  type: ExchangeType;
  durable: boolean;
  /** Default false. */
  autoDelete: boolean;
  /** Default "/". */
  vhost: string;
}

/** One place an event is published to: a Kafka topic. */
export interface KafkaBinding extends KafkaTopicSettings {
  broker: "kafka";
  /** AsyncAPI channel id that binds it. */
  channel: string;
  /** Payload field (dotted path) whose value is the record key; null when records have no key. */
  keyField: string | null;
}

/** One place an event is published to: a RabbitMQ exchange. */
export interface RabbitBinding {
  broker: "rabbitmq";
  /** AsyncAPI channel id that binds it. */
  channel: string;
  exchange: RabbitExchangeSettings;
  /**
   * Routing key template: literal text and `{field.path}` placeholders replaced by payload values, e.g.
   * `alert.{severity}.{sourceService}`. Null for fanout and headers exchanges when none is given.
   */
  routingKey: string | null;
  /** Queues declared on this channel (others may be declared at run time, e.g. exclusive reply queues). */
  queues: QueueSpec[];
}

/** Where an event travels. */
export type EventBinding = KafkaBinding | RabbitBinding;

/** An event: a top-level record schema in `schemas/` declared in the manifest and bound to destinations. */
export interface CatalogEvent {
  /** Full record name, e.g. `kronos.auth.LoginSucceeded`. */
  name: string;
  /** Namespace, e.g. `kronos.auth`. */
  namespace: string;
  /** Domain: the folder the schema lives in, e.g. `auth`. */
  domain: string;
  /**
   * The default registry subject: the full record name under RecordNameStrategy, else the subject of the event's
   * first Kafka topic. Messages not on a Kafka topic (RabbitMQ) are framed with the schema id registered here.
   */
  subject: string;
  /** How the event's subjects are named (`x-kronos-subject-naming` of its message, else the manifest's root). */
  subjectNaming: SubjectNaming;
  /** Per Kafka topic the event is bound to, the subject of its messages there (all `subject` under RecordNameStrategy). */
  topicSubjects: Record<string, string>;
  /** Every distinct subject of the event, `subject` first: what `kronos-schemas register` registers. */
  subjects: string[];
  /** Key of the message under `components.messages` in the manifest. */
  messageId: string;
  /** Schema file, relative to the schemas directory, e.g. `auth/LoginSucceeded.avsc`. */
  file: string;
  /** The parsed schema, as written (named types of other files are referenced by name). */
  schema: JsonObject;
  /** The record's `doc`. */
  doc: string;
  compatibility: Compatibility;
  /** Owning service, e.g. `auth`. */
  owner: string;
  /** Payload field (dotted path) used as the Kafka key; null when not given. */
  partitionKey: string | null;
  /** RabbitMQ routing key template; null when not given. */
  routingKey: string | null;
  /** Every destination the event is bound to, in manifest order. */
  bindings: EventBinding[];
}

/** A Kafka topic and the events it carries. */
export interface KafkaTopicDestination extends KafkaTopicSettings {
  broker: "kafka";
  /** Same as `topic`. */
  name: string;
  /** AsyncAPI channel ids that bind it. */
  channels: string[];
  /** Full names of the events it carries. */
  events: string[];
}

/** A RabbitMQ exchange, its declared queues and the events it carries. */
export interface RabbitExchangeDestination extends RabbitExchangeSettings {
  broker: "rabbitmq";
  /** AsyncAPI channel ids that bind it. */
  channels: string[];
  /** Queues declared on any of its channels. */
  queues: QueueSpec[];
  /** Full names of the events it carries. */
  events: string[];
}

/** A topic or an exchange. */
export type Destination = KafkaTopicDestination | RabbitExchangeDestination;

/** A named Avro type (record, enum, fixed) defined somewhere in `schemas/`. */
export interface CatalogType {
  /** Full name. */
  name: string;
  kind: "record" | "enum" | "fixed";
  /** File that defines it, relative to the schemas directory. */
  file: string;
  /** The definition, with its `namespace` made explicit so it can be inlined anywhere. */
  schema: JsonObject;
  /** True when it is the top-level type of its file. */
  topLevel: boolean;
  /**
   * True for shared types: everything defined in files under `common/`, in files whose top-level type is an enum
   * or a fixed, or in top-level records marked `"kronos.shared": true`.
   */
  shared: boolean;
}

/**
 * A channel of the manifest that is not an event destination (`x-kronos-role` retry, dead-letter or reply): retry
 * topics and queues, dead-letter topics, exchanges and queues, reply topics. Listed so the manifest describes every
 * place a message can be; never a destination events are published to, and no code is generated for it.
 */
export interface TopologyChannel {
  /** AsyncAPI channel id. */
  channel: string;
  role: "retry" | "dead-letter" | "reply";
  broker: "kafka" | "rabbitmq";
  /** The channel's address as written; may hold `{parameters}`, e.g. `{topic}.retry.{delayMs}`. */
  address: string;
  description: string;
}

/** The loaded, validated catalog. */
export interface Catalog {
  /** Absolute path of the schemas directory. */
  dir: string;
  /** Events, sorted by full name. */
  events: CatalogEvent[];
  /** Topics and exchanges, Kafka first, each sorted by name. */
  destinations: Destination[];
  /** Every named type defined in the catalog, sorted by full name. */
  types: CatalogType[];
  /** Retry, dead-letter and reply channels, in manifest order (always set by `loadCatalog`). */
  topology?: TopologyChannel[];
}
