/**
 * Which offset a consumer group may commit, per topic-partition, when deliveries are settled out of order.
 *
 * Kafka stores one committed offset per partition: "everything before this is done". A subscription hands records
 * out in offset order but they are settled in any order (ack 3 before 1), so the offset it may commit is the
 * lowest offset handed out and not yet settled, or one past the last handed out when everything is settled.
 * Committing anything further would let a crash skip an unsettled record; committing less only costs duplicates.
 *
 * Pure bookkeeping, no I/O: the subscription (consumer.ts) feeds it assignments, hand-overs, settlements and
 * confirmed commits, and asks it what to commit and whether a fetched record was already handed out.
 */

/** A commit to make: the next offset the group should read on that partition. */
export interface DueCommit {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** What {@link OffsetTracker.classify} says about a fetched record. */
export type RecordStatus =
  /** The partition is not assigned (revoked, or not yet positioned): leave the record alone. */
  | "unassigned"
  /** Below the next expected offset: handed out before (a re-fetch after a rebalance or seek); skip it. */
  | "seen"
  /** Not handed out yet. */
  | "new";

interface PartitionState {
  /** Offsets handed out and not settled yet, ascending (records are handed out in offset order). */
  readonly unsettled: bigint[];
  /** One past the highest offset handed out, or the start position while nothing was. */
  next: bigint;
  /** The offset the group has committed, as far as we know; undefined when it has none. */
  committed: bigint | undefined;
}

/** Offsets are 64-bit; decimal strings on the wire. Throws a RangeError for anything but a non-negative integer. */
function parseOffset(offset: string): bigint {
  if (!/^\d+$/.test(offset)) throw new RangeError(`not a Kafka offset: ${JSON.stringify(offset)}`);
  return BigInt(offset);
}

/** Index of `value` in ascending `list`, or where it would be inserted. */
function search(list: readonly bigint[], value: bigint): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((list[middle] as bigint) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Tracks handed-out and settled offsets per topic-partition and answers which offset may be committed. A partition
 * is known from {@link assign} until {@link revoke}; everything about unknown partitions is ignored, so late
 * settlements of records from a revoked partition never produce a commit for a partition another member owns.
 */
export class OffsetTracker {
  readonly #partitions = new Map<string, Map<number, PartitionState>>();

  #state(topic: string, partition: number): PartitionState | undefined {
    return this.#partitions.get(topic)?.get(partition);
  }

  /**
   * Starts tracking a partition the subscription now reads from `start` (the next offset it will fetch).
   * `committed` is the group's committed offset there, if it has one: when it differs from `start` (a group
   * without commits, or a client resuming elsewhere), the start itself is due for commit. Re-assigning a tracked
   * partition starts it afresh.
   */
  assign(topic: string, partition: number, start: string, committed: string | undefined): void {
    let byPartition = this.#partitions.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      this.#partitions.set(topic, byPartition);
    }
    byPartition.set(partition, {
      unsettled: [],
      next: parseOffset(start),
      committed: committed === undefined ? undefined : parseOffset(committed),
    });
  }

  /** Forgets a partition (revoked in a rebalance): its records are no longer ours to commit. */
  revoke(topic: string, partition: number): void {
    const byPartition = this.#partitions.get(topic);
    byPartition?.delete(partition);
    if (byPartition?.size === 0) this.#partitions.delete(topic);
  }

  /** Whether the partition is tracked (assigned and positioned). */
  isAssigned(topic: string, partition: number): boolean {
    return this.#state(topic, partition) !== undefined;
  }

  /** Every tracked partition. */
  assigned(): Array<{ topic: string; partition: number }> {
    const list: Array<{ topic: string; partition: number }> = [];
    for (const [topic, byPartition] of this.#partitions) {
      for (const partition of byPartition.keys()) list.push({ topic, partition });
    }
    return list;
  }

  /** Whether a fetched record is new, was handed out already, or belongs to a partition we do not track. */
  classify(topic: string, partition: number, offset: string): RecordStatus {
    const state = this.#state(topic, partition);
    if (!state) return "unassigned";
    return parseOffset(offset) < state.next ? "seen" : "new";
  }

  /**
   * Records that `offset` was handed out (to the handler, or settled at once by the caller). Offsets must come in
   * ascending order per partition; a gap (compaction, transaction markers) is fine. Returns false, changing
   * nothing, for an untracked partition or an offset below the next expected one.
   */
  hand(topic: string, partition: number, offset: string): boolean {
    const state = this.#state(topic, partition);
    const value = parseOffset(offset);
    if (!state || value < state.next) return false;
    state.unsettled.push(value);
    state.next = value + 1n;
    return true;
  }

  /** Whether `offset` was handed out and is not settled yet (on a tracked partition). */
  isUnsettled(topic: string, partition: number, offset: string): boolean {
    const state = this.#state(topic, partition);
    if (!state) return false;
    const value = parseOffset(offset);
    return state.unsettled[search(state.unsettled, value)] === value;
  }

  /**
   * Marks `offset` settled. Returns whether the partition's committable offset moved (so a commit is worth
   * scheduling); false for an untracked partition or an offset that is not unsettled.
   */
  settle(topic: string, partition: number, offset: string): boolean {
    const state = this.#state(topic, partition);
    if (!state) return false;
    const value = parseOffset(offset);
    const index = search(state.unsettled, value);
    if (state.unsettled[index] !== value) return false;
    state.unsettled.splice(index, 1);
    return index === 0;
  }

  /** The offset the group may commit on a partition: the lowest unsettled one, else one past the last handed out. */
  committable(topic: string, partition: number): string | undefined {
    const state = this.#state(topic, partition);
    if (!state) return undefined;
    return (state.unsettled[0] ?? state.next).toString();
  }

  /** The next offset the subscription expects on a partition (where to seek it back to after a rejoin). */
  position(topic: string, partition: number): string | undefined {
    return this.#state(topic, partition)?.next.toString();
  }

  /** Number of offsets handed out and not settled on tracked partitions. */
  unsettledCount(): number {
    let count = 0;
    for (const byPartition of this.#partitions.values()) {
      for (const state of byPartition.values()) count += state.unsettled.length;
    }
    return count;
  }

  /** The commits to make: every tracked partition whose committable offset differs from the committed one. */
  dueCommits(): DueCommit[] {
    const due: DueCommit[] = [];
    for (const [topic, byPartition] of this.#partitions) {
      for (const [partition, state] of byPartition) {
        const committable = state.unsettled[0] ?? state.next;
        if (committable !== state.committed) due.push({ topic, partition, offset: committable.toString() });
      }
    }
    return due;
  }

  /** Records a commit Kafka accepted (ignored for untracked partitions). */
  committed(topic: string, partition: number, offset: string): void {
    const state = this.#state(topic, partition);
    if (state) state.committed = parseOffset(offset);
  }
}
