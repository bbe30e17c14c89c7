import type { AmqpTableJson, RawHeader } from "@kronos/transport";
import { inTransaction, type Pool } from "../db/database.js";
import { dlqError } from "../errors.js";
import { type Filter, filterSql } from "../store/filter.js";
import { storedRawHeaders } from "../store/raw-headers.js";

/** Where a replay sends: a Kafka topic, or a RabbitMQ exchange and routing key. */
export type ReplayTarget =
  | { readonly broker: "kafka"; readonly topic: string }
  | { readonly broker: "rabbitmq"; readonly exchange: string; readonly routingKey: string };

/**
 * The name a replay to `target` produces to, as `produce:<glob>` rights match it: the Kafka topic, the RabbitMQ
 * exchange, or for the default exchange (`""`) the queue its routing key names.
 */
export function targetName(target: ReplayTarget): string {
  if (target.broker === "kafka") return target.topic;
  return target.exchange === "" ? target.routingKey : target.exchange;
}

/** Where a dead letter goes back to by default: its original destination; undefined when the model does not know it. */
export function defaultTarget(
  item: Pick<PendingItem, "destination" | "originalBroker" | "sourceBroker" | "routingKey">,
): ReplayTarget | undefined {
  if (item.destination === null) return undefined;
  const broker = item.originalBroker ?? item.sourceBroker;
  return broker === "kafka"
    ? { broker, topic: item.destination }
    : { broker, exchange: item.destination, routingKey: item.routingKey ?? "" };
}

/** What `POST /replays` asks for. */
export interface ReplayRequest {
  readonly ids?: readonly string[] | undefined;
  readonly filter?: Filter | undefined;
  readonly target?: ReplayTarget | undefined;
  readonly ratePerSecond: number;
  readonly dryRun: boolean;
  /**
   * Without a `target`: called with each original destination of the selection once it is resolved, before the job
   * is stored; what it throws (a 403) refuses the whole job and nothing is stored.
   */
  readonly checkOriginal?: ((target: ReplayTarget) => void) | undefined;
}

/** A job's lifecycle: running → completed; running ⇄ paused; running | paused → cancelled. */
export type JobState = "running" | "paused" | "cancelled" | "completed";

/** Most dead letters one job may select. */
export const MAX_SELECTION = 10_000;

/**
 * Creates a replay job in one transaction: resolves the selection (`ids`: every one must exist and be `new` or
 * `replayed`; `filter`: the matching ones in those states, at most {@link MAX_SELECTION}), stores the job and one item
 * per dead letter, marks them `replaying` (not for a dry run), and audits the request. Throws `EMPTY_SELECTION`,
 * `DEAD_LETTER_NOT_FOUND` (naming the missing ids), `INVALID_STATE` (naming ids held by another job or discarded),
 * `INVALID_FILTER`. Nothing is sent here: the runner does it.
 */
