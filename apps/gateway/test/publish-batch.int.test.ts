import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";
import { asyncRequest, bearer, criticalAlert, plainClients } from "./publish-helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;
type Clients = Awaited<ReturnType<typeof plainClients>>;

const ALERTS = "kronos.gaia.alerts";
const CRITICAL = "kronos.gaia.critical";
const ROUTER = "kronos.router";

describe("POST /publish/batch", () => {
  let app: App;
  let clients: Clients;
  let headers: Record<string, string>;

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), { GATEWAY_PUBLISH_BATCH_MAX: "10" });
    await app.ready();
    clients = await plainClients();
    headers = await bearer("gaia-service", ["produce:kronos.gaia.*", "produce:kronos.router"]);
  });
  afterAll(async () => {
    await clients?.close();
    await app?.close();
  });

  const batch = (messages: unknown[]) =>
    app.inject({ method: "POST", url: "/publish/batch", headers, payload: { messages } });

  it("publishes to both brokers and answers 202 with each message's result", async () => {
    const routingKey = `alert.batch.${randomUUID()}`;
    const queue = await clients.bindQueue(CRITICAL, routingKey);
    const before = await clients.endOffsets(ALERTS);
    const response = await batch([
      { topic: ALERTS, payload: criticalAlert() },
      { topic: CRITICAL, key: routingKey, payload: criticalAlert() },
      { topic: ALERTS, payload: criticalAlert() },
    ]);
    expect(response.statusCode, response.body).toBe(202);
    const { results } = response.json();
    expect(
      results.map((r: { index: number; status: number; broker: string }) => [r.index, r.status, r.broker]),
    ).toEqual([
      [0, 202, "kafka"],
      [1, 202, "rabbitmq"],
      [2, 202, "kafka"],
    ]);
    expect(results[0].offset).toEqual(expect.any(String));
    expect(await clients.endOffsets(ALERTS)).toBe(before + 2);
    expect(await clients.depth(queue)).toBe(1);
  });

  it("many violations: 422 lists the first 100 and counts the rest in `more`; the answer stays smaller than the request", async () => {
    const extra = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`unknown_field_${i}`, i]));
    const messages = Array.from({ length: 10 }, () => ({ topic: ALERTS, payload: { ...criticalAlert(), ...extra } }));
    const response = await batch(messages);
    expect(response.statusCode, response.body.slice(0, 500)).toBe(422);
    const body = response.json();
    expect(body.code).toBe("VALIDATION_FAILED");
    expect(body.errors).toHaveLength(100);
    expect(body.errors[0]).toMatchObject({ index: 0, path: expect.stringContaining("unknown_field_") });
    expect(body.more).toBe(10 * 300 - 100);
    expect(response.body.length).toBeLessThan(JSON.stringify({ messages }).length);
  });

  it("one invalid message: 422 with the violations by index, and nothing is written", async () => {
    const routingKey = `alert.batch.${randomUUID()}`;
    const queue = await clients.bindQueue(CRITICAL, routingKey);
    const before = await clients.endOffsets(ALERTS);
    const response = await batch([
      { topic: ALERTS, payload: criticalAlert() },
      { topic: CRITICAL, key: routingKey, payload: criticalAlert() },
      { topic: ALERTS, payload: criticalAlert({ severity: "NOPE", labels: { a: 1 } }) },
    ]);
    expect(response.statusCode, response.body).toBe(422);
    expect(response.json()).toEqual({
      code: "VALIDATION_FAILED",
      message: "1 of 3 messages do not match their schema; nothing was published",
      errors: [
        { index: 2, path: "severity", message: expect.any(String) },
        { index: 2, path: 'labels["a"]', message: expect.any(String) },
      ],
    });
    expect(await clients.endOffsets(ALERTS)).toBe(before);
    expect(await clients.depth(queue)).toBe(0);
  });

  it("an unroutable message gives 207 with its own status; the others are published", async () => {
    const routingKey = `alert.batch.${randomUUID()}`;
    const queue = await clients.bindQueue(CRITICAL, routingKey);
    const response = await batch([
      { topic: CRITICAL, key: routingKey, payload: criticalAlert() },
      { topic: ROUTER, event: "kronos.router.AsyncRequest", payload: asyncRequest(`nobody-${randomUUID()}`) },
    ]);
    expect(response.statusCode, response.body).toBe(207);
    const { results } = response.json();
    expect(results[0]).toMatchObject({ index: 0, status: 202 });
    expect(results[1]).toMatchObject({ index: 1, status: 422, code: "UNROUTABLE" });
    expect(await clients.depth(queue)).toBe(1);
  });

  it("refuses more than the maximum, a topic without produce (403), and unroutable requests naming the index", async () => {
    const tooMany = await batch(Array.from({ length: 11 }, () => ({ topic: ALERTS, payload: criticalAlert() })));
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().code).toBe("INVALID_REQUEST");
    const forbidden = await batch([
      { topic: ALERTS, payload: criticalAlert() },
      { topic: "kronos.log.entries", payload: {} },
    ]);
    expect(forbidden.statusCode).toBe(403);
    const unknown = await batch([
      { topic: ALERTS, payload: criticalAlert() },
      { topic: "kronos.gaia.nowhere", payload: {} },
    ]);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ code: "UNKNOWN_TOPIC", message: expect.stringMatching(/^messages\[1\]: /) });
  });
});
