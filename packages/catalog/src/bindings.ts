/**
 * The manifest's broker bindings read into settings: a Kafka topic's (`bindings.kafka`), an exchange's
 * (`bindings.amqp`) and the queues bound to it, each problem reported through `issue` naming the entry. Used by
 * `loadCatalogSync`.
 */
import { isObject } from "./avro.js";
import type {
  CleanupPolicy,
  Destination,
  ExchangeType,
  KafkaTopicSettings,
  QueueSpec,
  RabbitExchangeSettings,
} from "./types.js";

/** Reports one problem at `entry` (a path in the manifest). */
export type Report = (entry: string, message: string) => void;

const EXCHANGE_TYPES: readonly ExchangeType[] = ["direct", "topic", "fanout", "headers"];

function isPositiveInt(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}

/** "Kafka topic X" or "exchange X", for messages. */
export function describe(destination: Destination): string {
  return destination.broker === "kafka" ? `Kafka topic ${destination.name}` : `exchange ${destination.name}`;
}

/** A destination's settings as one comparable string (two events naming one destination must agree). */
export function settingsOf(destination: Destination): string {
  if (destination.broker === "kafka") {
    const { topic, partitions, replicas, cleanupPolicy, retentionMs } = destination;
    return JSON.stringify({ topic, partitions, replicas, cleanupPolicy, retentionMs });
  }
  const { name, type, durable, autoDelete, vhost } = destination;
  return JSON.stringify({ name, type, durable, autoDelete, vhost });
}

/** Reads a message's `bindings.kafka` (topic, partitions, replicas, cleanup, retention). */
export function kafkaSettings(raw: unknown, address: string | undefined, entry: string, issue: Report) {
  const at = `${entry}.bindings.kafka`;
  if (!isObject(raw)) {
    issue(at, "must be an object");
    return undefined;
  }
  let ok = true;
  const topic = typeof raw.topic === "string" ? raw.topic : address;
  if (topic === undefined) {
    issue(at, "topic is missing");
    ok = false;
  } else if (address !== undefined && topic !== address) {
    issue(at, `topic ${topic} differs from the channel address ${address}`);
  }
  if (!isPositiveInt(raw.partitions)) {
    issue(at, "partitions is missing or not a positive integer");
    ok = false;
  }
  if (!isPositiveInt(raw.replicas)) {
    issue(at, "replicas is missing or not a positive integer");
    ok = false;
  }
  const config = isObject(raw.topicConfiguration) ? raw.topicConfiguration : {};
  const policyValue = config["cleanup.policy"];
  const policy = typeof policyValue === "string" ? [policyValue] : policyValue;
  if (
    !Array.isArray(policy) ||
    policy.length === 0 ||
    policy.some((p) => p !== "delete" && p !== "compact") ||
    new Set(policy).size !== policy.length
  ) {
    issue(at, 'topicConfiguration["cleanup.policy"] is missing or not a list of delete and/or compact');
    ok = false;
  }
  const retention = config["retention.ms"];
  if (retention !== undefined && (!Number.isInteger(retention) || (retention as number) < -1)) {
    issue(at, 'topicConfiguration["retention.ms"] must be an integer ≥ -1 (-1 keeps forever)');
    ok = false;
  } else if (retention === undefined && Array.isArray(policy) && policy.includes("delete")) {
    issue(at, 'topicConfiguration["retention.ms"] is missing (required with cleanup.policy delete)');
    ok = false;
  }
  if (!ok || topic === undefined) return undefined;
  const settings: KafkaTopicSettings = {
    topic,
    partitions: raw.partitions as number,
    replicas: raw.replicas as number,
    cleanupPolicy: policy as CleanupPolicy[],
    retentionMs: typeof retention === "number" ? retention : null,
  };
  return settings;
}