export async function createJob(pool: Pool, request: ReplayRequest, actor: string): Promise<string> {
  if ((request.ids === undefined) === (request.filter === undefined)) {
    throw dlqError("EMPTY_SELECTION", "give one of ids, filter or group");
  }
  return inTransaction(pool, async (client) => {
    let ids: string[];
    if (request.ids !== undefined) {
      ids = [...new Set(request.ids)];
      const found = await client.query<{ id: string; state: string }>(
        "SELECT id::text, state FROM dead_letters WHERE id = ANY($1::bigint[]) FOR UPDATE",
        [ids],
      );
      const states = new Map(found.rows.map((row) => [row.id, row.state]));
      const missing = ids.filter((id) => !states.has(id));
      if (missing.length > 0) {
        throw dlqError("DEAD_LETTER_NOT_FOUND", `no dead letter has id ${missing.slice(0, 20).join(", ")}`);
      }
      const held = ids.filter((id) => states.get(id) === "replaying" || states.get(id) === "discarded");
      if (held.length > 0) {
        throw dlqError(
          "INVALID_STATE",
          `dead letters ${held.slice(0, 20).join(", ")} are being replayed or discarded: they cannot be replayed now`,
        );
      }
    } else {
      const { where, params } = filterSql(request.filter ?? {});
      params.push(MAX_SELECTION);
      const found = await client.query<{ id: string }>(
        `SELECT id::text FROM dead_letters WHERE ${where} AND state IN ('new', 'replayed')
          ORDER BY id LIMIT $${params.length} FOR UPDATE`,
        params,
      );
      ids = found.rows.map((row) => row.id);
    }
    if (ids.length === 0)
      throw dlqError("EMPTY_SELECTION", "the selection matches no dead letter that can be replayed");
    if (request.target === undefined && request.checkOriginal !== undefined) {
      const originals = await client.query<{
        source_broker: "kafka" | "rabbitmq";
        original_broker: "kafka" | "rabbitmq" | null;
        destination: string;
        routing_key: string | null;
      }>(
        `SELECT DISTINCT source_broker, original_broker, destination, routing_key FROM dead_letters
          WHERE id = ANY($1::bigint[]) AND destination IS NOT NULL`,
        [ids],
      );
      for (const row of originals.rows) {
        const target = defaultTarget({
          destination: row.destination,
          originalBroker: row.original_broker,
          sourceBroker: row.source_broker,
          routingKey: row.routing_key,
        });
        if (target !== undefined) request.checkOriginal(target);
      }
    }

    const selection = request.ids !== undefined ? { ids } : { filter: request.filter };
    const job = await client.query<{ id: string }>(
      `INSERT INTO replay_jobs (state, selection, target, rate_per_second, dry_run, actor, total)
       VALUES ('running', $1, $2, $3, $4, $5, $6) RETURNING id::text`,
      [
        JSON.stringify(selection),
        request.target === undefined ? null : JSON.stringify(request.target),
        request.ratePerSecond,
        request.dryRun,
        actor,
        ids.length,
      ],
    );
    const jobId = job.rows[0]?.id as string;
    await client.query(
      `INSERT INTO replay_items (job_id, position, dead_letter_id)
       SELECT $1, ordinality - 1, id FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, ordinality)`,
      [jobId, ids],
    );
    if (!request.dryRun) {
      await client.query("UPDATE dead_letters SET state = 'replaying' WHERE id = ANY($1::bigint[])", [ids]);
    }
    await client.query("INSERT INTO audit (actor, action, job_id, detail) VALUES ($1, $2, $3, $4)", [
      actor,
      request.dryRun ? "replay-dry-run" : "replay-requested",
      jobId,
      JSON.stringify({
        selection,
        target: request.target ?? "original destination",
        rate: request.ratePerSecond,
        count: ids.length,
      }),
    ]);
    return jobId;
  });
}

/** A job with its progress. */
export async function getJob(pool: Pool, id: string) {
  const job = await pool.query(
    `SELECT id::text, state, selection, target, rate_per_second, dry_run, actor, total, report, created_at,
            updated_at, finished_at FROM replay_jobs WHERE id = $1`,
    [id],
  );
  const row = job.rows[0];
  if (!row) throw dlqError("REPLAY_NOT_FOUND", `no replay job has id ${id}`);
  const counts = await pool.query<{ state: string; n: number }>(
    "SELECT state, count(*)::int AS n FROM replay_items WHERE job_id = $1 GROUP BY state",
    [id],
  );
  const progress = { pending: 0, sent: 0, skipped: 0, failed: 0 };
  for (const count of counts.rows) progress[count.state as keyof typeof progress] = count.n;
  const problems = await pool.query(
    `SELECT dead_letter_id::text, state, detail FROM replay_items
      WHERE job_id = $1 AND state IN ('skipped', 'failed') AND detail <> 'dry run: would send'
      ORDER BY position LIMIT 20`,
    [id],
  );
  return {
    id: row.id as string,
    state: row.state as JobState,
    selection: row.selection,
    target: row.target,
    ratePerSecond: row.rate_per_second as number,
    dryRun: row.dry_run as boolean,
    actor: row.actor as string,
    total: row.total as number,
    progress,
    firstProblems: problems.rows.map((p) => ({ deadLetterId: p.dead_letter_id, state: p.state, detail: p.detail })),
    report: row.report,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
  };
}

