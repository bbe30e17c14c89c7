import type { LintFinding } from "@kronos/catalog";
import type { EventReview, Review } from "./review.js";

/** First line of every Markdown report: the CI workflow finds its own comment by it. */
export const REPORT_MARKER = "<!-- kronos-schema-review -->";

const KIND_LABEL: Record<string, string> = {
  "field-added": "field added",
  "field-removed": "field removed",
  "field-renamed": "field renamed",
  "type-changed": "type changed",
  "logical-type-changed": "logical type changed",
  "doc-changed": "doc changed",
  "default-changed": "default changed",
  "enum-symbols-added": "enum symbols added",
  "enum-symbols-removed": "enum symbols removed",
  "enum-default-changed": "enum default changed",
  "union-branches-added": "union branches added",
  "union-branches-removed": "union branches removed",
  "name-changed": "type renamed",
  "aliases-changed": "aliases changed",
};

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function eventSection(event: EventReview): string[] {
  const icon = event.breaking ? "❌" : "✅";
  const versions =
    event.status === "changed"
      ? `${event.baseVersion} → ${event.headVersion}`
      : event.status === "added"
        ? `new, ${event.headVersion}`
        : `removed after ${event.baseVersion}`;
  const lines = [`### ${icon} \`${event.name}\` — ${event.status} (${versions}, ${event.compatibility})`, ""];
  lines.push(
    `File \`${event.file}\` · owner ${event.owner ?? "(none)"} · versions from ${event.history} · bump **${event.bump}**`,
    "",
  );
  if (event.reasons.length > 0) {
    lines.push("**Breaks**", "");
    for (const reason of event.reasons) lines.push(`- ${reason}`);
    lines.push("");
  }
  if (event.changes.length > 0) {
    lines.push("| Change | Where | Detail |", "| --- | --- | --- |");
    for (const change of event.changes) {
      lines.push(
        `| ${KIND_LABEL[change.kind] ?? change.kind} | ${change.path === "" ? "(record)" : `\`${change.path}\``} | ${cell(change.description)} |`,
      );
    }
    lines.push("");
  } else if (event.status === "changed") {
    lines.push("No change in Avro terms (formatting or custom attributes only).", "");
  }
  if (event.verdict && event.verdict.checks.length > 0) {
    const checks = event.verdict.checks.map((c) => `${c.direction} vs ${c.against} ${c.compatible ? "✅" : "❌"}`);
    lines.push(`Checks under ${event.verdict.mode}: ${checks.join(" · ")}`, "");
  } else if (event.verdict) {
    lines.push(`No checks under ${event.verdict.mode}.`, "");
  }
  if (event.registry) {
    const r = event.registry;
    if (!r.registered) lines.push(`Registry: subject not registered yet (level ${r.mode}).`, "");
    else {
      const said = r.registryCompatible ? "compatible" : "incompatible";
      lines.push(
        `Registry (${r.mode}, versions ${r.versions.join(", ")}): ${said}${r.agrees ? " — agrees with this review" : " — ⚠️ **disagrees** with this review"}.`,
        "",
      );
    }
    for (const note of r.notes) lines.push(`- ⚠️ ${note}`);
    if (r.notes.length > 0) lines.push("");
  }
  if (event.destinations.length > 0) {
    const where = event.destinations.map((d) =>
      d.broker === "kafka" ? `Kafka topic \`${d.name}\`` : `RabbitMQ exchange \`${d.name}\``,
    );
    lines.push(`Travels on: ${where.join(", ")}`, "");
  }
  return lines;
}

function lintRow(finding: LintFinding): string {
  const where = `\`${finding.file}${finding.line === null ? "" : `:${finding.line}`}\``;
  const status = finding.suppressed
    ? `disabled (${finding.suppressed.scope}): ${cell(finding.suppressed.reason)}`
    : "❌ error";
  return `| ${status} | \`${finding.rule}\` | ${where} \`${finding.entry}\` | ${cell(finding.message)} |`;
}

/** The review as GitHub-flavoured Markdown (starts with {@link REPORT_MARKER}). */
export function renderMarkdown(review: Review): string {
  const { summary } = review;
  const result =
    summary.exitCode === 0
      ? "✅ **Nothing breaks.**"
      : `❌ **${[
          summary.breaking > 0 ? `${plural(summary.breaking, "event")} break compatibility` : "",
          summary.lintErrors > 0 ? plural(summary.lintErrors, "lint error") : "",
        ]
          .filter(Boolean)
          .join(", ")}.**`;
  const lines = [
    REPORT_MARKER,
    "## Schema review",
    "",
    `Base \`${review.base.ref}\` (${review.base.commit.slice(0, 7)}) → ${review.head} · ${plural(summary.changedEvents, "event")} changed · ${plural(summary.lintErrors, "lint error")}${summary.lintSuppressed > 0 ? ` (${summary.lintSuppressed} disabled)` : ""}${review.registry ? ` · registry ${review.registry}${summary.registryDisagreements > 0 ? ` (⚠️ ${plural(summary.registryDisagreements, "disagreement")})` : ""}` : ""}`,
    "",
    result,
    "",
  ];
  if (review.events.length === 0) lines.push("No event schema changed.", "");
  for (const event of review.events) lines.push(...eventSection(event));

  lines.push("### Lint", "");
  if (review.lint.length === 0) lines.push("No findings in the changed files.", "");
  else {
    lines.push("| Status | Rule | Where | Message |", "| --- | --- | --- | --- |");
    for (const finding of review.lint) lines.push(lintRow(finding));
    lines.push("");
  }

  lines.push("### Consumer impact", "");
  if (review.packages.length === 0) lines.push("No generated package changes.", "");
  else {
    lines.push("| Package | Bump | Version | Events | Depended on by |", "| --- | --- | --- | --- | --- |");
    for (const p of review.packages) {
      const version =
        p.next === null
          ? "—"
          : p.written
            ? `${p.baseVersion ?? p.version} → ${p.next} (written)`
            : p.upToDate
              ? `${p.version} (up to date)`
              : `${p.baseVersion ?? p.version} → ${p.next}`;
      const users = [
        ...p.dependents.direct.map((d) => `\`${d}\``),
        ...p.dependents.indirect.map((d) => `\`${d}\` (indirect)`),
      ];
      lines.push(
        `| \`${p.name}\`${p.dir === null ? " (not in the workspace)" : ""} | ${p.bump} | ${version} | ${p.events.map((e) => `\`${e.slice(e.lastIndexOf(".") + 1)}\``).join(", ")} | ${users.join(", ") || "—"} |`,
      );
    }
    lines.push("");
    if (review.packages.some((p) => !p.upToDate && p.bump !== "none")) {
      lines.push("Run `kronos-schemas review --base <ref> --write` to set these versions.", "");
    }
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

/** The review as JSON for tools (2-space indented). */
export function renderJson(review: Review): string {
  return `${JSON.stringify(review, null, 2)}\n`;
}