/** Reads a message's `bindings.amqp` exchange settings. */
export function exchangeSettings(
  raw: unknown,
  address: string | undefined,
  entry: string,
  issue: Report,
): RabbitExchangeSettings | undefined {
  const at = `${entry}.bindings.amqp`;
  if (!isObject(raw)) {
    issue(at, "must be an object");
    return undefined;
  }
  if (raw.is !== "routingKey") {
    issue(at, 'is must be "routingKey" (channels are exchanges; queues go in x-kronos-queues)');
    return undefined;
  }
  const exchange = isObject(raw.exchange) ? raw.exchange : undefined;
  if (exchange === undefined) {
    issue(at, "exchange is missing");
    return undefined;
  }
  let ok = true;
  if (typeof exchange.name !== "string" || exchange.name === "") {
    issue(at, "exchange.name is missing");
    ok = false;
  } else if (address !== undefined && exchange.name !== address) {
    issue(at, `exchange.name ${exchange.name} differs from the channel address ${address}`);
  }
  if (!EXCHANGE_TYPES.includes(exchange.type as ExchangeType)) {
    issue(at, `exchange.type must be one of ${EXCHANGE_TYPES.join(", ")}`);
    ok = false;
  }
  if (typeof exchange.durable !== "boolean") {
    issue(at, "exchange.durable is missing (true or false)");
    ok = false;
  }
  if (exchange.autoDelete !== undefined && typeof exchange.autoDelete !== "boolean") {
    issue(at, "exchange.autoDelete must be true or false");
    ok = false;
  }
  if (exchange.vhost !== undefined && typeof exchange.vhost !== "string") {
    issue(at, "exchange.vhost must be a string");
    ok = false;
  }
  if (!ok) return undefined;
  return {
    name: exchange.name as string,
    type: exchange.type as ExchangeType,
    durable: exchange.durable as boolean,
    autoDelete: exchange.autoDelete === true,
    vhost: typeof exchange.vhost === "string" ? exchange.vhost : "/",
  };
}

/** Reads the queues declared on an exchange binding. */
export function queueSpecs(
  raw: unknown,
  exchangeType: ExchangeType | undefined,
  entry: string,
  issue: Report,
): QueueSpec[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issue(`${entry}.x-kronos-queues`, "must be a list of queues");
    return [];
  }
  const queues: QueueSpec[] = [];
  for (const [index, q] of raw.entries()) {
    const at = `${entry}.x-kronos-queues[${index}]`;
    if (!isObject(q)) {
      issue(at, "must be a queue object");
      continue;
    }
    let ok = true;
    const fail = (message: string) => {
      issue(at, message);
      ok = false;
    };
    if (typeof q.name !== "string" || q.name === "") fail("name is missing");
    if (q.type !== "classic" && q.type !== "quorum") fail("type must be classic or quorum");
    if (q.durable !== undefined && typeof q.durable !== "boolean") fail("durable must be true or false");
    if (q.type === "quorum" && q.durable === false) fail("quorum queues are always durable");
    const keys = q.bindingKeys ?? [];
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) fail("bindingKeys must be a list of strings");
    else if (keys.length === 0 && (exchangeType === "direct" || exchangeType === "topic")) {
      fail(`bindingKeys is empty: the queue would get nothing from a ${exchangeType} exchange`);
    }
    const maxPriority = q.maxPriority ?? null;
    if (maxPriority !== null) {
      if (!Number.isInteger(maxPriority) || (maxPriority as number) < 1 || (maxPriority as number) > 255) {
        fail("maxPriority must be an integer from 1 to 255");
      } else if (q.type === "quorum") fail("maxPriority applies to classic queues only");
    }
    const deliveryLimit = q.deliveryLimit ?? null;
    if (deliveryLimit !== null) {
      if (!isPositiveInt(deliveryLimit)) fail("deliveryLimit must be a positive integer");
      else if (q.type !== "quorum") fail("deliveryLimit applies to quorum queues only");
    }
    let deadLetter: QueueSpec["deadLetter"] = null;
    if (q.deadLetter !== undefined) {
      const dl = q.deadLetter;
      if (!isObject(dl) || typeof dl.exchange !== "string" || dl.exchange === "") {
        fail("deadLetter.exchange is missing");
      } else if (
        (dl.routingKey !== undefined && typeof dl.routingKey !== "string") ||
        (dl.queue !== undefined && typeof dl.queue !== "string")
      ) {
        fail("deadLetter.routingKey and deadLetter.queue must be strings");
      } else {
        deadLetter = {
          exchange: dl.exchange,
          routingKey: typeof dl.routingKey === "string" ? dl.routingKey : null,
          queue: typeof dl.queue === "string" ? dl.queue : null,
        };
      }
    }
    if (!ok) continue;
    queues.push({
      name: q.name as string,
      type: q.type as QueueSpec["type"],
      durable: q.durable !== false,
      bindingKeys: keys as string[],
      maxPriority: maxPriority as number | null,
      deliveryLimit: deliveryLimit as number | null,
      deadLetter,
    });
  }
  return queues;
}

/** Adds `queues` to a destination's, reporting a queue declared twice with different settings. */
export function mergeQueues(
  destination: { queues: QueueSpec[] },
  queues: QueueSpec[],
  entry: string,
  issue: Report,
): void {
  for (const queue of queues) {
    const existing = destination.queues.find((q) => q.name === queue.name);
    if (existing === undefined) destination.queues.push(queue);
    else if (existing !== queue && JSON.stringify(existing) !== JSON.stringify(queue)) {
      issue(`${entry}.x-kronos-queues`, `queue ${queue.name} is declared again with different settings`);
    }
  }
}
