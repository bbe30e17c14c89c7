// The battery's one table: every scenario's counts and verdict, printed and written as JSON.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** One scenario's outcome. Counts are absolute; `lost` > 0 or any `problems` make the verdict `FAIL`. */
export interface ScenarioResult {
  readonly scenario: string;
  /** What was offered, e.g. "2,000 publishes at 900/s (50% of saturation), 16 clients". */
  readonly load: string;
  /** What was done to it, e.g. "kill -9 Kafka at 30%, restarted 5 s later". */
  readonly faults: string;
  readonly sent: number;
  /** Answered as accepted by the product (202, a confirm). */
  readonly acknowledged: number;
  /** Distinct messages of this run found at the destination afterwards. */
  readonly readBack: number;
  /** Acknowledged but not found. */
  readonly lost: number;
  /** Found more than once (messages, not copies). */
  readonly duplicated: number;
  /** Found but never sent by this run. */
  readonly unexpected: number;
  /** Answers with a 5xx status other than 503 (503 + Retry-After is the promised answer while a broker is down). */
  readonly serverErrors: number;
  /** Broken promises other than counts (a hang, no Retry-After, a slow recovery); empty when none. */
  readonly problems: readonly string[];
  /** Figures worth keeping (recovery times, statuses seen). */
  readonly details: Readonly<Record<string, number | string>>;
}

/** The count columns of a row, from a scenario's {@link Ledger}'s counts. */
export function countColumns(counts: {
  sent: number;
  acknowledged: number;
  readBack: number;
  lost: number;
  duplicated: number;
  unexpected: number;
}) {
  const { sent, acknowledged, readBack, lost, duplicated, unexpected } = counts;
  return { sent, acknowledged, readBack, lost, duplicated, unexpected };
}

export function verdict(result: ScenarioResult): "ok" | "FAIL" {
  return result.lost === 0 && result.unexpected === 0 && result.serverErrors === 0 && result.problems.length === 0
    ? "ok"
    : "FAIL";
}

const COLUMNS = [
  "scenario",
  "load",
  "faults",
  "sent",
  "acknowledged",
  "read back",
  "lost",
  "duplicated",
  "unexpected",
  "5xx",
  "verdict",
] as const;

function cells(result: ScenarioResult): string[] {
  const n = (value: number) => value.toLocaleString("en-US");
  return [
    result.scenario,
    result.load,
    result.faults,
    n(result.sent),
    n(result.acknowledged),
    n(result.readBack),
    n(result.lost),
    n(result.duplicated),
    n(result.unexpected),
    n(result.serverErrors),
    verdict(result),
  ];
}

/** The results as a Markdown table (what the README's reliability section shows). */
export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = [COLUMNS as readonly string[], ...results.map(cells)];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const rule = `| ${widths.map((width) => "-".repeat(width)).join(" | ")} |`;
  const problems = results.flatMap((result) => result.problems.map((problem) => `- ${result.scenario}: ${problem}`));
  return [line(rows[0] ?? []), rule, ...rows.slice(1).map(line), ...(problems.length ? ["", ...problems] : [])].join(
    "\n",
  );
}

/** Writes the results, with their verdicts and the time of the run, as JSON. */
export function writeResults(path: string, results: readonly ScenarioResult[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const body = {
    at: new Date().toISOString(),
    results: results.map((result) => ({ ...result, verdict: verdict(result) })),
  };
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
}
