// The deliveries of a Kafka subscription: each record handed to the handler with its settle state machine, the
// slot it frees when settled, and records released to be handed over again.
import type { DeliveryHandler } from "../consume/delivery.js";
import type { ConsumePolicy } from "../consume/policy.js";
import { retryFailedDelivery, Settlement, type SettlementContext, SettlementLedger } from "../consume/settlement.js";
import type { TransportLogger } from "../logger.js";
import type { ConsumeRecorder } from "../metrics/consume.js";
import type { OffsetCommitter } from "./consumer-commits.js";
import type { FlowControl } from "./consumer-flow.js";
import { type HeldRecord, type KafkaCopies, kafkaDelivery, kafkaSettlement } from "./consumer-settlement.js";
import type { OffsetTracker } from "./offset-tracker.js";

/** What {@link KafkaDeliveries} needs from its subscription. */
export interface DeliveriesHost {
  readonly topic: string;
  /** The kafkajs group: what retried copies name in `x-kronos-retry-for`. */
  readonly memberOf: string;
  /** Who gives up on a dead letter: the group, or the consumer name of an ephemeral subscription. */
  readonly consumer: string;
  readonly handler: DeliveryHandler;
  readonly policy: ConsumePolicy;
  readonly recorder: ConsumeRecorder;
  readonly copies: KafkaCopies;
  readonly tracker: OffsetTracker;
  readonly flow: FlowControl;
  readonly committer: OffsetCommitter;
  readonly logger: TransportLogger;
  closing(): boolean;
  partitionCount(): number;
}

/**
 * Hands records to the handler as deliveries settled by the shared state machine (`consume/settlement.ts`). A
 * settled delivery frees its slot and lets the committable offset move; a released one is handed over again
 * (`redelivered: true`) once the subscription is not paused, keeping its place in `maxInFlight`.
 */
export class KafkaDeliveries {
  readonly #host: DeliveriesHost;
  readonly #context: SettlementContext;
  /** Deliveries handed out and not settled: given back (counted as released) on close. */
  readonly #ledger = new SettlementLedger();
  /** Retry and dead-letter copies under way: close waits for them before committing. */
  readonly #operations = new Set<Promise<unknown>>();
  readonly #redeliveries: HeldRecord[] = [];
  #redeliveryScheduled = false;

  constructor(host: DeliveriesHost) {
    this.#host = host;
    this.#context = {
      policy: host.policy,
      recorder: host.recorder,
      track: (operation) => {
        const tracked = operation.catch(() => {});
        this.#operations.add(tracked);
        void tracked.finally(() => this.#operations.delete(tracked));
      },
    };
  }

  /** Calls the handler with a new delivery of `record`; never awaits it (a failure: `retryFailedDelivery`). */
  deliver(record: HeldRecord, redelivered: boolean): void {
    const host = this.#host;
    const settlement = new Settlement(
      kafkaSettlement(record, {
        topic: host.topic,
        memberOf: host.memberOf,
        consumer: host.consumer,
        copies: host.copies,
        closing: () => host.closing(),
        partitionCount: () => host.partitionCount(),
        settled: (held) => this.#settled(held),
        release: (held) => this.#release(held),
      }),
      this.#context,
      record.attempt,
      `the delivery ${record.topic}[${record.partition}]@${record.offset}`,
      this.#ledger,
    );
    const delivery = kafkaDelivery(record, redelivered, settlement);
    const failed = (error: unknown) =>
      retryFailedDelivery(delivery, error, host.logger, { topic: host.topic, position: delivery.position });
    settlement.handedOver();
    try {
      const result: unknown = host.handler(delivery);
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  }

  /** Hands released records over again, on a fresh stack (after `release()` resolved). */
  scheduleRedelivery(): void {
    if (this.#redeliveryScheduled || this.#redeliveries.length === 0) return;
    this.#redeliveryScheduled = true;
    const { flow, tracker } = this.#host;
    setImmediate(() => {
      this.#redeliveryScheduled = false;
      while (!this.#host.closing() && !flow.userPaused && this.#redeliveries.length > 0) {
        const record = this.#redeliveries.shift() as HeldRecord;
        if (!tracker.isUnsettled(record.topic, record.partition, record.offset)) {
          // Its partition was revoked: the member that has it now delivers it from the committed offset.
          flow.inFlight--;
          flow.apply();
          continue;
        }
        this.deliver(record, true);
      }
    });
  }

  /** Resolves once the copies under way are confirmed or failed. */
  async settling(): Promise<void> {
    await Promise.all([...this.#operations]);
  }

  /** On close: whatever is unsettled goes back (never committed: the group's next member gets it again). */
  abandonAll(): void {
    this.#ledger.abandonAll();
  }

  /** A delivery is done with: free its place, let the committable offset move. */
  #settled(record: HeldRecord): void {
    const { flow, tracker, committer } = this.#host;
    flow.inFlight--;
    flow.wake();
    if (tracker.settle(record.topic, record.partition, record.offset)) committer.schedule();
    flow.apply();
  }

  #release(record: HeldRecord): void {
    this.#redeliveries.push(record);
    this.scheduleRedelivery();
  }
}
