import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The schema changes of one event that went into a release. */
export interface EventChanges {
  /** Full record name. */
  readonly event: string;
  readonly status: "added" | "removed" | "changed";
  readonly breaking: boolean;
  /** The changes in words (schema review's sentences), and the reasons of a break. */
  readonly lines: readonly string[];
}

/** The changelog entry of `version`, released on `date` (YYYY-MM-DD), naming each event's schema changes. */
export function changelogEntry(version: string, date: string, events: readonly EventChanges[]): string {
  const lines = [`## ${version} (${date})`, ""];
  if (events.some((event) => event.breaking)) {
    lines.push("**Breaking: a consumer built on the previous major version may not read these events.**", "");
  }
  if (events.length === 0) lines.push("- No schema change.");
  for (const event of events) {
    const short = event.event.slice(event.event.lastIndexOf(".") + 1);
    const title = `\`${short}\` ${event.status}${event.breaking ? " — **breaking**" : ""}`;
    lines.push(`- ${title}${event.lines.length === 0 ? "" : ":"}`);
    for (const line of event.lines) lines.push(`  - ${line}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Puts `entry` at the top of `<dir>/CHANGELOG.md` (created with a title when missing). */
export function prependChangelog(dir: string, name: string, entry: string): void {
  const file = join(dir, "CHANGELOG.md");
  const title = `# ${name}\n\n`;
  const existing = existsSync(file) ? readFileSync(file, "utf8") : title;
  const rest = existing.startsWith(title) ? existing.slice(title.length) : existing;
  writeFileSync(file, `${title}${entry}\n${rest}`.replace(/\n+$/, "\n"));
}
