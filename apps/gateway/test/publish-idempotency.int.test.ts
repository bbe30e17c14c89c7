import { randomUUID } from "node:crypto";
import { addPrincipal } from "@kronos/app-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { bearer, criticalAlert, plainClients } from "./publish-helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;
type Clients = Awaited<ReturnType<typeof plainClients>>;

const ALERTS = "kronos.gaia.alerts";
const CRITICAL = "kronos.gaia.critical";

describe.each([
  ["in memory", {}],
  ["in Redis", { REDIS_URL: "redis://127.0.0.1:6379" }],
])("Idempotency-Key (%s)", (_, env: Record<string, string>) => {
  let app: App;
  let clients: Clients;
  let headers: Record<string, string>;

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), env);
    await app.ready();
    clients = await plainClients();
    headers = await bearer("gaia-service", ["produce:kronos.gaia.*"]);
  });
  afterAll(async () => {
    await clients?.close();
    await app?.close();
  });

  const publish = (body: unknown, key: string, target = app) =>
    target.inject({
      method: "POST",
      url: "/publish",
      headers: { ...headers, "idempotency-key": key },
      payload: body as object,
    });

  it("a payload nested 4,000 levels with a key is 400 JSON_TOO_DEEP (was a 500 from the recursive canonical JSON)", async () => {
    const deep = `${'{"a":'.repeat(4000)}1${"}".repeat(4000)}`;
    for (const url of ["/publish", "/publish/batch", "/request"]) {
      const response = await app.inject({
        method: "POST",
        url,
        headers: { ...headers, "idempotency-key": randomUUID(), "content-type": "application/json" },
        payload: `{"topic":"${ALERTS}","payload":${deep}}`,
      });
      expect(response.statusCode, `${url}: ${response.body}`).toBe(400);
      expect(response.json()).toEqual({ code: "JSON_TOO_DEEP", message: expect.stringContaining("64 levels") });
    }
  });

  it("a retry with the same key and request answers the first answer and writes once", async () => {
    const key = randomUUID();
    const body = { topic: ALERTS, payload: criticalAlert() };
    const before = await clients.endOffsets(ALERTS);
    const first = await publish(body, key);
    const second = await publish(body, key);
    expect(first.statusCode, first.body).toBe(202);
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual(first.json());
    expect(second.headers["idempotent-replayed"]).toBe("true");
    expect(await clients.endOffsets(ALERTS)).toBe(before + 1);
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(/gateway_idempotent_replays_total\{[^}]*route="\/publish"[^}]*\} [1-9]/);
  });

  it("keys are per identity: an API-key principal whose id equals a JWT's sub does not get the JWT's answer", async () => {
    const { key: apiKey } = addPrincipal(app.principals.path, { id: "gaia-service", acl: ["produce:kronos.gaia.*"] });
    const key = randomUUID();
    const body = { topic: ALERTS, payload: criticalAlert() };
    const before = await clients.endOffsets(ALERTS);
    const byJwt = await publish(body, key);
    const byApiKey = await app.inject({
      method: "POST",
      url: "/publish",
      headers: { "x-api-key": apiKey, "idempotency-key": key },
      payload: body,
    });
    expect(byJwt.statusCode, byJwt.body).toBe(202);
    expect(byApiKey.statusCode, byApiKey.body).toBe(202);
    expect(byApiKey.headers["idempotent-replayed"]).toBeUndefined();
    expect(byApiKey.json().messageId).not.toBe(byJwt.json().messageId);
    expect(await clients.endOffsets(ALERTS)).toBe(before + 2);
  });

  it("concurrent duplicates publish once (RabbitMQ queue depth 1)", async () => {
    const routingKey = `alert.idem.${randomUUID()}`;
    const queue = await clients.bindQueue(CRITICAL, routingKey);
    const key = randomUUID();
    const body = { topic: CRITICAL, key: routingKey, payload: criticalAlert() };
    const responses = await Promise.all(Array.from({ length: 8 }, () => publish(body, key)));
    for (const response of responses) expect(response.statusCode, response.body).toBe(202);
    expect(new Set(responses.map((r) => r.json().messageId)).size).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await clients.depth(queue)).toBe(1);
  });

  it("the same key with a different request is 422 IDEMPOTENCY_KEY_REUSED and writes nothing", async () => {
    const key = randomUUID();
    expect((await publish({ topic: ALERTS, payload: criticalAlert() }, key)).statusCode).toBe(202);
    const before = await clients.endOffsets(ALERTS);
    const reused = await publish({ topic: ALERTS, payload: criticalAlert() }, key);
    expect(reused.statusCode).toBe(422);
    expect(reused.json()).toEqual({ code: "IDEMPOTENCY_KEY_REUSED", message: expect.stringContaining(key) });
    expect(await clients.endOffsets(ALERTS)).toBe(before);
  });

  it("keys belong to their principal, and an invalid key is 400", async () => {
    const key = randomUUID();
    const body = { topic: ALERTS, payload: criticalAlert() };
    const mine = await publish(body, key);
    const other = await app.inject({
      method: "POST",
      url: "/publish",
      headers: { ...(await bearer("other-service", ["produce:*"])), "idempotency-key": key },
      payload: body,
    });
    expect(other.statusCode).toBe(202);
    expect(other.json().messageId).not.toBe(mine.json().messageId);
    const invalid = await publish(body, "x".repeat(300));
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().code).toBe("INVALID_IDEMPOTENCY_KEY");
  });

  if (env.REDIS_URL !== undefined) {
    it("two gateway instances share the keys through Redis", async () => {
      const second = await testGateway(tempPrincipalsFile(), env);
      try {
        const key = randomUUID();
        const body = { topic: ALERTS, payload: criticalAlert() };
        const before = await clients.endOffsets(ALERTS);
        const a = await publish(body, key, app);
        const b = await publish(body, key, second);
        expect(b.json()).toEqual(a.json());
        expect(await clients.endOffsets(ALERTS)).toBe(before + 1);
      } finally {
        await second.close();
      }
    });
  }
});