/** The jobs, newest first. */
export async function listJobs(pool: Pool, limit = 100) {
  const jobs = await pool.query<{ id: string }>("SELECT id::text FROM replay_jobs ORDER BY id DESC LIMIT $1", [limit]);
  return Promise.all(jobs.rows.map((job) => getJob(pool, job.id)));
}

const TRANSITIONS: Record<"pause" | "resume" | "cancel", { from: JobState[]; to: JobState }> = {
  pause: { from: ["running"], to: "paused" },
  resume: { from: ["paused"], to: "running" },
  cancel: { from: ["running", "paused"], to: "cancelled" },
};

/**
 * Pauses, resumes or cancels a job; audited. Cancelling gives the dead letters not confirmed yet back (`new`); one
 * whose send is in flight is marked `replayed` if the broker confirms it. Throws `REPLAY_NOT_FOUND`, or
 * `INVALID_STATE` when the job's state does not allow the action.
 */
export async function transitionJob(
  pool: Pool,
  id: string,
  action: "pause" | "resume" | "cancel",
  actor: string,
): Promise<JobState> {
  return inTransaction(pool, async (client) => {
    const current = await client.query<{ state: JobState }>("SELECT state FROM replay_jobs WHERE id = $1 FOR UPDATE", [
      id,
    ]);
    const state = current.rows[0]?.state;
    if (state === undefined) throw dlqError("REPLAY_NOT_FOUND", `no replay job has id ${id}`);
    const transition = TRANSITIONS[action];
    if (!transition.from.includes(state))
      throw dlqError("INVALID_STATE", `replay job ${id} is ${state}: cannot ${action}`);
    await client.query(
      `UPDATE replay_jobs SET state = $2, updated_at = now(),
              finished_at = CASE WHEN $2 = 'cancelled' THEN now() ELSE finished_at END WHERE id = $1`,
      [id, transition.to],
    );
    if (action === "cancel") {
      await client.query(
        `UPDATE dead_letters SET state = 'new' WHERE state = 'replaying' AND id IN
           (SELECT dead_letter_id FROM replay_items WHERE job_id = $1 AND state = 'pending')`,
        [id],
      );
    }
    await client.query("INSERT INTO audit (actor, action, job_id, detail) VALUES ($1, $2, $3, $4)", [
      actor,
      `replay-${action}`,
      id,
      JSON.stringify({ from: state, to: transition.to }),
    ]);
    return transition.to;
  });
}

/** An item to send: the dead letter's stored fields a send needs. */
export interface PendingItem {
  readonly position: number;
  readonly deadLetterId: string;
  readonly replayCount: number;
  readonly sourceBroker: "kafka" | "rabbitmq";
  readonly originalBroker: "kafka" | "rabbitmq" | null;
  readonly destination: string | null;
  readonly routingKey: string | null;
  /** The Kafka key: its bytes, or its text for a dead letter stored before the bytes were (migration 004). */
  readonly key: Buffer | string | null;
  readonly body: Buffer;
  /** Every header in order, byte for byte (`storedRawHeaders`). */
  readonly headers: ReadonlyArray<RawHeader>;
  /** A RabbitMQ dead letter's AMQP header table with its types (migration 005); null: send `headers` as text. */
  readonly amqpHeaders: AmqpTableJson | null;
  readonly schemaId: number | null;
}

/**
 * The job's state and its next pending items, at most `limit`, in order (none when none is left, or when the job
 * is not running).
 */
export async function nextItems(
  pool: Pool,
  jobId: string,
  limit: number,
): Promise<{ state: JobState | undefined; items: PendingItem[] }> {
  const job = await pool.query<{ state: JobState }>("SELECT state FROM replay_jobs WHERE id = $1", [jobId]);
  const state = job.rows[0]?.state;
  if (state !== "running") return { state, items: [] };
  const result = await pool.query(
    `SELECT i.position, d.id::text AS dead_letter_id, d.replay_count, d.source_broker, d.original_broker,
            d.destination, d.routing_key, d.record_key, d.record_key_bytes,
            coalesce(d.repaired_body, d.body) AS body, d.headers, d.raw_headers, d.amqp_headers,
            coalesce(d.repaired_schema_id, d.schema_id) AS schema_id
       FROM replay_items i JOIN dead_letters d ON d.id = i.dead_letter_id
      WHERE i.job_id = $1 AND i.state = 'pending' ORDER BY i.position LIMIT $2`,
    [jobId, limit],
  );
  return {
    state,
    items: result.rows.map((row) => ({
      position: row.position,
      deadLetterId: row.dead_letter_id,
      replayCount: row.replay_count,
      sourceBroker: row.source_broker,
      originalBroker: row.original_broker,
      destination: row.destination,
      routingKey: row.routing_key,
      key: row.record_key_bytes ?? row.record_key,
      body: row.body,
      headers: storedRawHeaders(row),
      amqpHeaders: row.amqp_headers ?? null,
      schemaId: row.schema_id,
    })),
  };
}

