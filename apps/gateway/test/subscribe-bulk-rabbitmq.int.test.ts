import { addPrincipal } from "@kronos/app-kit";
import { testEndpoints, uniqueName } from "@kronos/testkit";
import amqplib, { type Channel, type ChannelModel } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ackAll, ackThrough, type ItemResult, publishAlerts, settleBulk } from "./subscribe-bulk-helpers.js";
import { listeningGateway, until } from "./subscribe-helpers.js";

const CRITICAL = "kronos.gaia.critical";

describe("settling RabbitMQ deliveries in bulk", () => {
  let gateway: Awaited<ReturnType<typeof listeningGateway>>;
  let connection: ChannelModel;
  let channel: Channel;
  const created: string[] = [];

  beforeAll(async () => {
    gateway = await listeningGateway({
      GATEWAY_SUBSCRIBE_MAX_PREFETCH: "2000",
      GATEWAY_SUBSCRIBE_MAX_SETTLE_ITEMS: "1500",
    });
    connection = await amqplib.connect(testEndpoints().rabbitmqUrl);
    channel = await connection.createChannel();
  });
  afterAll(async () => {
    for (const queue of created) {
      for (const name of [queue, `${queue}.dlq`, `${queue}.retry.300`, `${queue}.retry.1000`]) {
        await channel.deleteQueue(name).catch(() => {});
      }
      await channel.deleteExchange(`${queue}.dlx`).catch(() => {});
    }
    await connection?.close().catch(() => {});
    await gateway?.app.close();
  });

  /** A queue with dead letters, bound to the critical-alerts exchange with a key of its own. */
  async function alertQueue(): Promise<{ queue: string; key: string }> {
    const queue = uniqueName("gw-bulk");
    const key = `test.${queue}`;
    const response = await gateway.app.inject({
      method: "POST",
      url: "/queues/create",
      headers: gateway.auth,
      payload: {
        name: queue,
        broker: "rabbitmq",
        deadLetter: true,
        bindings: [{ exchange: CRITICAL, routingKey: key }],
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    created.push(queue);
    return { queue, key };
  }

  /** Messages ready plus unacknowledged, as the management API would count them once the consumers are gone. */
  const depth = async (queue: string) => (await channel.checkQueue(queue)).messageCount;

  /** Waits until `queue` has no consumer (the streams' channels are closed: their unacked messages are back). */
  const streamsClosed = (queue: string) =>
    until(async () => (await channel.checkQueue(queue)).consumerCount === 0, `the streams of ${queue} to close`);

  it("acks 1,200 deliveries of two streams in one request: each 204, the queue is empty and nothing comes again", async () => {
    const { queue, key } = await alertQueue();
    await publishAlerts(gateway, CRITICAL, key, 1200);
    // The transport holds at most 1,000 unacked deliveries a channel: two streams of 600.
    // Asking for more (the setting allows 2,000) gets 1,000 on RabbitMQ, not a 500.
    const capped = await gateway.subscribe(queue, { prefetch: 1500 });
    expect(capped.status, capped.errorBody).toBe(200);
    expect(capped.headers["x-kronos-prefetch"]).toBe("1000");
    capped.close();
    await streamsClosed(queue);
    const streams = [
      await gateway.subscribe(queue, { prefetch: 600 }),
      await gateway.subscribe(queue, { prefetch: 600 }),
    ];
    for (const stream of streams) expect(stream.status, stream.errorBody).toBe(200);
    const held = [
      ...((await streams[0]?.messages(600, 60_000)) ?? []),
      ...((await streams[1]?.messages(600, 60_000)) ?? []),
    ];
    const results = await ackAll(
      gateway,
      held.map((m) => m.id),
    );
    expect(results).toHaveLength(1200);
    expect(results.map((r) => r.handle)).toEqual(held.map((m) => m.id));
    expect(results.filter((r) => r.status !== 204)).toEqual([]);
    expect(results[0]).toEqual({
      handle: held[0]?.id,
      status: 204,
      outcome: "acked",
      messageId: held[0]?.data.messageId,
      attempt: 1,
    });
    const metrics = (await gateway.app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/gateway_settle_batch_items_count\{[^}]*kind="settle"[^}]*\} 1\n/);
    for (const stream of streams) stream.close();
    await streamsClosed(queue);
    expect(await depth(queue)).toBe(0);
    const again = await gateway.subscribe(queue);
    await expect(again.nextMessage(1500)).rejects.toThrow();
    again.close();
  });

  it("answers a mixed request item by item: ack, retry, reject, unknown, another principal's, a repeat", async () => {
    const { key: apiKey } = addPrincipal(gateway.app.principals.path, { id: uniqueName("other"), acl: ["consume:*"] });
    const { queue, key } = await alertQueue();
    await publishAlerts(gateway, CRITICAL, key, 3);
    const mine = await gateway.subscribe(queue, { prefetch: 3 });
    const [a, b, c] = await mine.messages(3);
    // Their stream is on a queue of its own: the retried copy must come back to mine.
    const other = await alertQueue();
    await publishAlerts(gateway, CRITICAL, other.key, 1);
    const theirs = await gateway.subscribe(other.queue, {}, { "x-api-key": apiKey });
    const d = await theirs.nextMessage();
    if (!(a && b && c)) throw new Error("three deliveries expected");

    const response = await settleBulk(gateway, {
      items: [
        { handle: a.id, action: "ack" },
        { handle: b.id, action: "retry", delayMs: 0, reason: "later" },
        { handle: c.id, action: "reject", reason: "bad" },
        { handle: "nope.1", action: "ack" },
        { handle: d.id, action: "ack" },
        { handle: a.id, action: "ack" },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { results: ItemResult[]; succeeded: number; failed: number };
    expect(body).toMatchObject({ succeeded: 3, failed: 3 });
    expect(body.results).toEqual([
      { handle: a.id, status: 204, outcome: "acked", messageId: a.data.messageId, attempt: 1 },
      { handle: b.id, status: 202, outcome: "retried", messageId: b.data.messageId, attempt: 1 },
      { handle: c.id, status: 202, outcome: "dead-lettered", messageId: c.data.messageId, attempt: 1 },
      { handle: "nope.1", status: 404, code: "UNKNOWN_HANDLE", message: expect.stringContaining("nope.1") },
      { handle: d.id, status: 403, code: "NOT_YOUR_DELIVERY", message: expect.stringContaining(d.id) },
      { handle: a.id, status: 409, code: "ALREADY_ACKED", message: expect.stringContaining(a.id) },
    ]);
    // The retried one comes again with attempt 2; the rejected one is a dead letter; the other principal's is held.
    const retried = await mine.nextMessage();
    expect(retried.data).toMatchObject({ messageId: b.data.messageId, attempt: 2 });
    await until(async () => (await depth(`${queue}.dlq`)) === 1, "the dead letter");
    expect(
      (await gateway.app.inject({ method: "POST", url: `/ack/${d.id}`, headers: { "x-api-key": apiKey } })).statusCode,
    ).toBe(204);
    expect((await gateway.settle("ack", retried.id)).statusCode).toBe(204);
    mine.close();
    theirs.close();
  });

  it("refuses a malformed body as a whole (400) and settles nothing", async () => {
    const { queue, key } = await alertQueue();
    await publishAlerts(gateway, CRITICAL, key, 1);
    const stream = await gateway.subscribe(queue);
    const { id } = await stream.nextMessage();
    const cases: Array<[unknown, string]> = [
      [{ items: { handle: id, action: "ack" } }, "INVALID_REQUEST"],
      [{ items: [] }, "INVALID_REQUEST"],
      [
        {
          items: [
            { handle: id, action: "ack" },
            { handle: id, action: "nack" },
          ],
        },
        "INVALID_REQUEST",
      ],
      [{ items: Array.from({ length: 1501 }, () => ({ handle: id, action: "ack" })) }, "TOO_MANY_SETTLEMENTS"],
      [[{ handle: id, action: "ack" }], "INVALID_REQUEST"],
    ];
    for (const [body, code] of cases) {
      const response = await settleBulk(gateway, body);
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json()).toMatchObject({ code, message: expect.any(String) });
    }
    expect(
      (await settleBulk(gateway, { items: Array.from({ length: 1501 }, () => ({ handle: id, action: "ack" })) })).json()
        .message,
    ).toContain("1501");
    // Still held: nothing was settled.
    expect((await gateway.settle("ack", id)).statusCode).toBe(204);
    stream.close();
  });

  it("acks cumulatively: every delivery of the subscription up to the named one, in delivery order", async () => {
    const { queue, key } = await alertQueue();
    await publishAlerts(gateway, CRITICAL, key, 5);
    const stream = await gateway.subscribe(queue, { prefetch: 5 });
    const held = await stream.messages(5);
    const ids = held.map((m) => m.id);
    const response = await ackThrough(gateway, ids[2] ?? "");
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({ acked: 3, handles: [ids[2], ids[0], ids[1]] });
    const repeat = await ackThrough(gateway, ids[2] ?? "");
    expect(repeat.statusCode).toBe(409);
    expect(repeat.json()).toMatchObject({ code: "ALREADY_ACKED" });
    expect((await ackThrough(gateway, "nope.9")).json()).toMatchObject({ code: "UNKNOWN_HANDLE" });
    expect((await gateway.settle("ack", ids[0] ?? "")).json()).toMatchObject({ code: "ALREADY_ACKED" });
    stream.close();
    await streamsClosed(queue);
    expect(await depth(queue)).toBe(2);
  });

  it("a settle racing the end of its stream is 204 (acked, gone) or 404 HANDLE_EXPIRED (comes again), never 503", async () => {
    const { queue, key } = await alertQueue();
    await publishAlerts(gateway, CRITICAL, key, 60);
    const stream = await gateway.subscribe(queue, { prefetch: 60 });
    const held = await stream.messages(60);
    stream.close();
    // Single acks, retries, a bulk request and a cumulative ack while the subscription ends.
    const answers: Array<{ id: string; status: number; code?: string }> = [];
    const record = (id: string, status: number, code?: string) =>
      answers.push({ id, status, ...(code === undefined ? {} : { code }) });
    for (const [index, message] of held.slice(0, 40).entries()) {
      const action = index % 4 === 3 ? "retry" : "ack";
      const response = await gateway.settle(action, message.id, action === "retry" ? { delayMs: 0 } : undefined);
      record(message.id, response.statusCode, response.statusCode >= 300 ? response.json().code : undefined);
    }
    const bulk = await settleBulk(gateway, { items: held.slice(40, 59).map((m) => ({ handle: m.id, action: "ack" })) });
    for (const result of bulk.json().results as ItemResult[]) record(result.handle, result.status, result.code);
    const last = held[59]?.id ?? "";
    const through = await ackThrough(gateway, last);
    record(last, through.statusCode === 200 ? 204 : through.statusCode, through.json().code);

    for (const answer of answers) {
      expect([204, 202, 404], JSON.stringify(answer)).toContain(answer.status);
      if (answer.status === 404) expect(answer.code).toBe("HANDLE_EXPIRED");
    }
    // What was answered 404 went back to the queue; what was answered 204 did not (retried copies come back too).
    await streamsClosed(queue);
    const expired = answers.filter((a) => a.status === 404).length;
    const retried = answers.filter((a) => a.status === 202).length;
    await until(async () => (await depth(queue)) === expired + retried, `${expired + retried} messages back`, 10_000);
  });
});
