import kafkajs, { type Admin } from "kafkajs";

// kafkajs is CommonJS: Node cannot see its enums as named ESM exports.
const { ConfigResourceTypes } = kafkajs;

import { describeError, TransportError } from "../errors.js";
import { type KafkaConnection, withKafkaAdmin } from "../kafka/connection.js";
import { kafkaErrorCode, kafkaErrorMeaning, kafkaErrorTypes } from "../kafka/errors.js";
import { kafkaTopicNameProblem } from "../names.js";

/** Kafka `cleanup.policy` values {@link createTopic} accepts. */
export type TopicCleanupPolicy = "delete" | "compact" | "compact,delete";

/** Options of {@link createTopic}. What is left out takes the broker's default and is not compared. */
export interface TopicOptions {
  /** Number of partitions (≥ 1). Default: the broker's `num.partitions`. */
  partitions?: number;
  /** Replicas per partition (≥ 1, at most the number of brokers). Default: the broker's default. */
  replicationFactor?: number;
  /** `retention.ms` (≥ -1; -1 keeps forever). Default: the broker's. */
  retentionMs?: number;
  /** `cleanup.policy`. Default: the broker's ("delete"). */
  cleanupPolicy?: TopicCleanupPolicy;
}

/** One partition of a topic: its low and high watermarks (high is the end offset, the next offset written). */
export interface TopicPartitionInfo {
  partition: number;
  low: number;
  high: number;
}

/** A consumer group's position on one topic. */
export interface ConsumerGroupLag {
  groupId: string;
  partitions: Array<{
    partition: number;
    /** Committed offset (the next one the group reads), or null when the group committed none there. */
    committed: number | null;
    /** End offset minus committed offset; null when nothing is committed on that partition. */
    lag: number | null;
  }>;
  /** Sum of the partitions' known lag. */
  totalLag: number;
}

/** A topic as {@link describeTopics} reports it. */
export interface TopicInfo {
  name: string;
  /** Replicas per partition (of partition 0). */
  replicationFactor: number;
  partitions: TopicPartitionInfo[];
  config: {
    /** `retention.ms`; -1 keeps forever; null when the broker did not report it. */
    retentionMs: number | null;
    /** `cleanup.policy`, e.g. "delete" or "compact,delete"; null when the broker did not report it. */
    cleanupPolicy: string | null;
  };
  /** Every consumer group that committed an offset on this topic, sorted by id. */
  consumerGroups: ConsumerGroupLag[];
}

/** Time limit of one administrative operation (they retry inside: a new topic's leader takes a moment). */
const KAFKA_ADMIN_TIMEOUT_MS = 30_000;
const CLEANUP_POLICIES: readonly string[] = ["delete", "compact", "compact,delete", "delete,compact"];

function invalid(message: string): TransportError {
  return new TransportError("INVALID_OPTIONS", message);
}

function checkTopicName(name: string): void {
  const problem = kafkaTopicNameProblem(name);
  if (problem !== undefined) throw invalid(`topic ${JSON.stringify(name)} is not a valid name: ${problem}`);
}

/**
 * Validates {@link TopicOptions} for topic `name`; throws `INVALID_OPTIONS` naming the topic and the option.
 * Exported for the unit tests and for callers that want to check before calling.
 */
export function validateTopicOptions(name: string, options: TopicOptions): void {
  checkTopicName(name);
  const integer = (option: string, value: number | undefined, min: number) => {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min)) {
      throw invalid(`topic "${name}": ${option} must be an integer ≥ ${min}, got ${String(value)}`);
    }
  };
  integer("partitions", options.partitions, 1);
  integer("replicationFactor", options.replicationFactor, 1);
  integer("retentionMs", options.retentionMs, -1);
  if (options.cleanupPolicy !== undefined && !CLEANUP_POLICIES.includes(options.cleanupPolicy)) {
    throw invalid(
      `topic "${name}": cleanupPolicy must be "delete", "compact" or "compact,delete", got ${JSON.stringify(options.cleanupPolicy)}`,
    );
  }
}