/** What became of one item: `sent` (the broker confirmed it), `skipped` or `failed`, with why and where. */
export interface ItemOutcome {
  readonly item: PendingItem;
  readonly state: "sent" | "skipped" | "failed";
  readonly detail: string;
  readonly target?: ReplayTarget | undefined;
}

/**
 * Records the outcomes of items of one job in one transaction with their dead letters' states and the audit (one
 * statement each, whatever their number): `sent` (the dead letter becomes `replayed`), `skipped` or `failed` (it
 * goes back to `new`, unless dry run).
 */
export async function settleItems(
  pool: Pool,
  job: { id: string; actor: string; dryRun: boolean },
  outcomes: readonly ItemOutcome[],
): Promise<void> {
  if (outcomes.length === 0) return;
  await inTransaction(pool, async (client) => {
    await client.query(
      `UPDATE replay_items AS i SET state = u.state, detail = u.detail, done_at = now()
         FROM unnest($2::int[], $3::text[], $4::text[]) AS u(position, state, detail)
        WHERE i.job_id = $1 AND i.position = u.position`,
      [job.id, outcomes.map((o) => o.item.position), outcomes.map((o) => o.state), outcomes.map((o) => o.detail)],
    );
    if (!job.dryRun) {
      const ids = (sent: boolean) =>
        outcomes.filter((o) => (o.state === "sent") === sent).map((o) => o.item.deadLetterId);
      await client.query(
        "UPDATE dead_letters SET state = 'replayed', replay_count = replay_count + 1 WHERE id = ANY($1::bigint[])",
        [ids(true)],
      );
      await client.query("UPDATE dead_letters SET state = 'new' WHERE id = ANY($1::bigint[]) AND state = 'replaying'", [
        ids(false),
      ]);
      await client.query(
        `INSERT INTO audit (actor, action, dead_letter_id, job_id, detail)
         SELECT $1, u.action, u.id, $2, u.detail
           FROM unnest($3::text[], $4::bigint[], $5::jsonb[]) WITH ORDINALITY AS u(action, id, detail, n) ORDER BY u.n`,
        [
          job.actor,
          job.id,
          outcomes.map((o) => (o.state === "sent" ? "replay" : `replay-${o.state}`)),
          outcomes.map((o) => o.item.deadLetterId),
          outcomes.map((o) => JSON.stringify({ result: o.detail, target: o.target ?? null })),
        ],
      );
    }
    await client.query("UPDATE replay_jobs SET updated_at = now() WHERE id = $1", [job.id]);
  });
}

/** Marks a running job completed (with its dry-run report, if any). */
export async function completeJob(pool: Pool, id: string, report: unknown): Promise<void> {
  await pool.query(
    `UPDATE replay_jobs SET state = 'completed', report = $2, updated_at = now(), finished_at = now()
      WHERE id = $1 AND state = 'running'`,
    [id, report === undefined ? null : JSON.stringify(report)],
  );
}

/** Ids of the jobs to run (running ones, oldest first): after a restart these resume. */
export async function runningJobs(
  pool: Pool,
): Promise<Array<{ id: string; actor: string; dryRun: boolean; rate: number; target: ReplayTarget | null }>> {
  const result = await pool.query(
    "SELECT id::text, actor, dry_run, rate_per_second, target FROM replay_jobs WHERE state = 'running' ORDER BY id",
  );
  return result.rows.map((row) => ({
    id: row.id,
    actor: row.actor,
    dryRun: row.dry_run,
    rate: row.rate_per_second,
    target: row.target,
  }));
}
