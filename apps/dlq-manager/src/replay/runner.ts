import type { RegistrySerde } from "@kronos/contracts";
import {
  type AmqpConnectionManager,
  type AmqpPublisher,
  amqpTableFromJson,
  createAmqpPublisher,
  createKafkaPublisher,
  describeError,
  type KafkaConnection,
  type KafkaPublisher,
  type RawHeader,
  TransportError,
  type TransportLogger,
} from "@kronos/transport";
import type { Pool } from "../db/database.js";
import { REPLAY_HEADERS } from "../store/ingest.js";
import { groupedValues, lastValues } from "../store/raw-headers.js";
import { ReplayCheck, VALIDATION_PROBLEM } from "./check.js";
import {
  completeJob,
  defaultTarget,
  type ItemOutcome,
  nextItems,
  type PendingItem,
  type ReplayTarget,
  runningJobs,
  settleItems,
} from "./jobs.js";

/** What the runner needs. */
export interface ReplayRunnerOptions {
  readonly pool: Pool;
  readonly kafka: KafkaConnection;
  readonly amqp: AmqpConnectionManager;
  readonly serde: RegistrySerde;
  readonly logger: TransportLogger;
  /** How often it looks for jobs to run (new, resumed, or left running by a previous process), ms. Default 500. */
  readonly pollMs?: number;
  /** Wait after a retriable send failure before trying the same message again, ms. Default 1000. */
  readonly retryMs?: number;
}

/**
 * Most items a job sends at once (their confirms awaited together, then marked in one transaction): a crash after
 * the confirms and before the mark sends at most this many again.
 */
export const MAX_BATCH = 256;

/** Items a job at `ratePerSecond` sends at once: a tenth of a second's worth, 1 to {@link MAX_BATCH}. */
export function batchSize(ratePerSecond: number): number {
  return Math.max(1, Math.min(MAX_BATCH, Math.floor(ratePerSecond / 10)));
}

// The first key of the advisory locks that keep a replay job on one instance (the second is the job id).
const JOB_LOCK = 7_134_202;

// Headers that describe the failure or the retry path, not the message: a replayed copy starts afresh without them.
const FAILURE_HEADERS =
  /^(x-kronos-dl-.*|x-kronos-replay-.*|x-kronos-original-.*|x-kronos-attempt|x-kronos-first-failure|x-kronos-last-error.*|x-death|x-first-death-.*|x-last-death-.*|x-delivery-count|__connect\.errors\..*|kafka_dlt-.*)$/;
// Delivery headers that stand for AMQP properties: sent as properties again.
const AMQP_PROPERTY_HEADERS = new Set(["message-id", "event-type", "content-type", "correlation-id", "reply-to"]);

/**
 * The headers of a replayed copy: the original's in order, byte for byte (repeated ones repeated), without failure
 * bookkeeping, plus the replay marker.
 */
export function replayHeaders(item: PendingItem, jobId: string): RawHeader[] {
  return [
    ...item.headers.filter(([name]) => !FAILURE_HEADERS.test(name)),
    [REPLAY_HEADERS.jobId, Buffer.from(jobId)],
    [REPLAY_HEADERS.count, Buffer.from(String(item.replayCount + 1))],
    [REPLAY_HEADERS.deadLetterId, Buffer.from(item.deadLetterId)],
  ];
}

/**
 * The AMQP header table of a replayed copy sent to RabbitMQ, without failure bookkeeping, plus the replay marker (as
 * text). With the original's typed table (custody stored it from a RabbitMQ source, migration 005) every header keeps
 * its AMQP type: a byte array stays a byte array, a number a number, a timestamp a timestamp, tables and arrays
 * nested. Otherwise (a Kafka dead letter, or one stored before) the headers go as text, without those that stand for
 * AMQP properties (`message-id`, ...: sent as properties). Throws a `TypeError` naming the header when the stored
 * table is not one custody wrote.
 */
