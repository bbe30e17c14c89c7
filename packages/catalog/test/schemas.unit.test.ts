import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import avro from "avsc";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type Catalog,
  type Json,
  type JsonObject,
  lintSchema,
  loadCatalog,
  type RabbitExchangeDestination,
  selfContainedSchema,
} from "../src/index.js";

const schemasDir = fileURLToPath(new URL("../../../schemas", import.meta.url));

/** Every event of issue #3 and the destinations (broker:name) it must be bound to. */
const EXPECTED: Record<string, string[]> = {
  "kronos.auth.LoginSucceeded": ["kafka:kronos.auth.events"],
  "kronos.auth.LoginFailed": ["kafka:kronos.auth.events"],
  "kronos.auth.LoggedOut": ["kafka:kronos.auth.events"],
  "kronos.auth.TokenRevoked": ["kafka:kronos.auth.events", "rabbitmq:kronos.auth.security"],
  "kronos.auth.SuspiciousActivityDetected": ["kafka:kronos.auth.events", "rabbitmq:kronos.auth.security"],
  "kronos.user.UserCreated": ["kafka:kronos.user.events"],
  "kronos.user.UserRoleChanged": ["kafka:kronos.user.events"],
  "kronos.user.UserDeactivated": ["kafka:kronos.user.events"],
  "kronos.log.LogEntry": ["kafka:kronos.log.entries"],
  "kronos.cache.CacheInvalidated": ["kafka:kronos.cache.invalidations", "rabbitmq:kronos.cache"],
  "kronos.cache.CacheEntryUpdated": ["rabbitmq:kronos.cache"],
  "kronos.router.AsyncRequest": ["rabbitmq:kronos.router"],
  "kronos.router.AsyncResponse": ["rabbitmq:kronos.router"],
  "kronos.gaia.CriticalAlert": ["kafka:kronos.gaia.alerts", "rabbitmq:kronos.gaia.critical"],
  "kronos.gaia.SystemEvent": ["kafka:kronos.gaia.system-events"],
  "kronos.messaging.DeadLetter": ["kafka:kronos.messaging.dead-letters", "rabbitmq:kronos.messaging.dead-letters"],
};

function avscFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".avsc"))
    .map((f) => relative(dir, join(dir, f)))
    .sort();
}

describe("the Kronos catalog in schemas/", () => {
  let catalog: Catalog;
  beforeAll(async () => {
    catalog = await loadCatalog(schemasDir);
  });

  it("loads with no issues and binds every event of issue #3 where it belongs", () => {
    const bound = Object.fromEntries(
      catalog.events.map((e) => [
        e.name,
        e.bindings.map((b) => (b.broker === "kafka" ? `kafka:${b.topic}` : `rabbitmq:${b.exchange.name}`)),
      ]),
    );
    expect(bound).toEqual(EXPECTED);
  });

  it("names subjects with RecordNameStrategy and gives each event its owner and compatibility", () => {
    for (const event of catalog.events) {
      expect(event.subject).toBe(event.name);
      expect(event.owner).toBe(event.domain);
      expect(event.compatibility).toBe(event.name === "kronos.gaia.CriticalAlert" ? "FULL_TRANSITIVE" : "BACKWARD");
    }
  });

  it("starts every event with meta: kronos.common.EventMeta", () => {
    for (const event of catalog.events) {
      const fields = event.schema.fields as JsonObject[];
      expect(fields[0], event.name).toMatchObject({ name: "meta", type: "kronos.common.EventMeta" });
    }
  });

  it("keys every Kafka binding and routes every direct/topic exchange binding", () => {
    for (const event of catalog.events) {
      for (const binding of event.bindings) {
        if (binding.broker === "kafka") expect(binding.keyField, event.name).not.toBeNull();
        else if (binding.exchange.type !== "fanout") expect(binding.routingKey, event.name).not.toBeNull();
      }
    }
  });

  it("declares the topics and exchanges with their settings", () => {
    const byName = new Map(catalog.destinations.map((d) => [`${d.broker}:${d.name}`, d]));
    expect(byName.get("kafka:kronos.log.entries")).toMatchObject({
      partitions: 12,
      cleanupPolicy: ["delete"],
      retentionMs: 3 * 24 * 3600 * 1000,
    });
    expect(byName.get("kafka:kronos.auth.events")?.events).toHaveLength(5);
    expect(byName.get("rabbitmq:kronos.router")).toMatchObject({
      type: "direct",
      channels: ["routerRequests", "routerReplies"],
    });
    expect(byName.get("rabbitmq:kronos.cache")).toMatchObject({ type: "fanout" });
    const critical = byName.get("rabbitmq:kronos.gaia.critical") as RabbitExchangeDestination;
    expect(critical.type).toBe("topic");
    expect(critical.queues).toEqual([
      expect.objectContaining({
        type: "quorum",
        deadLetter: expect.objectContaining({ queue: "kronos.gaia.critical.notifications.dlq" }),
      }),
    ]);
    const router = byName.get("rabbitmq:kronos.router") as RabbitExchangeDestination;
    expect(router.queues.every((q) => q.type === "classic" && q.maxPriority === 10 && q.deadLetter !== null)).toBe(
      true,
    );
  });

  it("inlines shared types into a self-contained schema that avsc reads the same as the catalog's", () => {
    const registry: Record<string, avro.Type> = {};
    // Shared types first: the registry resolves the names the events reference.
    for (const type of catalog.types.filter((t) => t.topLevel && t.shared)) {
      avro.Type.forSchema(type.schema as avro.Schema, { registry });
    }
    for (const event of catalog.events) {
      const inlined = selfContainedSchema(catalog, event.name);
      const standalone = avro.Type.forSchema(inlined as avro.Schema);
      const linked = avro.Type.forSchema(event.schema as avro.Schema, { registry: { ...registry } });
      expect(standalone.fingerprint("sha256").toString("hex"), event.name).toBe(
        linked.fingerprint("sha256").toString("hex"),
      );
      expect(JSON.stringify(inlined).match(/"name":"EventMeta"/g), event.name).toHaveLength(1);
    }
  });
});

