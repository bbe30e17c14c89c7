import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  alertBytes,
  alertRoute,
  asAdmin,
  asReader,
  relayTestContext,
  text,
  tokenRevokedBytes,
  waitFor,
} from "./helpers.js";

const { resources, brokers, relay, securityToAudit } = relayTestContext();

interface RouteView {
  id: string;
  state: string;
  counters: { relayed: number; deduped: number; looped: number; deadLettered: number };
  lag: number | null;
}

/** A Kafka → RabbitMQ alert route on fresh names, its relay started, and a sink queue reading the exchange. */
async function alertSetup(options: Parameters<typeof alertRoute>[3] = {}) {
  const topic = resources.topic("relay-ops");
  const exchange = resources.exchange("relay-ops-x");
  const sink = resources.queue("relay-ops-sink");
  await brokers.createTopic(topic, 2);
  await brokers.exchange(exchange);
  const arrived = await brokers.readQueue(exchange, sink);
  const route = alertRoute(`ops-${randomUUID()}`, topic, exchange, options);
  const app = await relay([route]);
  const view = async () => (await app.inject({ url: `/routes/${route.id}`, headers: asReader })).json() as RouteView;
  return { topic, exchange, sink, arrived, route, app, view };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("relay operations", () => {
  it("does not relay a message id twice within the window (a redelivery after a crash)", async () => {
    const { topic, arrived, view } = await alertSetup();
    const value = await alertBytes();
    await brokers.produce(topic, [{ key: Buffer.from("k"), value, headers: { "message-id": "same-id" } }]);
    await waitFor(() => arrived.length === 1, "the first copy");
    await brokers.produce(topic, [{ key: Buffer.from("k"), value, headers: { "message-id": "same-id" } }]);
    await until(async () => (await view()).counters.deduped === 1, "the second one deduped");
    expect(arrived).toHaveLength(1);
    expect((await view()).counters.relayed).toBe(1);
  });

  it("dedupes on a payload field when the route says so (Gaia's fingerprint)", async () => {
    const { topic, arrived, view } = await alertSetup({ dedup: { by: "field", field: "fingerprint" } });
    const fingerprint = randomUUID();
    await brokers.produce(topic, [
      { key: Buffer.from(fingerprint), value: await alertBytes(fingerprint), headers: { "message-id": randomUUID() } },
      { key: Buffer.from(fingerprint), value: await alertBytes(fingerprint), headers: { "message-id": randomUUID() } },
      { key: Buffer.from("other"), value: await alertBytes(), headers: { "message-id": randomUUID() } },
    ]);
    // The repeat is deduped (so may be the other alert, when it was in flight behind the repeat and came again).
    await until(async () => (await view()).counters.deduped >= 1, "the repeated fingerprint deduped");
    await waitFor(() => arrived.length === 2, "two copies");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(arrived).toHaveLength(2);
    expect((await view()).counters.relayed).toBe(2);
  });

  it("pauses its source while the destination is missing, reports degraded, and resumes by itself", async () => {
    const { topic, exchange, sink, arrived, view } = await alertSetup();
    const channel = await brokers.channel();
    await channel.deleteExchange(exchange);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const values = await Promise.all(ids.map(() => alertBytes()));
    await brokers.produce(
      topic,
      ids.map((id, i) => ({ key: Buffer.from(id), value: values[i] as Buffer, headers: { "message-id": id } })),
    );
    await until(async () => (await view()).state === "degraded", "the route to report degraded");
    expect(arrived).toHaveLength(0);

    await brokers.exchange(exchange);
    await channel.bindQueue(sink, exchange, "#");
    await waitFor(() => arrived.length >= 3, "the messages once the destination is back");
    expect(arrived.map((m) => m.properties.messageId).sort()).toEqual([...ids].sort());
    await until(async () => (await view()).state === "running", "the route to run again");
  });

  it("declares its source queue again when it is deleted under it, and goes on", async () => {
    const { exchange, queue, records } = await securityToAudit("relay-ops-auth");
    await brokers.publish(exchange, "", await tokenRevokedBytes(), { messageId: "before" });
    await waitFor(() => records.length === 1, "the first message");

    await (await brokers.channel()).deleteQueue(queue);
    // Published until the queue is back and bound again (before that RabbitMQ drops them: no queue is bound).
    for (let tries = 0; records.length < 2; tries++) {
      if (tries > 100) throw new Error("the route never came back");
      await brokers.publish(exchange, "", await tokenRevokedBytes(), { messageId: `after-${tries}` });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(text(records[1]?.headers?.["message-id"])).toMatch(/^after-/);
  });

  it("needs a principal for /routes and the admin right to pause or resume; probes and metrics stay open", async () => {
    const { route, app, view } = await alertSetup();
    for (const url of ["/", "/routes", `/routes/${route.id}`]) {
      const anonymous = await app.inject({ url });
      expect(anonymous.statusCode, url).toBe(401);
      expect(anonymous.json(), url).toMatchObject({ code: "UNAUTHENTICATED" });
      expect(anonymous.headers["www-authenticate"], url).toContain('realm="kronos-relay"');
    }
    expect((await app.inject({ url: "/routes", headers: { "x-api-key": "kgw_not-a-key" } })).statusCode).toBe(401);
    for (const action of ["pause", "resume"]) {
      const url = `/routes/${route.id}/${action}`;
      expect((await app.inject({ method: "POST", url })).statusCode, url).toBe(401);
      const refused = await app.inject({ method: "POST", url, headers: asReader });
      expect(refused.statusCode, url).toBe(403);
      expect(refused.json(), url).toMatchObject({ code: "FORBIDDEN", message: expect.stringContaining('"admin"') });
    }
    // The right is checked before the route is looked up: an unknown route tells a non-admin nothing.
    expect((await app.inject({ method: "POST", url: "/routes/nope/pause", headers: asReader })).statusCode).toBe(403);
    expect((await app.inject({ method: "POST", url: "/routes/nope/pause", headers: asAdmin })).statusCode).toBe(404);
    expect((await view()).state).toBe("running");
    expect((await app.inject({ url: "/routes", headers: asReader })).statusCode).toBe(200);
    expect((await app.inject({ url: "/routes", headers: asAdmin })).statusCode).toBe(200);
    for (const url of ["/healthz", "/metrics"]) expect((await app.inject({ url })).statusCode, url).toBe(200);
  });

  it("POST /routes/:id/pause stops it, /resume starts it again; /metrics has the route's figures", async () => {
    const { topic, arrived, route, app } = await alertSetup();
    const paused = await app.inject({ method: "POST", url: `/routes/${route.id}/pause`, headers: asAdmin });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ id: route.id, state: "paused" });
    await brokers.produce(topic, [
      { key: Buffer.from("k"), value: await alertBytes(), headers: { "message-id": "p1" } },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(arrived).toHaveLength(0);
    const resumed = await app.inject({ method: "POST", url: `/routes/${route.id}/resume`, headers: asAdmin });
    expect(resumed.json()).toMatchObject({ state: "running" });
    await waitFor(() => arrived.length === 1, "the message after resume");
    // The copy can reach the queue's consumer before its publisher confirm reaches the relay, which counts it then.
    const routes = async () => (await app.inject({ url: "/routes", headers: asReader })).json() as RouteView[];
    await waitFor(async () => (await routes())[0]?.counters.relayed === 1, "the relay to count the confirmed copy");

    const all = await routes();
    expect(all).toEqual([
      expect.objectContaining({
        id: route.id,
        from: { broker: "kafka", topic, consumerGroup: `${route.id}-group` },
        events: ["kronos.gaia.CriticalAlert"],
        state: "running",
        counters: { relayed: 1, deduped: 0, looped: 0, deadLettered: 0 },
      }),
    ]);
    expect((await app.inject({ url: "/routes/nope", headers: asReader })).json()).toMatchObject({
      code: "ROUTE_NOT_FOUND",
    });
    const metrics = (await app.inject({ url: "/metrics" })).body;
    const sample = (name: string, labels: string) =>
      metrics
        .split("\n")
        .find((line) => line.startsWith(`${name}{`) && line.includes(`route="${route.id}"`) && line.includes(labels))
        ?.split(" ")
        .at(-1);
    expect(sample("kronos_relay_relayed_total", "")).toBe("1");
    expect(sample("kronos_relay_latency_seconds_count", "")).toBe("1");
    expect(sample("kronos_relay_route_state", 'state="running"')).toBe("1");
    expect(sample("kronos_relay_route_state", 'state="paused"')).toBe("0");
    expect(sample("kronos_relay_in_flight", "")).toBe("0");
    // The group's lag: 0 once the offset after the relayed record is committed.
    const lag = async () => {
      const body = (await app.inject({ url: "/metrics" })).body;
      return body.split("\n").find((line) => line.startsWith("kronos_relay_source_lag{") && line.includes(route.id));
    };
    await until(async () => (await lag())?.endsWith(" 0") === true, "the source lag at 0");
  });
});
