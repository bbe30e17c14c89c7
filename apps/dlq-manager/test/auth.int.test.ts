import type { KronosApp } from "@kronos/app-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestDatabase } from "./database.js";
import { asOperator, openApp, principal, registerTestEvent, seedDeadLetter, type TestEvent } from "./harness.js";

// Who may do what: app-kit's principals with the dead-letter rights, and `produce` on where a replay sends.
const database = new TestDatabase();
let app: KronosApp;
let event: TestEvent;
let kafkaLetter: string;
let discardLetter: string;

const asReader = principal("reader", ["dlq:read"]);
const asReplayer = principal("replayer", ["dlq:replay", "produce:kronos.dlqauth.*"]);
const asReplayerWithoutProduce = principal("replayer-no-produce", ["dlq:replay", "dlq:read"]);
const asDiscarder = principal("discarder", ["dlq:discard"]);
const asAdmin = principal("admin", ["admin", "produce:*", "consume:*"]);

type Headers = Record<string, string>;
const call = async (method: "GET" | "POST", url: string, headers: Headers = {}, payload?: object) => {
  const response = await app.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  return { status: response.statusCode, body: response.json() };
};

beforeAll(async () => {
  event = await registerTestEvent();
  app = await openApp(database, {});
  const seed = (broker: "kafka" | "rabbitmq", destination: string, routingKey: string | undefined, id: string) =>
    seedDeadLetter(app, {
      broker,
      destination,
      ...(routingKey === undefined ? {} : { routingKey }),
      body: event.encode({ id, amount: 1 }),
      messageId: `auth-${id}`,
      eventType: event.name,
    });
  kafkaLetter = await seed("kafka", "kronos.dlqauth.orders", undefined, "k");
  // Its original destination is the default exchange's queue elsewhere.queue, which "replayer" may not produce to.
  await seed("rabbitmq", "", "elsewhere.queue", "r");
  discardLetter = await seed("kafka", "kronos.dlqauth.discarded", undefined, "d");
}, 60_000);

afterAll(async () => {
  await app?.close();
  await Promise.all([database.drop(), event?.cleanup()]);
});

