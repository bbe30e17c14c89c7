import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { changelogEntry, prependChangelog } from "./changelog.js";

describe("the changelog", () => {
  it("names each event's schema changes, and says a break in bold", () => {
    const entry = changelogEntry("2.0.0", "2026-12-07", [
      { event: "kronos.gaia.CriticalAlert", status: "changed", breaking: true, lines: ["field `title` removed"] },
      { event: "kronos.gaia.SystemEvent", status: "added", breaking: false, lines: [] },
    ]);
    expect(entry).toBe(
      [
        "## 2.0.0 (2026-12-07)",
        "",
        "**Breaking: a consumer built on the previous major version may not read these events.**",
        "",
        "- `CriticalAlert` changed — **breaking**:",
        "  - field `title` removed",
        "- `SystemEvent` added",
        "",
      ].join("\n"),
    );
  });

  it("puts the newest entry first, under one title", () => {
    const dir = mkdtempSync(join(tmpdir(), "changelog-"));
    prependChangelog(dir, "@kronos/events-gaia", changelogEntry("0.1.0", "2026-12-01", []));
    prependChangelog(dir, "@kronos/events-gaia", changelogEntry("0.2.0", "2026-12-07", []));
    const text = readFileSync(join(dir, "CHANGELOG.md"), "utf8");
    expect(text.match(/^# /gm)).toHaveLength(1);
    expect(text.indexOf("## 0.2.0")).toBeLessThan(text.indexOf("## 0.1.0"));
  });
});