async function topicExists(admin: Admin, name: string): Promise<boolean> {
  return (await admin.listTopics()).includes(name);
}

const LEADER_WAIT_MS = 10_000;

function leadersNotYetKnown(error: unknown): boolean {
  const types = kafkaErrorTypes(error);
  return types.has("UNKNOWN_TOPIC_OR_PARTITION") || types.has("LEADER_NOT_AVAILABLE");
}

/** Polls the topic's metadata until every partition has a leader; false when it still has none after 10 s. */
async function waitForLeaders(admin: Admin, name: string): Promise<boolean> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  while (Date.now() < deadline) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [name] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return true;
    } catch (error) {
      if (!leadersNotYetKnown(error)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function topicConfigs(admin: Admin, topics: string[]): Promise<Map<string, Map<string, string>>> {
  const result = new Map<string, Map<string, string>>();
  if (topics.length === 0) return result;
  const answer = await admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({
      type: ConfigResourceTypes.TOPIC,
      name,
      configNames: ["retention.ms", "cleanup.policy"],
    })),
  });
  for (const resource of answer.resources) {
    const entries = new Map<string, string>();
    for (const entry of resource.configEntries) entries.set(entry.configName, entry.configValue);
    result.set(resource.resourceName, entries);
  }
  return result;
}

const normalizePolicy = (policy: string) =>
  policy
    .split(",")
    .map((part) => part.trim())
    .sort()
    .join(",");

/** What differs between existing topic `name` and `options`, one phrase per setting; empty when equivalent. */
async function topicDifferences(admin: Admin, name: string, options: TopicOptions): Promise<string[]> {
  const differences: string[] = [];
  const metadata = await admin.fetchTopicMetadata({ topics: [name] });
  const partitions = metadata.topics[0]?.partitions ?? [];
  if (options.partitions !== undefined && partitions.length !== options.partitions) {
    differences.push(`partitions is ${partitions.length} (wanted ${options.partitions})`);
  }
  const replicas = partitions[0]?.replicas.length ?? 0;
  if (options.replicationFactor !== undefined && replicas !== options.replicationFactor) {
    differences.push(`replication factor is ${replicas} (wanted ${options.replicationFactor})`);
  }
  if (options.retentionMs !== undefined || options.cleanupPolicy !== undefined) {
    const config = (await topicConfigs(admin, [name])).get(name) ?? new Map<string, string>();
    const retention = config.get("retention.ms");
    if (options.retentionMs !== undefined && retention !== String(options.retentionMs)) {
      differences.push(`retention.ms is ${retention ?? "unknown"} (wanted ${options.retentionMs})`);
    }
    const policy = config.get("cleanup.policy");
    if (
      options.cleanupPolicy !== undefined &&
      (policy === undefined || normalizePolicy(policy) !== normalizePolicy(options.cleanupPolicy))
    ) {
      differences.push(`cleanup.policy is ${policy ?? "unknown"} (wanted ${options.cleanupPolicy})`);
    }
  }
  return differences;
}

/**
 * Creates topic `name` with `options` and waits for its partition leaders. Resolves `"created"`, or `"exists"` when
 * the topic is already there with the same settings (only the options given are compared: partitions,
 * replication factor, `retention.ms`, `cleanup.policy`). Throws a {@link TransportError}: `INVALID_OPTIONS` for an
 * invalid name or option, or one the cluster refuses (e.g. a replication factor above its broker count);
 * `TOPIC_CONFLICT` naming the topic and each differing setting when it exists with other settings;
 * `KAFKA_UNAVAILABLE`, `TIMEOUT` (30 s) or `CLOSED` when Kafka cannot be used.
 */
