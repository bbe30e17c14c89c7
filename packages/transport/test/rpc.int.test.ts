import { TestResources, testEndpoints } from "@kronos/testkit";
import { type Channel, type ChannelModel, connect } from "amqplib";
import kafkajs, { type Admin } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AmqpConnectionManager,
  type AmqpIncomingRequest,
  type AmqpRequest,
  type AmqpRequester,
  type AmqpResponder,
  type AmqpResponderOptions,
  createAmqpRequester,
  createKafkaConnection,
  createKafkaRequester,
  type KafkaConnection,
  type KafkaRequester,
  type KafkaResponder,
  type RequestHandler,
  serveAmqpRequests,
  serveKafkaRequests,
  TransportError,
} from "../src/index.js";
import { brokerConnections, closeOnBroker, eventually } from "./rabbitmq-management.js";

const { Kafka, logLevel } = kafkajs;
const resources = new TestResources();
const endpoints = testEndpoints();

/** Rejects unless `promise` rejects with a TransportError of `code`; returns the error. */
async function failure(promise: Promise<unknown>, code: string): Promise<TransportError> {
  const error = await promise.then(
    () => {
      throw new Error(`expected ${code}, got a reply`);
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TransportError);
  expect((error as TransportError).code, (error as Error).message).toBe(code);
  return error as TransportError;
}

describe("RabbitMQ request/reply (direct reply-to)", () => {
  let plain: ChannelModel;
  let admin: Channel;
  let manager: AmqpConnectionManager;
  let requester: AmqpRequester;
  const responders: AmqpResponder[] = [];
  const managerName = `transport-rpc-test-${process.pid}`;

  /** A direct exchange and a queue bound to it with `routingKey` (optionally dead-lettering to a second queue). */
  async function requestQueue(routingKey: string, deadLetters = false) {
    const exchange = resources.exchange("transport-rpc");
    const queue = resources.queue("transport-rpc");
    await admin.assertExchange(exchange, "direct", { durable: false });
    let dlq: string | undefined;
    if (deadLetters) {
      dlq = resources.queue("transport-rpc-dlq");
      await admin.assertQueue(dlq, { durable: false });
    }
    await admin.assertQueue(queue, {
      durable: false,
      ...(dlq === undefined ? {} : { deadLetterExchange: "", deadLetterRoutingKey: dlq }),
    });
    await admin.bindQueue(queue, exchange, routingKey);
    return { exchange, queue, dlq };
  }

  function serve(options: AmqpResponderOptions, handler: RequestHandler<AmqpIncomingRequest>): AmqpResponder {
    const responder = serveAmqpRequests(manager, options, handler);
    responders.push(responder);
    return responder;
  }

  const request = (exchange: string, routingKey: string, body: string, extra: Partial<AmqpRequest> = {}) => ({
    exchange,
    routingKey,
    content: Buffer.from(body),
    messageId: crypto.randomUUID(),
    type: "test.Request",
    ...extra,
  });

  beforeAll(async () => {
    plain = await connect(endpoints.rabbitmqUrl);
    plain.on("error", () => undefined);
    admin = await plain.createChannel();
    manager = new AmqpConnectionManager({
      url: endpoints.rabbitmqUrl,
      name: managerName,
      reconnect: { initialDelayMs: 100, maxDelayMs: 500 },
    });
    manager.start();
    expect(await manager.waitForConnection(10_000)).toBe(true);
    requester = createAmqpRequester(manager);
  });

  afterAll(async () => {
    await requester?.close();
    await Promise.all(responders.map((r) => r.close()));
    await manager?.close();
    await resources.cleanup();
    await plain?.close().catch(() => undefined);
  });

  it("round trip: the responder sees the request's body, type and headers; the reply comes back with its own", async () => {
    const { exchange, queue } = await requestQueue("users.get");
    const seen: Array<{ eventType: string | undefined; headers: Record<string, string>; routingKey: string }> = [];
    await serve({ queue }, async (incoming) => {
      seen.push({ eventType: incoming.eventType, headers: { ...incoming.headers }, routingKey: incoming.routingKey });
      return {
        content: Buffer.from(`hello ${incoming.body.toString()}`),
        type: "test.Reply",
        contentType: "text/plain",
        headers: { served: "yes" },
      };
    }).ready;

    const reply = await requester.request(
      request(exchange, "users.get", "ada", { correlationId: "corr-round-trip", headers: { tenant: "acme" } }),
      // A fraction, as deadlines computed with performance.now() give (RabbitMQ's expiration takes integers only).
      { timeoutMs: 4999.75 },
    );
    expect(reply.body.toString()).toBe("hello ada");
    expect(reply.headers).toMatchObject({
      "correlation-id": "corr-round-trip",
      "event-type": "test.Reply",
      "content-type": "text/plain",
      served: "yes",
    });
    expect(reply.headers["message-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen).toEqual([
      {
        eventType: "test.Request",
        routingKey: "users.get",
        headers: expect.objectContaining({
          tenant: "acme",
          "correlation-id": "corr-round-trip",
          "reply-to": expect.stringMatching(/^amq\.rabbitmq\.reply-to\./),
        }),
      },
    ]);
    // Acked: nothing left in the queue.
    expect((await admin.checkQueue(queue)).messageCount).toBe(0);
  });

  it("no responder: REPLY_TIMEOUT after the timeout, not before, not much after", async () => {
    const { exchange, queue } = await requestQueue("nobody.home");
    const started = Date.now();
    const error = await failure(
      requester.request(request(exchange, "nobody.home", "x"), { timeoutMs: 400 }),
      "REPLY_TIMEOUT",
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(400 + 500);
    expect(error.retriable).toBe(true);
    // The request expires in its queue with the timeout: nobody answers it later.
    await eventually(async () => expect((await admin.checkQueue(queue)).messageCount).toBe(0), 5000);
  });

  it("100 concurrent requests each get their own reply", async () => {
    const { exchange, queue } = await requestQueue("square");
    await serve({ queue, prefetch: 32 }, async (incoming) => {
      const n = Number(incoming.body.toString());
      // Replies finish out of order.
      await new Promise((resolve) => setTimeout(resolve, (n * 7) % 20));
      return { content: Buffer.from(String(n * n)) };
    }).ready;
    const numbers = Array.from({ length: 100 }, (_, i) => i);
    const replies = await Promise.all(
      numbers.map((n) => requester.request(request(exchange, "square", String(n)), { timeoutMs: 10_000 })),
    );
    expect(replies.map((r) => Number(r.body.toString()))).toEqual(numbers.map((n) => n * n));
  });

  it("an unroutable request is UNROUTABLE at once, not a timeout", async () => {
    const { exchange } = await requestQueue("bound.key");
    const started = Date.now();
    await failure(requester.request(request(exchange, "unbound.key", "x"), { timeoutMs: 10_000 }), "UNROUTABLE");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("a missing exchange is DESTINATION_NOT_FOUND and does not fail the requests waiting on the channel", async () => {
    const { exchange, queue } = await requestQueue("slow");
    await serve({ queue }, async (incoming) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { content: incoming.body };
    }).ready;
    const waiting = requester.request(request(exchange, "slow", "still here"), { timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await failure(
      requester.request(request(`missing-${crypto.randomUUID()}`, "x", "x"), { timeoutMs: 5000 }),
      "DESTINATION_NOT_FOUND",
    );
    expect((await waiting).body.toString()).toBe("still here");
  });

  it("a correlation id already waiting is refused (INVALID_OPTIONS)", async () => {
    const { exchange } = await requestQueue("dup");
    const first = requester.request(request(exchange, "dup", "1", { correlationId: "same" }), { timeoutMs: 300 });
    await failure(
      requester.request(request(exchange, "dup", "2", { correlationId: "same" }), { timeoutMs: 300 }),
      "INVALID_OPTIONS",
    );
    await failure(first, "REPLY_TIMEOUT");
  });

  it("a handler that throws: the request is dead-lettered (nack without requeue), no reply", async () => {
    const { exchange, queue, dlq } = await requestQueue("boom", true);
    await serve({ queue }, async () => {
      throw new Error("handler exploded");
    }).ready;
    await failure(requester.request(request(exchange, "boom", "x"), { timeoutMs: 500 }), "REPLY_TIMEOUT");
    await eventually(async () => expect((await admin.checkQueue(dlq as string)).messageCount).toBe(1), 5000);
    expect((await admin.checkQueue(queue)).messageCount).toBe(0);
  });

  it("a dropped connection fails the requests waiting (RABBITMQ_UNAVAILABLE); both sides work again after", async () => {
    const { exchange, queue } = await requestQueue("echo");
    let hold = true;
    await serve({ queue }, async (incoming) => {
      while (hold) await new Promise((resolve) => setTimeout(resolve, 20));
      return { content: incoming.body };
    }).ready;
    const lost = failure(
      requester.request(request(exchange, "echo", "lost"), { timeoutMs: 10_000 }),
      "RABBITMQ_UNAVAILABLE",
    );
    await eventually(async () => expect((await admin.checkQueue(queue)).messageCount).toBe(0), 5000);
    // The management API lists a connection only after its next statistics tick.
    let connections: string[] = [];
    await eventually(async () => {
      connections = await brokerConnections(managerName);
      expect(connections.length).toBeGreaterThan(0);
    });
    for (const name of connections) await closeOnBroker(name);
    await lost;
    hold = false;
    expect(await manager.waitForConnection(10_000)).toBe(true);
    await eventually(async () => {
      const reply = await requester.request(request(exchange, "echo", "back"), { timeoutMs: 2000 });
      expect(reply.body.toString()).toBe("back");
    }, 20_000);
  }, 40_000);
});

describe("Kafka request/reply", () => {
  const brokers = endpoints.kafkaBrokers.split(",");
  const kafka = new Kafka({ clientId: "transport-rpc-test", brokers, logLevel: logLevel.NOTHING });
  let admin: Admin;
  let connection: KafkaConnection;
  let requester: KafkaRequester;
  let responder: KafkaResponder;
  const replyTopic = resources.topic("transport-rpc-replies");
  const requestTopic = resources.topic("transport-rpc-requests");
  const silentTopic = resources.topic("transport-rpc-silent");

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: requestTopic, numPartitions: 3 },
        { topic: silentTopic, numPartitions: 1 },
      ],
      waitForLeaders: true,
    });
    connection = createKafkaConnection({ brokers, clientId: "transport-rpc-test" });
    requester = createKafkaRequester(connection, { replyTopic });
    responder = serveKafkaRequests(
      connection,
      { topic: requestTopic, groupId: resources.topic("transport-rpc-responder") },
      async (incoming) => {
        const n = Number(incoming.body.toString());
        return {
          content: Buffer.from(String(n * 2)),
          type: "test.Doubled",
          headers: { "seen-event": incoming.eventType ?? "", "seen-key": incoming.key ?? "" },
        };
      },
    );
    await Promise.all([requester.start(), responder.ready]);
  }, 60_000);

  afterAll(async () => {
    await requester?.close();
    await responder?.close();
    await connection?.close();
    await admin?.disconnect();
    await resources.cleanup();
  });

  it("creates the reply topic; round trip with correlation id, key and headers", async () => {
    expect(await admin.listTopics()).toContain(replyTopic);
    const reply = await requester.request(
      {
        topic: requestTopic,
        key: "user-42",
        value: Buffer.from("21"),
        headers: { "event-type": "test.Double" },
        correlationId: "corr-kafka",
      },
      { timeoutMs: 10_000 },
    );
    expect(reply.body.toString()).toBe("42");
    expect(reply.key).toBe("user-42");
    expect(reply.headers).toMatchObject({
      "correlation-id": "corr-kafka",
      "event-type": "test.Doubled",
      "seen-event": "test.Double",
      "seen-key": "user-42",
    });
  });

  it("no responder: REPLY_TIMEOUT after the timeout, not before, not much after", async () => {
    const started = Date.now();
    await failure(
      requester.request({ topic: silentTopic, value: Buffer.from("1") }, { timeoutMs: 1000 }),
      "REPLY_TIMEOUT",
    );
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(990);
    expect(elapsed).toBeLessThan(1000 + 500);
  });

  it("100 concurrent requests each get their own reply", async () => {
    const numbers = Array.from({ length: 100 }, (_, i) => i);
    const replies = await Promise.all(
      numbers.map((n) =>
        requester.request(
          { topic: requestTopic, key: `k${n % 7}`, value: Buffer.from(String(n)) },
          { timeoutMs: 20_000 },
        ),
      ),
    );
    expect(replies.map((r) => Number(r.body.toString()))).toEqual(numbers.map((n) => n * 2));
  }, 30_000);

  it("Kafka unreachable: the request fails with KAFKA_UNAVAILABLE before its timeout; close does not hang", async () => {
    const nowhere = createKafkaConnection({ brokers: ["127.0.0.1:1"], clientId: "transport-rpc-test-down" });
    const down = createKafkaRequester(nowhere, { replyTopic });
    const started = Date.now();
    await failure(
      down.request({ topic: requestTopic, value: Buffer.from("1") }, { timeoutMs: 30_000 }),
      "KAFKA_UNAVAILABLE",
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    const closing = Date.now();
    await down.close();
    await nowhere.close();
    expect(Date.now() - closing).toBeLessThan(3000);
  }, 40_000);

  it("a handler that throws: the request is skipped (no reply, offset committed); the responder makes no retry topics", async () => {
    const boomTopic = resources.topic("transport-rpc-boom");
    await admin.createTopics({ topics: [{ topic: boomTopic, numPartitions: 1 }], waitForLeaders: true });
    const groupId = resources.topic("transport-rpc-boom-responder");
    const boom = serveKafkaRequests(connection, { topic: boomTopic, groupId }, async (incoming) => {
      if (incoming.body.toString() === "boom") throw new Error("handler exploded");
      return { content: incoming.body };
    });
    try {
      await boom.ready;
      await failure(
        requester.request({ topic: boomTopic, value: Buffer.from("boom") }, { timeoutMs: 1000 }),
        "REPLY_TIMEOUT",
      );
      const reply = await requester.request({ topic: boomTopic, value: Buffer.from("fine") }, { timeoutMs: 10_000 });
      expect(reply.body.toString()).toBe("fine");
      await eventually(async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [boomTopic] });
        expect(committed?.partitions[0]?.offset).toBe("2");
      }, 10_000);
      expect((await admin.listTopics()).filter((name) => name.startsWith(`${boomTopic}.`))).toEqual([]);
    } finally {
      await boom.close();
    }
  }, 30_000);

  it("a missing request topic fails at once (DESTINATION_NOT_FOUND)", async () => {
    await failure(
      requester.request({ topic: `missing-${crypto.randomUUID()}`, value: Buffer.from("1") }, { timeoutMs: 10_000 }),
      "DESTINATION_NOT_FOUND",
    );
  });
});