/** Checks the rules on a schema independently of lintSchema: returns a description of each violation. */
function ruleViolations(schema: Json): string[] {
  const out: string[] = [];
  const isObj = (v: Json | undefined): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
  const visit = (node: Json | undefined, where: string): void => {
    if (Array.isArray(node)) {
      for (const branch of node) visit(branch, where);
      return;
    }
    if (!isObj(node)) return;
    if (node.type === "array") {
      visit(node.items, where);
      return;
    }
    if (node.type === "map") {
      visit(node.values, where);
      return;
    }
    if (node.type === "enum") {
      if (!node.doc) out.push(`${where}: enum ${node.name} has no doc`);
      if (!(node.symbols as string[]).includes(node.default as string))
        out.push(`${where}: enum ${node.name} has no default`);
    }
    if (node.type === "record") {
      if (!node.doc) out.push(`${where}: record ${node.name} has no doc`);
      for (const field of node.fields as JsonObject[]) {
        const at = `${node.name}.${field.name}`;
        const name = field.name as string;
        if (!field.doc) out.push(`${at}: no doc`);
        const type = field.type;
        if (Array.isArray(type)) {
          const ok = type.length === 2 && type[0] === "null" && "default" in field && field.default === null;
          if (!ok) out.push(`${at}: a union must be ["null", T] with default null`);
        }
        const inner = Array.isArray(type) ? type[1] : type;
        const logical = isObj(inner) ? inner.logicalType : undefined;
        if (/At$|^timestamp$|^deadline$/.test(name) && logical !== "timestamp-millis") {
          out.push(`${at}: a time must be timestamp-millis`);
        }
        // Ids are UUIDs, except W3C trace/span ids (hex) which have a fixed format of their own.
        if (/Id$/.test(name) && !["traceId", "spanId"].includes(name)) {
          const base = isObj(inner) ? inner.type : inner;
          if (base === "string" && logical !== "uuid") out.push(`${at}: an id must be a uuid`);
        }
        if (isObj(inner) && inner.type === "long" && logical === undefined && /At$|Time/.test(name)) {
          out.push(`${at}: a time must carry a logical type`);
        }
        visit(type, at);
      }
    }
  };
  visit(schema, "");
  return out;
}

describe("every schema in schemas/ follows the Kronos rules", () => {
  const files = avscFiles(schemasDir);

  it("has the event files and the shared types", () => {
    expect(files).toContain("common/EventMeta.avsc");
    expect(files).toContain("user/Role.avsc");
    expect(files.length).toBeGreaterThanOrEqual(Object.keys(EXPECTED).length + 1);
  });

  it.each(files)("%s", (file) => {
    const text = readFileSync(join(schemasDir, file), "utf8");
    const schema = JSON.parse(text) as Json;
    expect(ruleViolations(schema)).toEqual([]);
    expect(lintSchema(schema)).toEqual([]);
    // Tidy by hand: 2-space JSON, one trailing newline.
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.split("\n").every((line) => /^( {2})*\S|^$/.test(line))).toBe(true);
  });

  it("the independent rule check catches what it claims to", () => {
    expect(
      ruleViolations({
        type: "record",
        name: "X",
        doc: "x",
        fields: [
          { name: "createdAt", type: "long", doc: "d" },
          { name: "userId", type: "string", doc: "d" },
          { name: "note", type: ["string", "null"], doc: "d" },
          { name: "kind", type: { type: "enum", name: "K", doc: "k", symbols: ["A"] }, doc: "d" },
          { name: "nodoc", type: "int" },
        ],
      }),
    ).toEqual([
      "X.createdAt: a time must be timestamp-millis",
      "X.userId: an id must be a uuid",
      'X.note: a union must be ["null", T] with default null',
      "X.kind: enum K has no default",
      "X.nodoc: no doc",
    ]);
  });
});
