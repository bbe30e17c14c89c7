import type { Admin } from "kafkajs";
import type { Gauge, Registry } from "prom-client";
import { type KafkaConnection, kafkaAdminAccess } from "../kafka/connection.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { type GaugeSample, registerScrapedGauge } from "./scraped-gauge.js";

/** Name of the gauge {@link registerKafkaLagMetrics} registers. */
export const KAFKA_CONSUMER_LAG = "kronos_kafka_consumer_lag";

/** Options of {@link registerKafkaLagMetrics}. */
export interface KafkaLagMetricsOptions {
  /** The app's registry. */
  readonly registry: Registry;
  /**
   * The consumer groups to report: a list, or a function called at every scrape (for groups of subscriptions
   * opened later).
   */
  readonly groups: readonly string[] | (() => readonly string[]);
  /** Time limit of one read, in ms; past it the scrape goes on with the last values. Default: 2000. */
  readonly timeoutMs?: number;
  /** Where a failed read is logged (warn). Default: nowhere. */
  readonly logger?: TransportLogger;
}

type LagLabel = "group" | "topic" | "partition";

/**
 * Registers in `options.registry` the gauge `kronos_kafka_consumer_lag{group,topic,partition}`: for every partition
 * on which a group has committed an offset, the topic's end offset (high watermark) minus that offset, i.e. the
 * records written that the group has not consumed yet (never negative). Partitions where the group committed
 * nothing have no series. A group reads its retry topics too (`<topic>.retry.<ms>`), so they have series of their
 * own.
 *
 * The figures are read when the registry is collected (on scrape) through the connection's admin client: one
 * OffsetFetch per group (every topic it committed on) and one ListOffsets per topic, bounded by `timeoutMs`. A read
 * that fails or times out is logged, leaves the last values and drops the admin client (the next read connects
 * afresh); it never fails the scrape. A topic deleted since the group committed on it is left out (one deleted
 * between the listing and the offsets request fails that one read). Never throws.
 */
export function registerKafkaLagMetrics(connection: KafkaConnection, options: KafkaLagMetricsOptions): Gauge<LagLabel> {
  const access = kafkaAdminAccess(connection);
  const groups = options.groups;
  return registerScrapedGauge<LagLabel>({
    registry: options.registry,
    name: KAFKA_CONSUMER_LAG,
    help: "Records not yet consumed by a consumer group: the partition's end offset minus the group's committed offset.",
    labelNames: ["group", "topic", "partition"],
    timeoutMs: options.timeoutMs ?? 2000,
    logger: options.logger ?? silentLogger,
    read: async () => readLag(await access.admin(), typeof groups === "function" ? groups() : groups),
    onFailure: () => access.reset(),
  });
}

/** Each group's committed offsets against the end offsets of the topics it committed on. */
async function readLag(admin: Admin, groups: readonly string[]): Promise<Array<GaugeSample<LagLabel>>> {
  const committed = await Promise.all(
    [...new Set(groups)].map(async (group) => ({ group, topics: await admin.fetchOffsets({ groupId: group }) })),
  );
  // A group keeps its commits on a topic deleted since: leave such topics out rather than fail the read on them.
  const existing = new Set(await admin.listTopics());
  const topics = [...new Set(committed.flatMap(({ topics }) => topics.map(({ topic }) => topic)))].filter((topic) =>
    existing.has(topic),
  );
  const ends = new Map(
    await Promise.all(topics.map(async (topic) => [topic, await endOffsets(admin, topic)] as const)),
  );
  const samples: Array<GaugeSample<LagLabel>> = [];
  for (const { group, topics: positions } of committed) {
    for (const { topic, partitions } of positions) {
      for (const { partition, offset } of partitions) {
        const end = ends.get(topic)?.get(partition);
        const next = Number(offset);
        if (end === undefined || next < 0) continue;
        samples.push({
          labels: { group, topic, partition: String(partition) },
          value: Math.max(0, end - next),
        });
      }
    }
  }
  return samples;
}

/** End offset of each partition of `topic`. */
async function endOffsets(admin: Admin, topic: string): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
}