export function replayAmqpHeaders(item: PendingItem, jobId: string): Record<string, unknown> {
  if (item.amqpHeaders === null) {
    const table: Record<string, string> = {};
    for (const [name, value] of Object.entries(lastValues(replayHeaders(item, jobId)))) {
      if (!AMQP_PROPERTY_HEADERS.has(name)) table[name] = value.toString("utf8");
    }
    return table;
  }
  const table: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(amqpTableFromJson(item.amqpHeaders))) {
    if (!FAILURE_HEADERS.test(name)) table[name] = value;
  }
  table[REPLAY_HEADERS.jobId] = jobId;
  table[REPLAY_HEADERS.count] = String(item.replayCount + 1);
  table[REPLAY_HEADERS.deadLetterId] = item.deadLetterId;
  return table;
}

/**
 * Runs replay jobs in the background, each at its rate: it takes the next pending items ({@link batchSize}: one at
 * a time below 20/s, a tenth of a second's worth above), checks and sends them together (their confirms pipelined),
 * waits for the broker's confirmations, and only then marks them `sent` (and their dead letters `replayed`), all
 * in one transaction. Guarantee: **never marked replayed without a broker ack; a duplicate, never a loss** — a crash
 * (or a failed mark) after the acks leaves the batch pending, and the job, still `running` in PostgreSQL, resumes at
 * it after a restart (at most {@link MAX_BATCH} sent again). A retriable send failure (broker down, timeout) keeps
 * its item pending and tries it again with the next batch (after the rest of its batch: order is kept only without
 * failures); a final one (no such destination, unroutable) marks it `failed` and gives the dead letter back (`new`).
 */
export class ReplayRunner {
  readonly #options: ReplayRunnerOptions;
  readonly #active = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #kafkaPublisher: KafkaPublisher | undefined;
  #amqpPublisher: AmqpPublisher | undefined;
  #sleepers = new Set<() => void>();

  constructor(options: ReplayRunnerOptions) {
    this.#options = options;
  }