export async function createTopic(
  connection: KafkaConnection,
  name: string,
  options: TopicOptions,
): Promise<"created" | "exists"> {
  validateTopicOptions(name, options);
  try {
    return await createWithAdmin(connection, name, options);
  } catch (error) {
    if (!(error instanceof TransportError && error.cause instanceof LeadersPending)) throw error;
    // kafkajs' admin client asks for the metadata of every topic it has looked at; one deleted since (by anyone)
    // makes each later refresh of that client fail, so the leaders are awaited with a new client (the failure
    // above dropped the old one).
    const ready = await withAdmin(connection, `Kafka creation of topic "${name}"`, (admin) =>
      waitForLeaders(admin, name),
    );
    if (ready) return "created";
    throw error;
  }
}

/** Raised inside {@link createWithAdmin} when the topic was created and kafkajs could not see its leaders. */
class LeadersPending extends Error {
  constructor(name: string, cause: unknown) {
    super(`topic "${name}" was created; its leaders are not known yet`, { cause });
  }
}

function createWithAdmin(
  connection: KafkaConnection,
  name: string,
  options: TopicOptions,
): Promise<"created" | "exists"> {
  return withAdmin(connection, `Kafka creation of topic "${name}"`, async (admin) => {
    if (!(await topicExists(admin, name))) {
      const configEntries: Array<{ name: string; value: string }> = [];
      if (options.retentionMs !== undefined)
        configEntries.push({ name: "retention.ms", value: `${options.retentionMs}` });
      if (options.cleanupPolicy !== undefined)
        configEntries.push({ name: "cleanup.policy", value: options.cleanupPolicy });
      let created: boolean;
      try {
        created = await admin.createTopics({
          waitForLeaders: true,
          topics: [
            {
              topic: name,
              numPartitions: options.partitions ?? -1,
              replicationFactor: options.replicationFactor ?? -1,
              configEntries,
            },
          ],
        });
      } catch (error) {
        // The creation went through but kafkajs could not see the leaders (seen on a loaded machine): wait for them
        // with a fresh admin client below instead of failing a created topic.
        if (leadersNotYetKnown(error)) throw new LeadersPending(name, error);
        if (kafkaErrorCode(error, "admin") === "INVALID_OPTIONS") {
          const types = [...kafkaErrorTypes(error)].join(", ");
          throw new TransportError(
            "INVALID_OPTIONS",
            `Kafka refused topic "${name}" (${types}): ${describeError(error)}`,
            {
              cause: error,
            },
          );
        }
        throw error;
      }
      if (created) return "created";
      // Someone else created it between the check and the request: compare like any existing topic.
    }
    const differences = await topicDifferences(admin, name, options);
    if (differences.length > 0) {
      throw new TransportError(
        "TOPIC_CONFLICT",
        `topic "${name}" already exists with different settings: ${differences.join("; ")}`,
      );
    }
    return "exists";
  });
}

/**
 * Deletes topic `name`. Resolves `"deleted"` (Kafka finishes the deletion in the background: re-creating the same
 * name at once may fail for a moment) or `"not-found"`. Throws `INVALID_OPTIONS` for an invalid name,
 * `KAFKA_UNAVAILABLE`, `TIMEOUT` or `CLOSED` when Kafka cannot be used.
 */
export async function deleteTopic(connection: KafkaConnection, name: string): Promise<"deleted" | "not-found"> {
  checkTopicName(name);
  return withAdmin(connection, `Kafka deletion of topic "${name}"`, async (admin) => {
    if (!(await topicExists(admin, name))) return "not-found";
    try {
      await admin.deleteTopics({ topics: [name] });
    } catch (error) {
      if (kafkaErrorMeaning(error) === "not-found") return "not-found";
      throw error;
    }
    return "deleted";
  });
}

/**
 * Describes topics with live figures: partitions with low/high watermarks, replication factor, `retention.ms` and
 * `cleanup.policy`, and every consumer group that committed offsets on them with its lag per partition (end
 * offset minus committed offset). `names` defaults to every topic but Kafka's internal ones (`__*`); names that
 * do not exist are left out. Sorted by name. Throws `KAFKA_UNAVAILABLE`, `TIMEOUT` or `CLOSED`.
 */