describe("dlq-manager rights", () => {
  it("keeps the page, the probes and the metrics open; everything else needs a principal", async () => {
    for (const url of ["/", "/healthz", "/metrics"]) expect((await app.inject({ url })).statusCode, url).toBe(200);
    const anonymous = await call("GET", "/dead-letters");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe("UNAUTHENTICATED");
    expect((await app.inject({ url: "/audit" })).headers["www-authenticate"]).toContain('realm="kronos-dlq-manager"');
    expect((await call("GET", "/dead-letters", { "x-api-key": "kgw_unknown" })).status).toBe(401);
  });

  it("dlq:read for every GET route", async () => {
    const urls = [
      "/dead-letters",
      "/dead-letters/groups",
      `/dead-letters/${kafkaLetter}`,
      "/audit",
      "/sources",
      "/replays",
      "/replays/424242",
    ];
    for (const url of urls) {
      expect((await call("GET", url)).status, url).toBe(401);
      const refused = await call("GET", url, asReplayer);
      expect(refused.status, url).toBe(403);
      expect(refused.body.message, url).toBe('Principal "replayer" lacks the right "dlq:read"');
      expect((await call("GET", url, asAdmin)).status, url).toBe(403);
      expect((await call("GET", url, asReader)).status, url).toBe(url === "/replays/424242" ? 404 : 200);
    }
  });

  it("dlq:discard to discard and purge; the audit names the principal", async () => {
    const discard = `/dead-letters/${discardLetter}/discard`;
    const purge = "/dead-letters/purge";
    expect((await call("POST", discard, {}, { reason: "x" })).status).toBe(401);
    for (const headers of [asReader, asReplayer]) {
      const refused = await call("POST", discard, headers, { reason: "x" });
      expect(refused.status).toBe(403);
      expect(refused.body.message).toContain('"dlq:discard"');
      expect((await call("POST", purge, headers, { olderThanDays: 36500 })).status).toBe(403);
    }
    expect((await call("GET", `/dead-letters/${discardLetter}`, asReader)).body.state).toBe("new");
    expect((await call("POST", purge, asDiscarder, { olderThanDays: 36500 })).body).toEqual({ deleted: 0 });
    expect((await call("POST", discard, asDiscarder, { reason: "not ours" })).status).toBe(200);
    const audit = await call("GET", `/audit?deadLetterId=${discardLetter}`, asReader);
    expect(audit.body.entries).toEqual([expect.objectContaining({ action: "discard", actor: "discarder" })]);
  });

  it("dlq:replay to repair", async () => {
    const url = `/dead-letters/${kafkaLetter}/repair`;
    const payload = { payload: { id: "k-fixed", amount: 10 } };
    expect((await call("POST", url, {}, payload)).status).toBe(401);
    expect((await call("POST", url, asReader, payload)).status).toBe(403);
    expect((await call("POST", url, asDiscarder, payload)).status).toBe(403);
    const repaired = await call("POST", url, asReplayer, payload);
    expect(repaired.status, JSON.stringify(repaired.body)).toBe(200);
    const audit = await call("GET", `/audit?deadLetterId=${kafkaLetter}`, asReader);
    expect(audit.body.entries).toEqual([expect.objectContaining({ action: "repair", actor: "replayer" })]);
  });

  it("dlq:replay and produce on the target (or the original destination) to start a replay; nothing stored otherwise", async () => {
    const jobs = async () => (await call("GET", "/replays", asReader)).body.jobs as Array<{ actor: string }>;
    const ids = [kafkaLetter];
    expect((await call("POST", "/replays", {}, { ids, dryRun: true })).status).toBe(401);
    const noReplay = await call("POST", "/replays", asReader, { ids, dryRun: true });
    expect(noReplay.status).toBe(403);
    expect(noReplay.body.message).toContain('"dlq:replay"');

    // The original destination, kronos.dlqauth.orders, needs produce on it.
    const noProduce = await call("POST", "/replays", asReplayerWithoutProduce, { ids, dryRun: true });
    expect(noProduce.status).toBe(403);
    expect(noProduce.body.message).toBe(
      'Principal "replayer-no-produce" lacks the right "produce:kronos.dlqauth.orders"',
    );
    // An explicit target outside the principal's produce rights.
    const target = { broker: "kafka", topic: "kronos.other.orders" };
    const badTarget = await call("POST", "/replays", asReplayer, { ids, target, dryRun: true });
    expect(badTarget.status).toBe(403);
    expect(badTarget.body.message).toContain('"produce:kronos.other.orders"');
    // A filter selecting a letter whose original destination (the default exchange's queue) is not allowed.
    const byFilter = await call("POST", "/replays", asReplayer, {
      filter: { source: "elsewhere.queue.dlq" },
      dryRun: true,
    });
    expect(byFilter.status).toBe(403);
    expect(byFilter.body.message).toContain('"produce:elsewhere.queue"');
    expect(await jobs()).toEqual([]);
    expect((await call("GET", `/dead-letters/${kafkaLetter}`, asReader)).body.state).toBe("new");

    const allowed = await call("POST", "/replays", asReplayer, { ids, dryRun: true });
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(201);
    const retargeted = await call("POST", "/replays", asReplayer, {
      ids,
      target: { broker: "kafka", topic: "kronos.dlqauth.retry" },
      dryRun: true,
    });
    expect(retargeted.status, JSON.stringify(retargeted.body)).toBe(201);
    expect((await jobs()).map((job) => job.actor)).toEqual(["replayer", "replayer"]);

    const action = `/replays/${allowed.body.id}/cancel`;
    expect((await call("POST", action)).status).toBe(401);
    expect((await call("POST", action, asReader)).status).toBe(403);
    // Cancelled, or already completed (409): either way the right was granted.
    expect([200, 409]).toContain((await call("POST", action, asOperator)).status);
  });
});
