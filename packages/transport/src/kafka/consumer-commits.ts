// Offset commits of a Kafka subscription with a group: each partition up to its lowest unsettled offset.
import type { Consumer } from "kafkajs";
import type { TransportLogger } from "../logger.js";
import type { OffsetTracker } from "./offset-tracker.js";

/** Settlements within this window share one commit. */
const COMMIT_DEBOUNCE_MS = 100;
const COMMIT_RETRY_MS = 1_000;

/** What {@link OffsetCommitter} needs from its subscription. */
export interface CommitHost {
  /** The group that commits; undefined for an ephemeral subscription, which never commits. */
  readonly groupId: string | undefined;
  readonly tracker: OffsetTracker;
  /** For log lines: the topic and the kafkajs group. */
  readonly fields: Readonly<Record<string, unknown>>;
  readonly logger: TransportLogger;
  consumer(): Consumer | undefined;
  closing(): boolean;
}

/**
 * Commits what the {@link OffsetTracker} says is committable, at most every 100 ms (debounced), again a second after
 * a failure, and on close ({@link flush}). Does nothing for an ephemeral subscription.
 */
export class OffsetCommitter {
  readonly #host: CommitHost;
  #timer: NodeJS.Timeout | undefined;
  #committing: Promise<void> | undefined;

  constructor(host: CommitHost) {
    this.#host = host;
  }

  /** A commit soon (unless one is scheduled, the subscription is closing, or it has no group). */
  schedule(delayMs = COMMIT_DEBOUNCE_MS): void {
    if (this.#host.groupId === undefined || this.#host.closing() || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.commit();
    }, delayMs);
    this.#timer.unref();
  }

  /** Cancels a scheduled commit (close commits itself, with {@link flush}). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Commits every partition whose committable offset moved (a group only). kafkajs confirms through its
   * COMMIT_OFFSETS event, which updates the tracker; whatever is still due afterwards (a failure, a consumer
   * between crash and restart, settlements meanwhile) is tried again.
   */
  commit(): Promise<void> {
    const consumer = this.#host.consumer();
    const { tracker } = this.#host;
    if (this.#host.groupId === undefined || !consumer) return Promise.resolve();
    if (this.#committing) return this.#committing;
    const due = tracker.dueCommits();
    if (due.length === 0) return Promise.resolve();
    const committing = (async () => {
      try {
        await consumer.commitOffsets(due.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
      } catch (error) {
        this.#host.logger.warn({ ...this.#host.fields, err: error }, "Kafka offset commit failed");
      }
    })();
    this.#committing = committing.finally(() => {
      this.#committing = undefined;
      const still = tracker.dueCommits();
      if (still.length === 0) return;
      const failed = due.some((d) =>
        still.some((s) => s.topic === d.topic && s.partition === d.partition && s.offset === d.offset),
      );
      this.schedule(failed ? COMMIT_RETRY_MS : COMMIT_DEBOUNCE_MS);
    });
    return this.#committing;
  }

  /** On close: commits what is due, in up to three rounds (settlements may land meanwhile). */
  async flush(): Promise<void> {
    if (this.#host.groupId === undefined) return;
    for (let round = 0; round < 3 && this.#host.tracker.dueCommits().length > 0; round++) {
      await this.#committing;
      await this.commit();
    }
  }
}
