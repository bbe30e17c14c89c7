import type { KronosApp } from "@kronos/app-kit";
import { deadLetterHeaders } from "@kronos/transport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodePayload } from "../src/decode.js";
import { storeDeadLetter } from "../src/store/ingest.js";
import { TestDatabase } from "./database.js";
import { asOperator, OPERATOR, openApp, registerTestEvent, type TestEvent } from "./harness.js";

// Browse and explain against PostgreSQL and the real registry; the dead letters are stored as custody stores them.
const database = new TestDatabase();
let app: KronosApp;
let event: TestEvent;

const bytes = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, Buffer.from(value)]));

function kronosHeaders(overrides: { errorCode: string; error: string; reason?: "max-attempts" | "rejected" }) {
  return bytes({
    ...deadLetterHeaders({
      reason: overrides.reason ?? "max-attempts",
      errorCode: overrides.errorCode,
      error: overrides.error,
      broker: "kafka",
      destination: "orders",
      eventType: event.name,
      attempts: 5,
      firstFailureMs: 1000,
      lastFailureMs: 2000,
      consumer: "billing",
    }),
  });
}

beforeAll(async () => {
  event = await registerTestEvent();
  app = await openApp(database, {});
  const letters = [
    {
      offset: "1",
      body: event.encode({ id: "a", amount: 1 }),
      headers: kronosHeaders({ errorCode: "CLIENT_RETRY", error: "db timeout after 3000 ms" }),
    },
    {
      offset: "2",
      body: event.encode({ id: "b", amount: 2 }),
      headers: kronosHeaders({ errorCode: "CLIENT_RETRY", error: "db timeout after 5000 ms" }),
    },
    {
      offset: "3",
      body: event.encode({ id: "c", amount: 3 }),
      headers: kronosHeaders({ errorCode: "REJECTED", error: "amount too small", reason: "rejected" }),
    },
    {
      offset: "4",
      body: Buffer.from("not avro at all"),
      headers: kronosHeaders({ errorCode: "DECODE_FAILED", error: "bad magic byte" }),
    },
    {
      offset: "5",
      body: Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2]),
      headers: kronosHeaders({ errorCode: "SCHEMA_ID_NOT_FOUND", error: "unknown schema" }),
    },
  ];
  for (const letter of letters) {
    const decoded = await decodePayload(app.serde, letter.body);
    await storeDeadLetter(
      app.db,
      { broker: "kafka", source: "orders.dlq", partition: 0, ...letter },
      decoded.decoded ? decoded.value : undefined,
    );
  }
}, 60_000);

afterAll(async () => {
  await app?.close();
  await Promise.all([database.drop(), event?.cleanup()]);
});

const get = async (url: string) => {
  const response = await app.inject({ method: "GET", url, headers: asOperator });
  return { status: response.statusCode, body: response.json() };
};