export async function describeTopics(connection: KafkaConnection, names?: string[]): Promise<TopicInfo[]> {
  // A topic deleted between the listing and the description is the set of topics changing, not Kafka failing: list
  // again (a few times: the new listing skips it) rather than report Kafka unavailable. Each attempt has an admin
  // client of its own: kafkajs keeps asking about every topic a client ever asked about, so a vanished one would
  // make the shared client's later requests fail, and the other topics of the attempt look vanished too.
  for (let attempt = 1; ; attempt++) {
    let described: { topics: TopicInfo[]; complete: boolean };
    try {
      described = await withKafkaAdmin(
        connection,
        "Kafka topic description",
        KAFKA_ADMIN_TIMEOUT_MS,
        (admin) => describeListed(admin, names),
        { throwaway: true },
      );
    } catch (error) {
      if (attempt >= VANISHED_ATTEMPTS || !isTopicSetChanging(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      continue;
    }
    if (described.complete || attempt >= VANISHED_ATTEMPTS) return described.topics;
  }
}

const VANISHED_ATTEMPTS = 5;

/**
 * The topic's partition offsets, or undefined when Kafka has no partitions for it: deleted since it was listed
 * (other clients create and delete topics all the time), or created a moment ago and without leaders yet. kafkajs
 * reports that as UNKNOWN_TOPIC_OR_PARTITION or, when its metadata has no partitions for the topic, as a
 * TypeError (possibly wrapped by its retrier). Such a topic is left out of the description, like a name that does not exist; any other failure
 * passes through.
 */
function isVanishedTopic(error: unknown): boolean {
  return kafkaErrorMeaning(error) === "not-found" || hasTypeError(error);
}

/**
 * Whether a description failed because the set of topics changed under it: a vanished topic, or
 * NOT_LEADER_FOR_PARTITION, which Kafka 4 answers for the partitions of a topic whose deletion is under way (its
 * metadata still lists them). Worth describing again from a fresh listing; a leader that stays away still fails the
 * last attempt. (On Node 24 the gateway's topic-churn test hit that window every run; on Node 20 it rarely did.)
 */
function isTopicSetChanging(error: unknown): boolean {
  return isVanishedTopic(error) || kafkaErrorTypes(error).has("NOT_LEADER_FOR_PARTITION");
}

/**
 * Whether a TypeError is in `error` or its causes: kafkajs reads a vanished topic's partitions out of metadata that
 * no longer has them (`Cannot destructure property 'partitions' of ... undefined`), and its retrier wraps that in
 * `KafkaJSNumberOfRetriesExceeded` / `KafkaJSNonRetriableError`.
 */
function hasTypeError(error: unknown, depth = 0): boolean {
  if (error instanceof TypeError) return true;
  if (depth > 5 || error === null || typeof error !== "object") return false;
  const { cause, originalError } = error as { cause?: unknown; originalError?: unknown };
  return hasTypeError(cause, depth + 1) || hasTypeError(originalError, depth + 1);
}

async function topicOffsets(
  admin: Admin,
  topic: string,
): Promise<Awaited<ReturnType<Admin["fetchTopicOffsets"]>> | undefined> {
  try {
    return await admin.fetchTopicOffsets(topic);
  } catch (error) {
    if (isVanishedTopic(error)) return undefined;
    throw error;
  }
}

/** Groups whose committed offsets are fetched at once: a broker with hundreds of groups is asked in waves. */
const OFFSET_FETCH_WAVE = 16;

/**
 * The offsets each group has committed, on whatever topics it committed on. Asking without a topic list keeps each
 * answer to the group's own topics (with a list of every topic, a broker with hundreds of groups and topics timed
 * out); the waves keep hundreds of requests from queuing behind each other.
 */
async function committedOffsets(
  admin: Admin,
  groupIds: readonly string[],
): Promise<Array<{ groupId: string; topics: Awaited<ReturnType<Admin["fetchOffsets"]>> }>> {
  const result: Array<{ groupId: string; topics: Awaited<ReturnType<Admin["fetchOffsets"]>> }> = [];
  for (let start = 0; start < groupIds.length; start += OFFSET_FETCH_WAVE) {
    const wave = groupIds.slice(start, start + OFFSET_FETCH_WAVE);
    result.push(
      ...(await Promise.all(wave.map(async (groupId) => ({ groupId, topics: await admin.fetchOffsets({ groupId }) })))),
    );
  }
  return result;
}

/**
 * Describes the listed topics (or `names`, those of them that exist). `complete` is false when a topic vanished on
 * the way: it is left out, and so may be others whose requests it disturbed (the caller lists again).
 */
async function describeListed(
  admin: Admin,
  names: string[] | undefined,
): Promise<{ topics: TopicInfo[]; complete: boolean }> {
  const existing = new Set(await admin.listTopics());
  let topics = (names === undefined ? [...existing].filter((name) => !name.startsWith("__")) : names)
    .filter((name, index, all) => existing.has(name) && all.indexOf(name) === index)
    .sort();
  if (topics.length === 0) return { topics: [], complete: true };
  const offsetsByTopic = await Promise.all(topics.map((topic) => topicOffsets(admin, topic)));
  const offsets = offsetsByTopic.filter((o) => o !== undefined);
  const complete = offsets.length === topics.length;
  topics = topics.filter((_, index) => offsetsByTopic[index] !== undefined);
  if (topics.length === 0) return { topics: [], complete };
  const [metadata, configs, groups] = await Promise.all([
    admin.fetchTopicMetadata({ topics }),
    topicConfigs(admin, topics),
    admin.listGroups(),
  ]);
  const committed = await committedOffsets(
    admin,
    groups.groups.map(({ groupId }) => groupId),
  );
  const described = topics.map((name, index): TopicInfo => {
    const partitions = (offsets[index] ?? [])
      .map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }))
      .sort((a, b) => a.partition - b.partition);
    const config = configs.get(name);
    const retention = config?.get("retention.ms");
    const consumerGroups: ConsumerGroupLag[] = [];
    for (const group of committed) {
      const positions = group.topics.find((t) => t.topic === name)?.partitions ?? [];
      if (!positions.some((p) => Number(p.offset) >= 0)) continue;
      const lags = partitions.map(({ partition, high }) => {
        const offset = Number(positions.find((p) => p.partition === partition)?.offset ?? -1);
        return offset < 0
          ? { partition, committed: null, lag: null }
          : { partition, committed: offset, lag: Math.max(0, high - offset) };
      });
      consumerGroups.push({
        groupId: group.groupId,
        partitions: lags,
        totalLag: lags.reduce((sum, p) => sum + (p.lag ?? 0), 0),
      });
    }
    consumerGroups.sort((a, b) => a.groupId.localeCompare(b.groupId));
    return {
      name,
      replicationFactor: metadata.topics.find((t) => t.name === name)?.partitions[0]?.replicas.length ?? 0,
      partitions,
      config: {
        retentionMs: retention === undefined ? null : Number(retention),
        cleanupPolicy: config?.get("cleanup.policy") ?? null,
      },
      consumerGroups,
    };
  });
  return { topics: described, complete };
}

/** Number of brokers in the cluster (for capping replication factors). Throws like {@link describeTopics}. */
export async function kafkaBrokerCount(connection: KafkaConnection): Promise<number> {
  return withAdmin(connection, "Kafka cluster description", async (admin) => {
    return (await admin.describeCluster()).brokers.length;
  });
}

/** {@link withKafkaAdmin} with the 30 s bound of topic administration. */
function withAdmin<T>(connection: KafkaConnection, what: string, operation: (admin: Admin) => Promise<T>): Promise<T> {
  return withKafkaAdmin(connection, what, KAFKA_ADMIN_TIMEOUT_MS, operation);
}
