import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { type Catalog, CatalogError, type CatalogIssue, loadRelayRoutes, parseRelayRoutes } from "../src/index.js";

const schemasDir = fileURLToPath(new URL("../../../schemas", import.meta.url));

/** The real manifest with `relay` as the only relay route, on an operation `op` whose channel is `target`. */
function withRoute(target: string, relay: unknown): unknown {
  const manifest = parse(readFileSync(`${schemasDir}/asyncapi.yaml`, "utf8")) as { operations: object };
  return {
    ...manifest,
    operations: { op: { action: "send", channel: { $ref: `#/channels/${target}` }, "x-kronos-relay": relay } },
  };
}

function issuesOf(manifest: unknown, catalog: Catalog): CatalogIssue[] {
  try {
    parseRelayRoutes(manifest, catalog);
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogError);
    return (error as CatalogError).issues;
  }
  throw new Error("expected a CatalogError");
}

const ref = (id: string) => ({ $ref: `#/components/messages/${id}` });
const channel = (id: string) => ({ $ref: `#/channels/${id}` });

describe("relay routes in schemas/asyncapi.yaml", () => {
  let catalog: Catalog;
  let routes: ReturnType<typeof loadRelayRoutes>["routes"];
  beforeAll(() => {
    ({ catalog, routes } = loadRelayRoutes(schemasDir));
  });

  it("ship Gaia's critical alerts Kafka → RabbitMQ, deduped by fingerprint, with a severity priority", () => {
    expect(routes.find((r) => r.id === "relayCriticalAlerts")).toEqual({
      id: "relayCriticalAlerts",
      from: {
        broker: "kafka",
        channel: "gaiaAlerts",
        topic: "kronos.gaia.alerts",
        consumerGroup: "kronos.relay.gaia-critical",
      },
      to: { broker: "rabbitmq", channel: "gaiaCritical", exchange: "kronos.gaia.critical", routingKey: null },
      events: ["kronos.gaia.CriticalAlert"],
      dedup: { by: "field", field: "fingerprint" },
      dedupWindowMs: 600000,
      priority: { field: "severity", values: { CRITICAL: 9, MAJOR: 6, WARNING: 3, INFO: 0, UNKNOWN: 0 } },
    });
  });

  it("ship auth security events RabbitMQ → Kafka into the audit stream", () => {
    expect(routes.find((r) => r.id === "relayAuthSecurity")).toEqual({
      id: "relayAuthSecurity",
      from: {
        broker: "rabbitmq",
        channel: "authSecurity",
        exchange: "kronos.auth.security",
        queue: "kronos.relay.auth-security",
        bindingKeys: ["#"],
      },
      to: { broker: "kafka", channel: "authEvents", topic: "kronos.auth.events" },
      events: ["kronos.auth.TokenRevoked", "kronos.auth.SuspiciousActivityDetected"],
      dedup: { by: "message-id" },
      dedupWindowMs: null,
      priority: null,
    });
  });

  it("name the entry of a route to an unknown target or from an unknown source", () => {
    const issues = issuesOf(
      withRoute("nowhere", {
        from: { channel: channel("gaiaAlertz"), consumerGroup: "g" },
        messages: [ref("CriticalAlert")],
      }),
      catalog,
    );
    expect(issues.map((i) => `${i.entry}: ${i.message}`)).toEqual([
      'operations.op.x-kronos-relay: its target "nowhere" is not a known channel',
      'operations.op.x-kronos-relay.from.channel: "gaiaAlertz" is not a known channel (#/channels/<id>)',
    ]);
    expect(issues[0]?.file).toBe("schemas/asyncapi.yaml");
  });

  it("name each event that is not bound to the target or the source", () => {
    const issues = issuesOf(
      withRoute("gaiaCritical", {
        from: { channel: channel("gaiaAlerts"), consumerGroup: "g" },
        messages: [ref("CriticalAlert"), ref("LoginFailed"), ref("Nope")],
      }),
      catalog,
    );
    expect(issues.map((i) => `${i.entry}: ${i.message}`)).toEqual([
      "operations.op.x-kronos-relay.messages[1]: kronos.auth.LoginFailed is not bound to the target kronos.gaia.critical (gaiaCritical)",
      "operations.op.x-kronos-relay.messages[1]: kronos.auth.LoginFailed is not bound to the source kronos.gaia.alerts (gaiaAlerts)",
      'operations.op.x-kronos-relay.messages[2]: "#/components/messages/Nope" is not an event of the manifest',
    ]);
  });

  it("refuse a route within one broker, a Kafka source without a group, and bad options", () => {
    const same = issuesOf(
      withRoute("cacheInvalidations", { from: { channel: channel("gaiaAlerts") }, messages: [ref("CriticalAlert")] }),
      catalog,
    ).map((i) => i.message);
    expect(same).toContain("source and target are both on kafka: a relay route crosses brokers");
    expect(same).toContain("a Kafka source needs its consumer group (letters, digits, . _ -)");
    const options = issuesOf(
      withRoute("gaiaCritical", {
        from: { channel: channel("gaiaAlerts"), consumerGroup: "g" },
        messages: [ref("CriticalAlert")],
        dedupWindowMs: -1,
        priority: { field: "severity", values: { CRITICAL: 300 } },
      }),
      catalog,
    ).map((i) => i.entry);
    expect(options).toEqual([
      "operations.op.x-kronos-relay.dedupWindowMs",
      "operations.op.x-kronos-relay.priority.values.CRITICAL",
    ]);
  });
});
