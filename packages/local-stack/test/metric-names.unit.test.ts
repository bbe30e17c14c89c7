// The dashboard (infra/grafana) and the alert rules (infra/prometheus/rules) name metrics that the apps' code must
// define, filtered on labels the code gives them: a renamed metric or label would otherwise leave an empty panel and
// an alert that can never fire. A name counts as defined when it appears as a string literal in the sources of the
// packages that define metrics; a label, when it is a string literal in the file that defines the metric.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** Where metrics are defined: prom-client metrics of the transport, the shared HTTP metrics and the apps' own. */
const METRIC_SOURCES = [
  "packages/transport/src",
  "packages/observability/src",
  "packages/app-kit/src",
  ...readdirSync(join(repoRoot, "apps")).map((app) => `apps/${app}/src`),
];

/** Series Prometheus makes itself, not the apps. */
const PROMETHEUS_SERIES = new Set(["up", "ALERTS", "ALERTS_FOR_STATE"]);

/**
 * The transport's consumer metrics, which issue 11 adds on another branch with exactly these names. While the code
 * here does not define them yet they are accepted; once it does, this list is moot and may be emptied.
 */
const ANNOUNCED = new Set([
  "kronos_consumer_deliveries_total",
  "kronos_consumer_settlements_total",
  "kronos_consumer_retries_total",
  "kronos_dead_letters_total",
  "kronos_consumer_in_flight",
]);

/** PromQL words that look like metric names: aggregation operators, keywords, set operators. */
const PROMQL_WORDS = new Set(
  "sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio by without on ignoring group_left group_right bool offset and or unless atan2".split(
    " ",
  ),
);

/**
 * The metric names a PromQL expression reads (Grafana's `$variables` allowed): what is left once strings, label
 * matchers, ranges, the label lists of by/on/..., functions (a name before "("), keywords and numbers are removed.
 */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "$1")
    .replace(/\$\w+/g, "");
  const names = [...bare.matchAll(/(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)].map((match) => match[1] ?? "");
  return [...new Set(names.filter((name) => !PROMQL_WORDS.has(name)))];
}

/** Labels every series has without the code naming them: Prometheus' target labels, the registry's `app`. */
const ADDED_LABELS = new Set(["job", "instance", "app"]);

/** The label names of the matchers written directly on a metric name: `name{label="..."}`. */
function labelMatchers(expr: string): Array<{ metric: string; label: string }> {
  const valuesBlanked = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...valuesBlanked.matchAll(/([a-zA-Z_:][\w:]*)\{([^}]*)\}/g)].flatMap(([, metric = "", matchers = ""]) =>
    [...matchers.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map(([, label = ""]) => ({ metric, label })),
  );
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /(?<!\.test)\.ts$/.test(entry) ? [path] : [];
  });
}

const sources = METRIC_SOURCES.flatMap((dir) => sourceFiles(join(repoRoot, dir))).map((file) => ({
  file: file.slice(repoRoot.length),
  text: readFileSync(file, "utf8"),
}));

/** Where `name` (or, for a histogram's `_bucket`, `_count` and `_sum` series, its base name) is a string literal. */
function definedIn(name: string): string | undefined {
  const candidates = [name, name.replace(/_(bucket|count|sum)$/, "")];
  return sources.find(({ text }) => candidates.some((candidate) => text.includes(`"${candidate}"`)))?.file;
}

interface Dashboard {
  templating: { list: Array<{ name: string; definition?: string }> };
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
}
const dashboardDir = join(repoRoot, "infra", "grafana", "provisioning", "dashboards");
const dashboards = readdirSync(dashboardDir)
  .filter((file) => file.endsWith(".json"))
  .map((file) => ({ file, dashboard: JSON.parse(readFileSync(join(dashboardDir, file), "utf8")) as Dashboard }));
const rulesDir = join(repoRoot, "infra", "prometheus", "rules");
const ruleFiles = readdirSync(rulesDir).filter((file) => file.endsWith(".yml"));

/** Every expression of the dashboards and rule files, with where it stands. */
const expressions: Array<{ where: string; expr: string }> = [
  ...dashboards.flatMap(({ file, dashboard }) => [
    ...dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map(({ expr }) => ({ where: `${file}: panel "${panel.title}"`, expr })),
    ),
    // label_values(metric{...}, label): the metric is the first argument.
    ...dashboard.templating.list.flatMap(({ name, definition }) => {
      const metric = /^label_values\(([^,]+),/.exec(definition ?? "")?.[1];
      return metric === undefined ? [] : [{ where: `${file}: variable ${name}`, expr: metric }];
    }),
  ]),
  ...ruleFiles.flatMap((file) =>
    (
      parse(readFileSync(join(rulesDir, file), "utf8")) as {
        groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
      }
    ).groups
      .flatMap((group) => group.rules)
      .map((rule) => ({ where: `${file}: ${rule.alert ?? "rule"}`, expr: rule.expr })),
  ),
];

describe("metric names of the dashboard and the alert rules", () => {
  it("finds the expressions and the names in them", () => {
    expect(sources.length).toBeGreaterThan(10);
    expect(expressions.length).toBeGreaterThan(10);
    expect(
      metricNames(
        'sum by (job, le) (rate(http_request_duration_seconds_bucket{job=~"$job", route!~"a{1}"}[$__rate_interval])) > 0 unless on (group) max(kronos_kafka_consumer_lag offset 5m)',
      ),
    ).toEqual(["http_request_duration_seconds_bucket", "kronos_kafka_consumer_lag"]);
    expect(metricNames("histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket[5m]))) * 1e3")).toEqual([
      "x_seconds_bucket",
    ]);
  });

  it("uses only metrics the code defines", () => {
    const unknown = expressions.flatMap(({ where, expr }) =>
      metricNames(expr)
        .filter((name) => !PROMETHEUS_SERIES.has(name) && definedIn(name) === undefined && !ANNOUNCED.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it("filters on labels that the file defining the metric names", () => {
    const unknown = expressions.flatMap(({ where, expr }) =>
      labelMatchers(expr).flatMap(({ metric, label }) => {
        const file = definedIn(metric);
        if (file === undefined || ADDED_LABELS.has(label)) return [];
        const text = sources.find((source) => source.file === file)?.text ?? "";
        return text.includes(`"${label}"`) ? [] : [`${where}: ${metric}{${label}} (${file})`];
      }),
    );
    expect(unknown).toEqual([]);
    expect(labelMatchers('sum(rate(a_total{job=~"$job", outcome!="x{1}"}[5m])) / b{route="/x=y"}')).toEqual([
      { metric: "a_total", label: "job" },
      { metric: "a_total", label: "outcome" },
      { metric: "b", label: "route" },
    ]);
  });

  it("knows where the metrics of this change are defined", () => {
    expect(definedIn("kronos_kafka_consumer_lag")).toBe("packages/transport/src/metrics/kafka-lag.ts");
    expect(definedIn("kronos_rabbitmq_queue_messages")).toBe("packages/transport/src/metrics/rabbitmq-queues.ts");
    expect(definedIn("http_request_duration_seconds_count")).toBe("packages/observability/src/metrics.ts");
    expect(definedIn("gateway_publishes_total")).toBe("apps/gateway/src/publish/metrics.ts");
    expect(definedIn("kronos_no_such_metric")).toBeUndefined();
  });
});
