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
 * `dlq_error_fingerprints{source}` (distinct error classes), `dlq_error_fingerprint_newest_first_seen_timestamp_seconds{source}`
 * (when the newest class first appeared), `dlq_replay_items{state}` of running and paused jobs,
 * `dlq_replay_job_items{replay_job,state}` of each real job running, paused or finished in the last hour (bounded:
 * old jobs drop out; the label is not `job`, which Prometheus sets to the scrape job) and `dlq_replay_jobs{state}`. A scrape while PostgreSQL is down leaves the gauges out rather than failing.
 */
export function registerDlqMetrics(registry: Registry, pool: Pool): DlqCounters {
  const gauges: Array<[name: string, help: string, labels: string[], sql: string]> = [
    [
      "dlq_dead_letters",
      "Dead letters stored, by source and state (new, replaying, replayed, discarded).",
      ["source", "state"],
      "SELECT source, state, count(*)::float8 AS value FROM dead_letters GROUP BY source, state",
    ],
    [
      "dlq_oldest_unresolved_age_seconds",
      "Age of the oldest dead letter still new (neither replayed nor discarded), by source.",
      ["source"],
      `SELECT source, extract(epoch FROM now() - min(first_seen))::float8 AS value
         FROM dead_letters WHERE state = 'new' GROUP BY source`,
    ],
    [
      "dlq_error_fingerprints",
      "Distinct error classes (code and message shape) among the dead letters, by source; a rise is a new class.",
      ["source"],
      "SELECT source, count(DISTINCT error_fingerprint)::float8 AS value FROM dead_letters GROUP BY source",
    ],
    [
      "dlq_error_fingerprint_newest_first_seen_timestamp_seconds",
      "Unix time at which the source's newest error class (fingerprint) was first seen; within the last minutes: a new class.",
      ["source"],
      `SELECT source, extract(epoch FROM max(first_seen))::float8 AS value
         FROM (SELECT source, min(first_seen) AS first_seen FROM dead_letters GROUP BY source, error_fingerprint) f
        GROUP BY source`,
    ],
    [
      "dlq_replay_items",
      "Items of the running and paused replay jobs, by state (pending, sent, skipped, failed).",
      ["state"],
      `SELECT i.state, count(*)::float8 AS value FROM replay_items i JOIN replay_jobs j ON j.id = i.job_id
        WHERE j.state IN ('running', 'paused') GROUP BY i.state`,
    ],
    [
      "dlq_replay_job_items",
      "Items of each real (not dry-run) replay job running, paused, or finished in the last hour, by job and state.",
      ["replay_job", "state"],
      `SELECT j.id::text AS replay_job, i.state, count(*)::float8 AS value
         FROM replay_items i JOIN replay_jobs j ON j.id = i.job_id
        WHERE NOT j.dry_run AND (j.state IN ('running', 'paused') OR j.finished_at > now() - interval '1 hour')
        GROUP BY j.id, i.state`,
    ],
    [
      "dlq_replay_jobs",
      "Replay jobs by state (running, paused, cancelled, completed).",
      ["state"],
      "SELECT state, count(*)::float8 AS value FROM replay_jobs GROUP BY state",
    ],
  ];
  for (const [name, help, labelNames, sql] of gauges) {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        let rows: Array<Record<string, string | number>>;
        try {
          rows = (await pool.query(sql)).rows;
        } catch {
          // No figures this scrape: /metrics keeps answering (the HTTP and process metrics matter most then).
          return;
        }
        this.reset();
        for (const row of rows) {
          this.set(Object.fromEntries(labelNames.map((label) => [label, String(row[label])])), Number(row.value));
        }
      },
    });
  }
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
