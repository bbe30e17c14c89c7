import { type ConsumePolicy, consumePolicy } from "../consume/policy.js";
import { TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import type { ConsumeMetrics } from "../metrics/consume.js";
import { kafkaTopicNameProblem } from "../names.js";

/** Options of `createKafkaSubscription`. */
export interface KafkaSubscriptionOptions {
  readonly topic: string;
  /**
   * Consumer group. With one, offsets are committed (up to the lowest unsettled offset of each partition), so
   * another member or a restart continues where the group left off. Without one, the subscription is an
   * ephemeral tail: a unique throwaway group that never commits and is deleted on close.
   */
  readonly groupId?: string;
  /** Where a group with no committed offsets, or an ephemeral tail, starts. Default "latest". */
  readonly from?: "latest" | "earliest";
  /**
   * Resume exactly: the next offset to read per partition (e.g. from a client's Last-Event-ID). Overrides
   * committed offsets and `from` for those partitions, the first time each is assigned; clamped to what the
   * partition still holds.
   */
  readonly startOffsets?: ReadonlyMap<number, string>;
  /** Most unsettled deliveries at once (≥ 1); at the limit the subscription stops fetching until one is settled. */
  readonly maxInFlight: number;
  /** Kafka client id, and the `consumer` of dead letters written by an ephemeral subscription. */
  readonly consumerName: string;
  /** Attempts before a retry becomes a dead letter with reason `max-attempts`. Default 5 (1 without retry tiers). */
  readonly maxAttempts?: number;
  /**
   * Retry tiers in ms, in any order (the consume policy sorts them); one retry topic `<topic>.retry.<tier>` each.
   * `[]`: no retries and no retry topics (`maxAttempts` is then 1: `retry()` dead-letters at once). Default
   * [1000, 5000, 30000, 300000].
   */
  readonly retryTiersMs?: readonly number[];
  /** Deliveries not settled within this many ms are released (see `ConsumePolicyOptions.leaseMs`). Default none. */
  readonly leaseMs?: number;
  /** Where the subscription records its consumer metrics (`createConsumeMetrics`). Default: nothing recorded. */
  readonly metrics?: ConsumeMetrics;
  readonly logger?: TransportLogger;
}

/**
 * Checks {@link KafkaSubscriptionOptions} and returns the consume policy they make; throws `INVALID_OPTIONS`
 * naming the topic and the option (the policy's settings as `consumePolicy` checks them).
 */
export function validateSubscriptionOptions(options: KafkaSubscriptionOptions): ConsumePolicy {
  const invalid = (message: string) =>
    new TransportError("INVALID_OPTIONS", `Kafka subscription to "${options.topic}": ${message}`);
  if (typeof options.topic !== "string" || kafkaTopicNameProblem(options.topic) !== undefined) {
    throw invalid("topic must be a valid Kafka topic name");
  }
  if (!Number.isSafeInteger(options.maxInFlight) || options.maxInFlight < 1) {
    throw invalid(`maxInFlight must be an integer ≥ 1, got ${String(options.maxInFlight)}`);
  }
  if (options.groupId !== undefined && options.groupId.length === 0) throw invalid("groupId must not be empty");
  if (options.consumerName.length === 0) throw invalid("consumerName must not be empty");
  if (options.from !== undefined && options.from !== "latest" && options.from !== "earliest") {
    throw invalid(`from must be "latest" or "earliest", got ${JSON.stringify(options.from)}`);
  }
  for (const [partition, offset] of options.startOffsets ?? []) {
    if (!Number.isSafeInteger(partition) || partition < 0 || !/^\d{1,19}$/.test(offset)) {
      throw invalid(`startOffsets must map partitions (≥ 0) to offsets (decimal, ≥ 0), got ${partition} → ${offset}`);
    }
  }
  return consumePolicy(options, invalid);
}
