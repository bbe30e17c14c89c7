/**
 * The naming rules of the two brokers, in one place: which names a Kafka topic or a RabbitMQ queue or exchange may
 * have, and which objects are the brokers' (and the schema registry's) own. A name a broker would refuse or alter
 * must be refused before it is compared with anything: RabbitMQ silently strips CR and LF from queue and exchange
 * names, so `orders\n` passes a comparison with `orders` and then names `orders` on the broker.
 */

/** The brokers a name can be checked for. */
export type NameBroker = "kafka" | "rabbitmq";

/** Kafka's topic rule: 1 to 249 of `a-z A-Z 0-9 . _ -`, and not `.` or `..`. */
export const KAFKA_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** The longest RabbitMQ queue or exchange name, in UTF-8 bytes (an AMQP short string). */
export const RABBITMQ_NAME_MAX_BYTES = 255;

/** Kafka topics of the schema registry's storage (Apicurio KafkaSQL); Confluent's `_schemas` starts with `_`. */
export const REGISTRY_STORAGE_TOPICS: ReadonlySet<string> = new Set([
  "kafkasql-journal",
  "kafkasql-snapshots",
  "registry-events",
]);

// C0 controls, DEL and C1 controls: RabbitMQ strips CR/LF, logs and management UIs mangle the others.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why `name` is not a valid Kafka topic name (a sentence naming the rule), or `undefined` when it is one.
 */
export function kafkaTopicNameProblem(name: string): string | undefined {
  if (KAFKA_TOPIC_NAME.test(name) && name !== "." && name !== "..") return undefined;
  if (name.length > 249) return "a Kafka topic name has at most 249 characters";
  return 'a Kafka topic name is 1 to 249 of the characters a-z A-Z 0-9 . _ - (and not "." or "..")';
}

/**
 * Why `name` is not a RabbitMQ queue or exchange name the broker keeps as it is (a sentence naming the rule), or
 * `undefined`: it must be non-empty, at most {@link RABBITMQ_NAME_MAX_BYTES} bytes of UTF-8, hold no control
 * character (RabbitMQ strips CR and LF) and be well-formed Unicode (a lone surrogate would be written as U+FFFD).
 */
export function rabbitmqNameProblem(name: string): string | undefined {
  if (name === "") return "a RabbitMQ name must not be empty";
  if (CONTROL.test(name)) return "a RabbitMQ name must not hold control characters (RabbitMQ strips CR and LF)";
  const utf8 = Buffer.from(name, "utf8");
  // A lone surrogate is written as U+FFFD: the name would not survive the trip to the broker.
  if (utf8.toString("utf8") !== name) return "a RabbitMQ name must be well-formed Unicode (no lone surrogates)";
  if (utf8.length > RABBITMQ_NAME_MAX_BYTES) {
    return `a RabbitMQ name has at most ${RABBITMQ_NAME_MAX_BYTES} bytes of UTF-8`;
  }
  return undefined;
}

/** {@link kafkaTopicNameProblem} or {@link rabbitmqNameProblem}, by broker. */
export function nameProblem(broker: NameBroker, name: string): string | undefined {
  return broker === "kafka" ? kafkaTopicNameProblem(name) : rabbitmqNameProblem(name);
}

/**
 * Whether a (valid) name is a broker's or the registry's own object, which clients must never read, write or
 * administer: Kafka topics starting with `_` (`__consumer_offsets`, `__transaction_state`, `_schemas`, ...) and the
 * registry's storage topics ({@link REGISTRY_STORAGE_TOPICS}); RabbitMQ queues and exchanges starting with `amq.`
 * (server-named queues, the predefined exchanges).
 */
export function isInternalName(broker: NameBroker, name: string): boolean {
  if (broker === "kafka") return name.startsWith("_") || REGISTRY_STORAGE_TOPICS.has(name);
  return name.startsWith("amq.");
}

const DERIVED = /^(.+)\.(?:dlq|retry\.\d+)$/;

/**
 * The queue or topic a retry or dead-letter object is named after, or `undefined` when `name` is not such a name:
 * `orders.dlq` and `orders.retry.5000` (RabbitMQ queues of `declareQueue`, Kafka topics of a subscription) come
 * from `orders`. One suffix at a time: `orders.retry.5000.dlq` comes from `orders.retry.5000`.
 */
export function derivedFrom(name: string): string | undefined {
  return DERIVED.exec(name)?.[1];
}