describe("browsing dead letters", () => {
  it("lists them newest first with cursor pagination", async () => {
    const first = await get("/dead-letters?limit=2");
    expect(first.status).toBe(200);
    expect(first.body.items.map((item: { messageId: null }) => item.messageId)).toHaveLength(2);
    const ids: string[] = first.body.items.map((item: { id: string }) => item.id);
    let cursor = first.body.nextCursor;
    while (cursor) {
      const next = await get(`/dead-letters?limit=2&cursor=${cursor}`);
      ids.push(...next.body.items.map((item: { id: string }) => item.id));
      cursor = next.body.nextCursor;
    }
    expect(ids).toHaveLength(5);
    expect([...ids].sort((a, b) => Number(b) - Number(a))).toEqual(ids);
  });

  it("filters by source, event type, reason, error code, error text, state and time", async () => {
    const count = async (query: string) => (await get(`/dead-letters?${query}`)).body.items.length;
    expect(await count("source=orders.dlq")).toBe(5);
    expect(await count("source=other.dlq")).toBe(0);
    expect(await count(`eventType=${event.name}`)).toBe(5);
    expect(await count("reason=rejected")).toBe(1);
    expect(await count("errorCode=CLIENT_RETRY")).toBe(2);
    expect(await count("error=TIMEOUT")).toBe(2);
    expect(await count("error=100%25")).toBe(0);
    expect(await count("state=new")).toBe(5);
    expect(await count("from=2000-01-01T00:00:00Z")).toBe(5);
    expect(await count("to=2000-01-01T00:00:00Z")).toBe(0);
    expect(await count("payloadPath=id&payloadValue=b")).toBe(1);
    expect(await count("payloadPath=amount&payloadValue=3")).toBe(1);
    expect(await count("payloadPath=nested.none&payloadValue=3")).toBe(0);
  });

  it("answers bad input with a 4xx and a stable code, never a 5xx", async () => {
    const bad = [
      ["/dead-letters?from=yesterday", 400, "INVALID_FILTER"],
      ["/dead-letters?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z", 400, "INVALID_FILTER"],
      ["/dead-letters?cursor=bm9wZQ", 400, "INVALID_CURSOR"],
      ["/dead-letters?payloadPath=id", 400, "INVALID_FILTER"],
      ["/dead-letters?payloadPath=a;drop&payloadValue=1", 400, "BAD_REQUEST"],
      ["/dead-letters?limit=0", 400, "BAD_REQUEST"],
      ["/dead-letters?state=lost", 400, "BAD_REQUEST"],
      ["/dead-letters?colour=red", 400, "BAD_REQUEST"],
      ["/dead-letters/abc", 400, "INVALID_ID"],
      ["/dead-letters/99999999", 404, "DEAD_LETTER_NOT_FOUND"],
      ["/audit?deadLetterId=-1", 400, "INVALID_ID"],
    ] as const;
    for (const [url, status, code] of bad) {
      const response = await get(url);
      expect({ url, status: response.status, code: response.body.code }).toEqual({ url, status, code });
      expect(response.body.message).toEqual(expect.any(String));
    }
  });

  it("shows one decoded by its writer schema, and what cannot be decoded as hex with the reason", async () => {
    const { body: list } = await get("/dead-letters?errorCode=REJECTED");
    const { status, body } = await get(`/dead-letters/${list.items[0].id}`);
    expect(status).toBe(200);
    expect(body.payload).toMatchObject({
      decoded: true,
      schemaId: event.schemaId,
      writerName: event.name,
      value: { id: "c", amount: 3 },
    });
    expect(body.headers["x-kronos-dl-error"].text).toBe("amount too small");
    expect(body.model).toMatchObject({ dialect: "kronos", reason: "rejected", destination: "orders" });

    const notAvro = (await get("/dead-letters?errorCode=DECODE_FAILED")).body.items[0].id;
    expect((await get(`/dead-letters/${notAvro}`)).body.payload).toMatchObject({
      decoded: false,
      code: "INVALID_MAGIC_BYTE",
      hex: Buffer.from("not avro at all").toString("hex"),
    });
    const unknownId = (await get("/dead-letters?errorCode=SCHEMA_ID_NOT_FOUND")).body.items[0].id;
    const unknown = (await get(`/dead-letters/${unknownId}`)).body.payload;
    expect(unknown).toMatchObject({ decoded: false, code: "SCHEMA_ID_NOT_FOUND", hex: "007ffffff00102" });
    expect(unknown.reason).toEqual(expect.any(String));
  });

  it("groups them by source, event, reason and error fingerprint (numbers in messages do not split a group)", async () => {
    const { body } = await get("/dead-letters/groups");
    const timeouts = body.groups.find((group: { errorCode: string }) => group.errorCode === "CLIENT_RETRY");
    expect(timeouts).toMatchObject({ source: "orders.dlq", eventType: event.name, reason: "max-attempts", count: 2 });
    expect(body.groups).toHaveLength(4);
    expect(Date.parse(timeouts.lastSeen)).toBeGreaterThanOrEqual(Date.parse(timeouts.firstSeen));
    // The trend: first seen per hour over the last 24 hours, oldest first; this file stored them all just now.
    expect(timeouts.trend).toEqual([...Array(23).fill(0), 2]);
  });

  it("exposes per-source figures to Prometheus: by state, the oldest unresolved age, the error classes", async () => {
    const response = await app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^dlq_dead_letters\{source="orders.dlq",state="new",app="dlq-manager"\} 5$/m);
    expect(response.body).toMatch(/^dlq_oldest_unresolved_age_seconds\{source="orders.dlq",app="dlq-manager"\} \d/m);
    expect(response.body).toMatch(/^dlq_error_fingerprints\{source="orders.dlq",app="dlq-manager"\} 4$/m);
    const newest =
      /^dlq_error_fingerprint_newest_first_seen_timestamp_seconds\{source="orders.dlq",app="dlq-manager"\} ([\d.e+]+)$/m.exec(
        response.body,
      );
    // The classes were first seen when this file stored them, a moment ago.
    expect(Date.now() / 1000 - Number(newest?.[1])).toBeGreaterThanOrEqual(0);
    expect(Date.now() / 1000 - Number(newest?.[1])).toBeLessThan(300);
    expect(response.body).toContain("# TYPE dlq_custody_stored_total counter");
  });

  it("discards one with a reason, once, and audits it", async () => {
    const id = (await get("/dead-letters?errorCode=DECODE_FAILED")).body.items[0].id;
    const discard = () =>
      app.inject({
        method: "POST",
        url: `/dead-letters/${id}/discard`,
        payload: { reason: "garbage from a test" },
        headers: asOperator,
      });
    expect((await discard()).statusCode).toBe(200);
    const again = await discard();
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe("INVALID_STATE");
    const noReason = await app.inject({
      method: "POST",
      url: `/dead-letters/${id}/discard`,
      payload: {},
      headers: asOperator,
    });
    expect(noReason.statusCode).toBe(400);

    expect((await get(`/dead-letters?state=discarded`)).body.items.map((i: { id: string }) => i.id)).toEqual([id]);
    const audit = await get(`/audit?deadLetterId=${id}`);
    expect(audit.body.entries).toEqual([
      expect.objectContaining({
        action: "discard",
        actor: OPERATOR,
        deadLetterId: id,
        detail: expect.objectContaining({ reason: "garbage from a test" }),
      }),
    ]);
    const detail = await get(`/dead-letters/${id}`);
    expect(detail.body.history).toHaveLength(1);

    const purge = await app.inject({
      method: "POST",
      url: "/dead-letters/purge",
      payload: { olderThanDays: 0 },
      headers: asOperator,
    });
    expect(purge.json()).toEqual({ deleted: 1 });
    expect((await get(`/dead-letters/${id}`)).status).toBe(404);
  });
});
