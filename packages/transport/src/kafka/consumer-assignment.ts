// Partition assignment of a Kafka subscription: what a group join keeps, forgets and positions, and where each
// newly assigned partition starts.
import type { Admin, Consumer, IMemberAssignment } from "kafkajs";
import type { TransportLogger } from "../logger.js";
import type { OffsetCommitter } from "./consumer-commits.js";
import { type FlowControl, partitionKey } from "./consumer-flow.js";
import type { OffsetTracker } from "./offset-tracker.js";

interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/** Where a newly assigned partition starts, and what the group had committed there. */
interface PartitionStart extends TopicPartition {
  readonly offset: string;
  readonly committed: string | undefined;
  /** Taken from `startOffsets` (which then no longer applies to this partition). */
  readonly fromStartOffsets: boolean;
}

/** What {@link PartitionAssignment} needs from its subscription. */
export interface AssignmentHost {
  /** The subscription's topic (its retry topics are the other topics assigned). */
  readonly topic: string;
  readonly groupId: string | undefined;
  /** The kafkajs group: `groupId`, or the ephemeral id. */
  readonly memberOf: string;
  readonly from: "latest" | "earliest";
  readonly startOffsets: ReadonlyMap<number, string>;
  readonly tracker: OffsetTracker;
  readonly flow: FlowControl;
  readonly committer: OffsetCommitter;
  readonly logger: TransportLogger;
  consumer(): Consumer | undefined;
  closing(): boolean;
  withAdmin<T>(what: string, operation: (admin: Admin) => Promise<T>): Promise<T>;
  /** The first assignment is positioned: `ready` may resolve. */
  assigned(): void;
}

/**
 * Every newly assigned partition is sought explicitly: `startOffsets` (first assignment only), else the committed
 * offset, else `from` resolved to a concrete offset, each clamped to the partition's watermarks (so kafkajs never
 * resets an out-of-range offset itself). Partitions revoked in a rebalance are forgotten; partitions kept are
 * sought back to where this member was.
 */
export class PartitionAssignment {
  readonly #host: AssignmentHost;
  #generation = 0;
  readonly #startPositions = new Map<number, string>();
  readonly #startOffsetsUsed = new Set<number>();

  constructor(host: AssignmentHost) {
    this.#host = host;
  }

  /** The offset each assigned partition of the topic started from (see `KafkaSubscription.startPositions`). */
  startPositions(): ReadonlyMap<number, string> {
    return new Map([...this.#startPositions].sort(([a], [b]) => a - b));
  }

  /**
   * A (re)join: forget revoked partitions, seek kept ones back to where this member was (kafkajs would restart
   * them from the committed offset, or for an ephemeral group from `from` again, skipping what was fetched), and
   * position new ones. Runs synchronously inside kafkajs' join, before its first fetch, so pausing here holds
   * every fetch until the new partitions are sought.
   */
  onGroupJoin(assignment: IMemberAssignment): void {
    const host = this.#host;
    if (host.closing()) {
      // A join that completed during close (kafkajs cannot stop a join in progress): leave again.
      void host
        .consumer()
        ?.disconnect()
        .catch(() => {});
      return;
    }
    const generation = ++this.#generation;
    host.flow.positioning = true;
    host.flow.apply();
    const current = new Set<string>();
    const fresh: TopicPartition[] = [];
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        current.add(partitionKey(topic, partition));
        const position = host.tracker.position(topic, partition);
        if (position === undefined) fresh.push({ topic, partition });
        else this.#seek(topic, partition, position);
      }
    }
    for (const { topic, partition } of host.tracker.assigned()) {
      if (current.has(partitionKey(topic, partition))) continue;
      host.tracker.revoke(topic, partition);
      if (topic === host.topic) this.#startPositions.delete(partition);
      host.flow.stopWaiting(topic, partition);
    }
    host.logger.debug(
      { topic: host.topic, group: host.memberOf, assignment, fresh: fresh.length },
      "Kafka subscription assigned",
    );
    void this.#position(generation, fresh);
  }

  /** Positions newly assigned partitions (retrying until it works or a newer join supersedes it). */
  async #position(generation: number, fresh: TopicPartition[]): Promise<void> {
    const host = this.#host;
    for (let attempt = 1; ; attempt++) {
      try {
        const starts = fresh.length === 0 ? [] : await this.#startsOf(fresh);
        if (generation !== this.#generation || host.closing()) return;
        for (const start of starts) {
          host.tracker.assign(start.topic, start.partition, start.offset, start.committed);
          this.#seek(start.topic, start.partition, start.offset);
          if (start.topic === host.topic) this.#startPositions.set(start.partition, start.offset);
          if (start.fromStartOffsets) this.#startOffsetsUsed.add(start.partition);
        }
        host.flow.positioning = false;
        host.flow.apply();
        host.committer.schedule();
        host.assigned();
        return;
      } catch (error) {
        if (generation !== this.#generation || host.closing()) return;
        host.logger.warn(
          { err: error, topic: host.topic, group: host.memberOf, attempt },
          "Kafka subscription could not position its partitions; trying again",
        );
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * attempt)).unref());
      }
    }
  }

  /**
   * Where each new partition starts: `startOffsets` (first assignment of a topic partition), the group's committed
   * offset, else the default (topic: `from`; retry topics: earliest for a group, whose copies must not be missed
   * after a crash, latest for an ephemeral subscription, which only wants its own new copies); clamped to the
   * partition's low/high watermarks.
   */
  async #startsOf(fresh: TopicPartition[]): Promise<PartitionStart[]> {
    const host = this.#host;
    const topics = [...new Set(fresh.map((tp) => tp.topic))];
    const groupId = host.groupId;
    return host.withAdmin(`Kafka offsets of "${host.topic}" for group "${host.memberOf}"`, async (admin) => {
      const [committed, watermarks] = await Promise.all([
        groupId === undefined ? Promise.resolve([]) : admin.fetchOffsets({ groupId, topics }),
        Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) }))),
      ]);
      return fresh.map(({ topic, partition }) => {
        const marks = watermarks.find((w) => w.topic === topic)?.offsets.find((p) => p.partition === partition);
        const low = BigInt(marks?.low ?? "0");
        const high = BigInt(marks?.high ?? "0");
        const stored = committed.find((c) => c.topic === topic)?.partitions.find((p) => p.partition === partition);
        const committedOffset = stored !== undefined && /^\d+$/.test(stored.offset) ? stored.offset : undefined;
        const requested = topic === host.topic ? host.startOffsets.get(partition) : undefined;
        const fromStartOffsets = requested !== undefined && !this.#startOffsetsUsed.has(partition);
        let start: bigint;
        if (fromStartOffsets) start = BigInt(requested);
        else if (committedOffset !== undefined) start = BigInt(committedOffset);
        else if (topic === host.topic) start = host.from === "earliest" ? low : high;
        else start = groupId === undefined ? high : low;
        if (start < low) start = low;
        if (start > high) start = high;
        return { topic, partition, offset: start.toString(), committed: committedOffset, fromStartOffsets };
      });
    });
  }

  #seek(topic: string, partition: number, offset: string): void {
    try {
      this.#host.consumer()?.seek({ topic, partition, offset });
    } catch (error) {
      this.#host.logger.debug({ err: error, topic, partition }, "Kafka seek skipped: the consumer is not running");
    }
  }
}
