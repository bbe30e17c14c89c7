import { Counter, Gauge, type Registry } from "prom-client";
import type { Pool } from "./db/database.js";

/** Counters custody and the runner update as they work. */
export interface DlqCounters {
  /** Dead letters stored, by source (`rate()` of it: the ingest rate); duplicates recognised are not counted. */
  readonly stored: Counter<"source">;
  /** Dead letters recognised as already stored (a redelivery after a crash or rebalance), by source. */
  readonly duplicates: Counter<"source">;
}

/**
 * The dlq-manager's metrics on the app's registry. Counters for custody; gauges read from PostgreSQL at scrape time:
 * `dlq_dead_letters{source,state}`, `dlq_oldest_unresolved_age_seconds{source}` (oldest `new` one),
 * `dlq_error_fingerprints{source}` (distinct error classes), `dlq_replay_items{state}` of running and paused jobs
 * and `dlq_replay_jobs{state}`. A scrape while PostgreSQL is down leaves the gauges out rather than failing.
 */
export function registerDlqMetrics(registry: Registry, pool: Pool): DlqCounters {
  const collectFrom = async <R extends Record<string, unknown>>(sql: string, apply: (rows: R[]) => void) => {
    try {
      apply((await pool.query<R>(sql)).rows);
    } catch {
      // No figures this scrape: /metrics keeps answering (the HTTP and process metrics matter most then).
    }
  };
  new Gauge({
    name: "dlq_dead_letters",
    help: "Dead letters stored, by source and state (new, replaying, replayed, discarded).",
    labelNames: ["source", "state"] as const,
    registers: [registry],
    async collect() {
      await collectFrom<{ source: string; state: string; n: number }>(
        "SELECT source, state, count(*)::int AS n FROM dead_letters GROUP BY source, state",
        (rows) => {
          this.reset();
          for (const row of rows) this.set({ source: row.source, state: row.state }, row.n);
        },
      );
    },
  });
  new Gauge({
    name: "dlq_oldest_unresolved_age_seconds",
    help: "Age of the oldest dead letter still new (neither replayed nor discarded), by source.",
    labelNames: ["source"] as const,
    registers: [registry],
    async collect() {
      await collectFrom<{ source: string; age: number }>(
        `SELECT source, extract(epoch FROM now() - min(first_seen))::float8 AS age
           FROM dead_letters WHERE state = 'new' GROUP BY source`,
        (rows) => {
          this.reset();
          for (const row of rows) this.set({ source: row.source }, row.age);
        },
      );
    },
  });
  new Gauge({
    name: "dlq_error_fingerprints",
    help: "Distinct error classes (code and message shape) among the dead letters, by source; a rise is a new class.",
    labelNames: ["source"] as const,
    registers: [registry],
    async collect() {
      await collectFrom<{ source: string; n: number }>(
        "SELECT source, count(DISTINCT error_fingerprint)::int AS n FROM dead_letters GROUP BY source",
        (rows) => {
          this.reset();
          for (const row of rows) this.set({ source: row.source }, row.n);
        },
      );
    },
  });
  new Gauge({
    name: "dlq_replay_items",
    help: "Items of the running and paused replay jobs, by state (pending, sent, skipped, failed).",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      await collectFrom<{ state: string; n: number }>(
        `SELECT i.state, count(*)::int AS n FROM replay_items i JOIN replay_jobs j ON j.id = i.job_id
          WHERE j.state IN ('running', 'paused') GROUP BY i.state`,
        (rows) => {
          this.reset();
          for (const row of rows) this.set({ state: row.state }, row.n);
        },
      );
    },
  });
  new Gauge({
    name: "dlq_replay_jobs",
    help: "Replay jobs by state (running, paused, cancelled, completed).",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      await collectFrom<{ state: string; n: number }>(
        "SELECT state, count(*)::int AS n FROM replay_jobs GROUP BY state",
        (rows) => {
          this.reset();
          for (const row of rows) this.set({ state: row.state }, row.n);
        },
      );
    },
  });
  return {
    stored: new Counter({
      name: "dlq_custody_stored_total",
      help: "Dead letters taken into custody (stored, then acked or committed), by source.",
      labelNames: ["source"] as const,
      registers: [registry],
    }),
    duplicates: new Counter({
      name: "dlq_custody_duplicates_total",
      help: "Dead letters handed over again and recognised as already stored, by source.",
      labelNames: ["source"] as const,
      registers: [registry],
    }),
  };
}
