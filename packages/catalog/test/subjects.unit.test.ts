import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  CatalogError,
  type CatalogIssue,
  eventSubjects,
  formatIssue,
  loadCatalogSync,
  subjectName,
} from "../src/index.js";

const fixture = fileURLToPath(new URL("./fixtures/subjects", import.meta.url));
const valid = fileURLToPath(new URL("./fixtures/valid", import.meta.url));
const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: the tests edit the parsed YAML freely, as a person edits the file.
type Manifest = Record<string, any>;

/** A copy of `from` (named `schemas`) whose manifest `edit` changed; returns the folder and the manifest's text. */
function variant(from: string, edit: (manifest: Manifest) => void): { dir: string; text: string } {
  const root = mkdtempSync(join(tmpdir(), "kronos-subjects-"));
  temps.push(root);
  const dir = join(root, "schemas");
  cpSync(from, dir, { recursive: true });
  const manifest = parse(readFileSync(join(dir, "asyncapi.yaml"), "utf8")) as Manifest;
  edit(manifest);
  const text = stringify(manifest, { lineWidth: 0 });
  writeFileSync(join(dir, "asyncapi.yaml"), text);
  return { dir, text };
}

function issuesOf(dir: string): CatalogIssue[] {
  try {
    loadCatalogSync(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError);
    return (error as CatalogError).issues;
  }
  throw new Error(`${dir} loaded, but it must not`);
}

/** The 1-based line of the first line of `text` matching `pattern` after the line matching `after`. */
function lineOf(text: string, after: RegExp, pattern: RegExp): number {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => after.test(l));
  return lines.findIndex((l, i) => i > start && pattern.test(l)) + 1;
}

describe("subjectName and eventSubjects: the one naming rule", () => {
  it("names a subject per strategy", () => {
    expect(subjectName("RecordNameStrategy", "kronos.a.B", "t")).toBe("kronos.a.B");
    expect(subjectName("RecordNameStrategy", "kronos.a.B")).toBe("kronos.a.B");
    expect(subjectName("TopicNameStrategy", "kronos.a.B", "t")).toBe("t-value");
    expect(subjectName("TopicRecordNameStrategy", "kronos.a.B", "t")).toBe("t-kronos.a.B");
    expect(() => subjectName("TopicNameStrategy", "kronos.a.B")).toThrow(/needs a Kafka topic/);
  });

  it("gives one subject per topic, the first topic's as the default", () => {
    expect(eventSubjects("TopicNameStrategy", "kronos.a.B", ["t1", "t2"])).toEqual({
      naming: "TopicNameStrategy",
      subject: "t1-value",
      topicSubjects: { t1: "t1-value", t2: "t2-value" },
      subjects: ["t1-value", "t2-value"],
    });
    expect(eventSubjects("RecordNameStrategy", "kronos.a.B", ["t1", "t2"]).subjects).toEqual(["kronos.a.B"]);
  });
});

describe("loadCatalog honours x-kronos-subject-naming per event", () => {
  it("RecordNameStrategy by default: the record name on every topic", () => {
    const event = loadCatalogSync(valid).events.find((e) => e.name === "kronos.shop.OrderPlaced");
    expect(event).toMatchObject({
      subject: "kronos.shop.OrderPlaced",
      subjectNaming: "RecordNameStrategy",
      topicSubjects: {
        "kronos.shop.orders": "kronos.shop.OrderPlaced",
        "kronos.shop.order-snapshots": "kronos.shop.OrderPlaced",
      },
      subjects: ["kronos.shop.OrderPlaced"],
    });
  });

  it("TopicRecordNameStrategy: a subject per topic; TopicNameStrategy: <topic>-value", () => {
    const catalog = loadCatalogSync(fixture);
    const [placed, shipped] = catalog.events;
    expect(placed).toMatchObject({
      name: "kronos.shop.OrderPlaced",
      subjectNaming: "TopicRecordNameStrategy",
      subject: "kronos.shop.orders-kronos.shop.OrderPlaced",
      topicSubjects: {
        "kronos.shop.orders": "kronos.shop.orders-kronos.shop.OrderPlaced",
        "kronos.shop.order-snapshots": "kronos.shop.order-snapshots-kronos.shop.OrderPlaced",
      },
      subjects: ["kronos.shop.orders-kronos.shop.OrderPlaced", "kronos.shop.order-snapshots-kronos.shop.OrderPlaced"],
    });
    expect(shipped).toMatchObject({
      name: "kronos.shop.OrderShipped",
      subjectNaming: "TopicNameStrategy",
      subject: "kronos.shop.shipments-value",
      topicSubjects: { "kronos.shop.shipments": "kronos.shop.shipments-value" },
      subjects: ["kronos.shop.shipments-value"],
    });
  });

  it("the root's strategy is every message's default", () => {
    const { dir } = variant(valid, (m) => {
      m["x-kronos-subject-naming"] = "TopicRecordNameStrategy";
      // OrderPlaced is also on the RabbitMQ exchange: allowed, it has topics.
    });
    const events = loadCatalogSync(dir).events;
    expect(events.map((e) => e.subjects)).toEqual([
      ["kronos.shop.orders-kronos.shop.OrderPlaced", "kronos.shop.order-snapshots-kronos.shop.OrderPlaced"],
      ["kronos.shop.orders-kronos.shop.OrderShipped"],
    ]);
  });
});