  start(): void {
    const tick = () => {
      if (this.#closed) return;
      this.wake().finally(() => {
        if (!this.#closed) this.#timer = setTimeout(tick, this.#options.pollMs ?? 500);
      });
    };
    tick();
  }

  /** Looks for jobs to run now (after a job was created or resumed). */
  async wake(): Promise<void> {
    try {
      for (const job of await runningJobs(this.#options.pool)) {
        if (this.#closed || this.#active.has(job.id)) continue;
        const loop = this.#runLocked(job).catch((error: unknown) => {
          this.#options.logger.error(
            { job: job.id, err: error },
            "replay job loop failed; it resumes on the next poll",
          );
        });
        this.#active.set(job.id, loop);
        void loop.finally(() => this.#active.delete(job.id));
      }
    } catch (error) {
      this.#options.logger.warn({ err: error }, "cannot look for replay jobs");
    }
  }

  /** Stops taking items; the send in flight of each job finishes (and is marked) first. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const wake of this.#sleepers) wake();
    await Promise.all(this.#active.values());
    await Promise.all([this.#kafkaPublisher?.close(), this.#amqpPublisher?.close()]);
  }

  /**
   * Runs a job while holding its PostgreSQL advisory lock on a connection of its own, so one instance runs it at a
   * time; the lock goes with the connection when a process dies, and another instance (or the restarted one) takes
   * the job over on its next poll.
   */
  async #runLocked(job: Awaited<ReturnType<typeof runningJobs>>[number]): Promise<void> {
    const client = await this.#options.pool.connect();
    try {
      const locked = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1, $2::int) AS ok", [
        JOB_LOCK,
        job.id,
      ]);
      if (!locked.rows[0]?.ok) return;
      try {
        await this.#run(job);
      } finally {
        await client.query("SELECT pg_advisory_unlock($1, $2::int)", [JOB_LOCK, job.id]);
      }
    } finally {
      client.release();
    }
  }

  async #run(job: Awaited<ReturnType<typeof runningJobs>>[number]): Promise<void> {
    const { pool, logger } = this.#options;
    const interval = 1000 / job.rate;
    const size = batchSize(job.rate);
    // One check per run: its verdicts are cached per schema id, and the destination's schema may change between runs.
    const checker = new ReplayCheck(this.#options.serde);
    let nextAt = Date.now();
    while (!this.#closed) {
      const { state, items } = await nextItems(pool, job.id, size);
      if (state !== "running") return;
      if (items.length === 0) {
        await completeJob(pool, job.id, job.dryRun ? await this.#dryRunReport(job.id) : undefined);
        logger.info({ job: job.id }, "replay job completed");
        return;
      }
      await this.#sleep(nextAt - Date.now());
      if (this.#closed) return;
      nextAt = Math.max(Date.now(), nextAt) + interval * items.length;
      // The batch's sends are in flight together (their confirms pipelined); each is marked only once confirmed.
      const outcomes = await Promise.all(items.map((item) => this.#replay(job, checker, item)));
      await settleItems(
        pool,
        job,
        outcomes.filter((outcome): outcome is ItemOutcome => outcome !== "retry"),
      );
      // A retriable failure keeps its item pending: it is sent again with the next batch, after a pause.
      if (outcomes.includes("retry")) await this.#sleep(this.#options.retryMs ?? 1000);
    }
  }

  /** Checks and sends one item; `retry` when the send failed for a reason that may pass (the item stays pending). */
  async #replay(
    job: Awaited<ReturnType<typeof runningJobs>>[number],
    checker: ReplayCheck,
    item: PendingItem,
  ): Promise<ItemOutcome | "retry"> {
    const target = job.target ?? defaultTarget(item);
    const check = await checker
      .check(item.body, item.schemaId, target?.broker === "kafka" ? target.topic : undefined)
      .catch((error: unknown): { ok: false; problem: string } => ({
        ok: false,
        problem: `check failed: ${describeError(error)}`,
      }));
    if (job.dryRun) {
      const problem = !check.ok ? check.problem : target === undefined ? "no known destination" : undefined;
      return {
        item,
        state: problem === undefined ? "skipped" : "failed",
        detail: problem ?? "dry run: would send",
        target,
      };
    }
    if (target === undefined) return { item, state: "skipped", detail: "no known destination: give a target" };
    if (!check.ok) return { item, state: "skipped", detail: check.problem, target };
    try {
      await this.#send(target, item, job.id);
    } catch (error) {
      if (error instanceof TransportError && error.retriable) {
        this.#options.logger.warn(
          { job: job.id, deadLetter: item.deadLetterId, err: error },
          "replay send failed; trying again",
        );
        return "retry";
      }
      return { item, state: "failed", detail: describeError(error), target };
    }
    return { item, state: "sent", detail: "confirmed by the broker", target };
  }

  async #send(target: ReplayTarget, item: PendingItem, jobId: string): Promise<void> {
    const raw = replayHeaders(item, jobId);
    if (target.broker === "kafka") {
      this.#kafkaPublisher ??= createKafkaPublisher(this.#options.kafka, { logger: this.#options.logger });
      await this.#kafkaPublisher.publish({
        topic: target.topic,
        key: item.key,
        value: item.body,
        headers: groupedValues(raw),
      });
      return;
    }
    const headers = lastValues(raw);
    this.#amqpPublisher ??= createAmqpPublisher(this.#options.amqp, { logger: this.#options.logger });
    const text = (name: string) => headers[name]?.toString("utf8");
    const amqpHeaders = replayAmqpHeaders(item, jobId);
    const optional = (name: string, property: string) => {
      const value = text(name);
      return value === undefined ? {} : { [property]: value };
    };
    await this.#amqpPublisher.publish({
      exchange: target.exchange,
      routingKey: target.routingKey,
      content: item.body,
      messageId: text("message-id") ?? `dlq-replay-${item.deadLetterId}`,
      headers: amqpHeaders,
      ...optional("event-type", "type"),
      ...optional("content-type", "contentType"),
      ...optional("correlation-id", "correlationId"),
    });
  }

  async #dryRunReport(jobId: string) {
    // invalid: the failed ones whose problem is today's validation (the others fail decoding or schema resolution).
    const counts = await this.#options.pool.query<{ passed: number; failed: number; invalid: number }>(
      `SELECT count(*) FILTER (WHERE state = 'skipped')::int AS passed, count(*) FILTER (WHERE state = 'failed')::int AS failed,
              count(*) FILTER (WHERE state = 'failed' AND starts_with(detail, $2))::int AS invalid
         FROM replay_items WHERE job_id = $1`,
      [jobId, VALIDATION_PROBLEM],
    );
    return counts.rows[0];
  }

  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#sleepers.add(done);
    });
  }
}
