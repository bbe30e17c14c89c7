// The alert rules are code: infra/prometheus/rules/*.yml are checked by the real `promtool check rules` and unit-tested
// by `promtool test rules` with infra/prometheus/tests/*.test.yml (promtool comes from Debian's `prometheus` package;
// `npm test` installs it when missing). Also: every rule says how bad it is and what to do, and every alert has a
// test in which it fires.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const prometheusDir = fileURLToPath(new URL("../../../infra/prometheus/", import.meta.url));
const rulesDir = join(prometheusDir, "rules");
const testsDir = join(prometheusDir, "tests");
const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((file) => file.endsWith(".yml"))
    .sort()
    .map((file) => join(dir, file));
const ruleFiles = yamlFiles(rulesDir);
const testFiles = yamlFiles(testsDir);

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules: Rule[] = ruleFiles.flatMap((file) =>
  (parse(readFileSync(file, "utf8")) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules),
);
const alerts = rules.filter((rule) => rule.alert !== undefined);

interface RuleTest {
  alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }>;
}
const ruleTests = testFiles.map(
  (file) => parse(readFileSync(file, "utf8")) as { rule_files: string[]; tests: RuleTest[] },
);

const promtoolFound = spawnSync("promtool", ["--version"], { encoding: "utf8" }).status === 0;

/** Runs the real promtool; the result's status, and its output for the failure message. */
function promtool(...args: string[]): { status: number | null; output: string } {
  if (!promtoolFound) {
    throw new Error(
      "promtool is not on PATH: install Debian's prometheus package (apt-get install --no-install-recommends " +
        "prometheus), which `npm test` does by itself when run as root, or put a promtool from " +
        "https://prometheus.io/download/ on PATH",
    );
  }
  const result = spawnSync("promtool", args, { encoding: "utf8", cwd: prometheusDir });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("infra/prometheus alert rules", () => {
  it("has rule files and rule tests", () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    expect(testFiles.length).toBeGreaterThan(0);
    expect(alerts.length).toBeGreaterThan(0);
  });

  it("passes promtool check rules", () => {
    const result = promtool("check", "rules", ...ruleFiles);
    expect(result.output).not.toMatch(/FAILED|error/i);
    expect(result.status, result.output).toBe(0);
  });

  it("passes promtool test rules", () => {
    const result = promtool("test", "rules", ...testFiles);
    expect(result.output).not.toContain("FAILED");
    expect(result.status, result.output).toBe(0);
  });

  it("is loaded by prometheus.yml, which passes promtool check config", () => {
    const result = promtool("check", "config", "prometheus.yml");
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain(`SUCCESS: ${ruleFiles.length} rule files found`);
  });

  it("tests every rule file", () => {
    const tested = new Set(ruleTests.flatMap((test) => test.rule_files.map((file) => join(testsDir, file))));
    for (const file of ruleFiles) expect([...tested], `a test of ${file}`).toContain(file);
  });

  it.each(alerts.map((rule) => [rule.alert, rule] as const))(
    "%s waits (for:), has a severity and says what to do",
    (_name, rule) => {
      expect(rule.for, "for:").toMatch(/^\d+[smh]$/);
      expect(["critical", "warning", "info"]).toContain(rule.labels?.severity);
      for (const annotation of ["summary", "description", "action"]) {
        expect(rule.annotations?.[annotation]?.length, `annotation ${annotation}`).toBeGreaterThan(20);
      }
    },
  );

  it.each(alerts.map((rule) => [rule.alert] as const))("%s fires in a promtool test case", (name) => {
    const firing = ruleTests
      .flatMap((file) => file.tests)
      .flatMap((test) => test.alert_rule_test ?? [])
      .filter((test) => test.alertname === name && (test.exp_alerts?.length ?? 0) > 0);
    expect(firing.length).toBeGreaterThan(0);
  });
});