describe("the manifest validation refuses what a strategy cannot name", () => {
  it("TopicNameStrategy on a topic that carries another event, with the file, line and column", () => {
    const { dir, text } = variant(fixture, (m) => {
      m.channels.orders.messages.OrderShipped = { $ref: "#/components/messages/OrderShipped" };
    });
    const issues = issuesOf(dir);
    const line = lineOf(text, /^ {4}OrderShipped:$/, /x-kronos-subject-naming: TopicNameStrategy/);
    expect(line).toBeGreaterThan(0);
    expect(issues).toEqual([
      {
        file: "schemas/asyncapi.yaml",
        entry: "components.messages.OrderShipped",
        line,
        column: 7,
        message:
          "kronos.shop.OrderShipped uses TopicNameStrategy on Kafka topic kronos.shop.orders, which also carries " +
          "kronos.shop.OrderPlaced: the subject kronos.shop.orders-value holds one record type; use " +
          "TopicRecordNameStrategy or RecordNameStrategy, or give the event a topic of its own",
      },
    ]);
    expect(formatIssue(issues[0] as CatalogIssue)).toMatch(
      new RegExp(`^schemas/asyncapi.yaml:${line}:7: components.messages.OrderShipped: kronos.shop.OrderShipped uses`),
    );
  });

  it("a topic strategy on a RabbitMQ-only event", () => {
    const { dir } = variant(fixture, (m) => {
      delete m.channels.shipments;
      m.channels.shop.messages.OrderShipped = { $ref: "#/components/messages/OrderShipped" };
      m.components.messages.OrderShipped["x-kronos-routing-key"] = "order.shipped";
      delete m.components.messages.OrderShipped.bindings;
    });
    expect(issuesOf(dir)).toEqual([
      expect.objectContaining({
        entry: "components.messages.OrderShipped",
        line: expect.any(Number),
        message:
          "kronos.shop.OrderShipped uses TopicNameStrategy but is bound to no Kafka topic: a RabbitMQ-only event has " +
          "no topic to name its subject after; use x-kronos-subject-naming: RecordNameStrategy (the subject is then " +
          "the record name)",
      }),
    ]);
  });

  it("unknown strategies, at the root and on a message", () => {
    const { dir, text } = variant(fixture, (m) => {
      m["x-kronos-subject-naming"] = "SubjectNameStrategy";
      m.components.messages.OrderShipped["x-kronos-subject-naming"] = "topic";
    });
    const issues = issuesOf(dir);
    expect(issues.map((i) => [i.entry, i.line, i.message])).toEqual([
      [
        "x-kronos-subject-naming",
        lineOf(text, /^asyncapi:/, /^x-kronos-subject-naming:/),
        'must be one of RecordNameStrategy, TopicNameStrategy, TopicRecordNameStrategy, got "SubjectNameStrategy"',
      ],
      [
        "components.messages.OrderShipped",
        lineOf(text, /^ {4}OrderShipped:$/, /x-kronos-subject-naming: topic/),
        'x-kronos-subject-naming must be one of RecordNameStrategy, TopicNameStrategy, TopicRecordNameStrategy, got "topic"',
      ],
    ]);
  });

  it("a Kafka message binding whose schemaLookupStrategy says another strategy", () => {
    const { dir } = variant(fixture, (m) => {
      m.components.messages.OrderShipped.bindings.kafka.schemaLookupStrategy = "RecordNameStrategy";
    });
    expect(issuesOf(dir).map((i) => i.message)).toEqual([
      'its Kafka binding says schemaLookupStrategy "RecordNameStrategy" but the event uses TopicNameStrategy: give ' +
        "the message a Kafka binding with schemaLookupStrategy: TopicNameStrategy",
    ]);
  });
});
