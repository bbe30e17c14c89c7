import { randomUUID } from "node:crypto";
import type { KronosApp } from "@kronos/app-kit";
import { DEAD_LETTER_HEADERS, deadLetterTopicName } from "@kronos/transport";
import { describe, expect, it } from "vitest";
import { RELAY_HEADERS } from "../src/relay/envelope.js";
import {
  alertBytes,
  alertRoute,
  relayTestContext,
  routesOf,
  text,
  toKafkaRoute,
  tokenRevokedBytes,
  waitFor,
} from "./helpers.js";

const { resources, brokers, relay, securityToAudit } = relayTestContext();
const binary = Buffer.from([0xff, 0x00, 0xc3, 0x28]);

/** The relay's headers left out: what must be byte-identical after a round trip. */
function withoutRelayHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers ?? {}).filter(([name]) => !name.startsWith("x-kronos-relay-")));
}

describe("relay on the real brokers, registry and Redis", () => {
  it("Kafka → RabbitMQ → Kafka: bytes, key, every header (binary, repeated) and priority cross as documented", async () => {
    const topic = resources.topic("relay-k");
    const exchange = resources.exchange("relay-x");
    const sink = resources.queue("relay-sink");
    const back = resources.topic("relay-back");
    const relayQueue = resources.queue("relay-q");
    await brokers.createTopic(topic);
    await brokers.createTopic(back);
    await brokers.exchange(exchange);
    const arrived = await brokers.readQueue(exchange, sink);
    const returned = await brokers.readTopic(back);
    await relay([
      alertRoute(`a-${randomUUID()}`, topic, exchange),
      toKafkaRoute(`b-${randomUUID()}`, exchange, relayQueue, back, ["kronos.gaia.CriticalAlert"]),
    ]);

    const value = await alertBytes();
    const key = Buffer.from([0x01, 0xfe, 0x80]);
    const headers = {
      "message-id": Buffer.from(randomUUID()),
      "content-type": Buffer.from("avro/binary"),
      binary,
      repeated: [Buffer.from("one"), Buffer.from("two")],
    };
    await brokers.produce(topic, [{ key, value, headers, timestamp: "1765000000123" } as never]);

    await waitFor(() => arrived.length === 1, "the copy on RabbitMQ");
    const copy = arrived[0];
    expect(copy?.content.equals(value)).toBe(true);
    expect(copy?.fields.routingKey).toBe("alert.CRITICAL.billing");
    expect(copy?.properties).toMatchObject({
      messageId: headers["message-id"].toString(),
      contentType: "avro/binary",
      priority: 9,
      timestamp: 1765000000,
    });
    const amqpHeaders = copy?.properties.headers ?? {};
    expect(Buffer.isBuffer(amqpHeaders.binary) && amqpHeaders.binary.equals(binary)).toBe(true);
    expect(amqpHeaders.repeated).toEqual(["one", "two"]);
    expect(Buffer.from(amqpHeaders[RELAY_HEADERS.kafkaKey] as Buffer).equals(key)).toBe(true);
    expect(amqpHeaders[RELAY_HEADERS.visited]).toBe(`kafka:${topic},rabbitmq:${exchange}`);
    expect(amqpHeaders[RELAY_HEADERS.hops]).toBe("1");

    // And back to Kafka (another topic, so no loop): byte-identical apart from the relay's headers.
    await waitFor(() => returned.length === 1, "the copy back on Kafka");
    const record = returned[0];
    expect(record?.key?.equals(key)).toBe(true);
    expect(record?.value?.equals(value)).toBe(true);
    expect(record?.timestamp).toBe("1765000000123");
    expect(withoutRelayHeaders(record?.headers)).toEqual(headers);
    expect(text(record?.headers?.[RELAY_HEADERS.visited])).toBe(`kafka:${topic},rabbitmq:${exchange},kafka:${back}`);
  });

  it("RabbitMQ → Kafka: properties become headers, the key is the event's partition key, acked after Kafka", async () => {
    const exchange = resources.exchange("relay-auth");
    const queue = resources.queue("relay-auth-q");
    const topic = resources.topic("relay-audit");
    await brokers.createTopic(topic);
    await brokers.exchange(exchange, "fanout");
    const records = await brokers.readTopic(topic);
    const app = await relay([
      toKafkaRoute(`auth-${randomUUID()}`, exchange, queue, topic, ["kronos.auth.TokenRevoked"]),
    ]);

    const userId = randomUUID();
    const value = await tokenRevokedBytes(userId);
    const messageId = randomUUID();
    await brokers.publish(exchange, "", value, {
      messageId,
      correlationId: "corr-1",
      type: "kronos.auth.TokenRevoked",
      contentType: "avro/binary",
      priority: 5,
      timestamp: 1765000000,
      headers: { binary, repeated: ["a", "b"], plain: "text" },
    });

    await waitFor(() => records.length === 1, "the record on Kafka");
    const record = records[0];
    expect(record?.value?.equals(value)).toBe(true);
    expect(record?.key?.toString()).toBe(userId);
    expect(record?.timestamp).toBe("1765000000000");
    const headers = record?.headers ?? {};
    expect(text(headers["message-id"])).toBe(messageId);
    expect(text(headers["correlation-id"])).toBe("corr-1");
    expect(text(headers["event-type"])).toBe("kronos.auth.TokenRevoked");
    expect(text(headers.priority)).toBe("5");
    expect(Buffer.from(headers.binary as Buffer).equals(binary)).toBe(true);
    expect((headers.repeated as Buffer[]).map(String)).toEqual(["a", "b"]);
    expect(text(headers.plain)).toBe("text");
    // Acked once Kafka acknowledged it: the queue empties (nothing ready, nothing unacked).
    const channel = await brokers.channel();
    let left = -1;
    for (let tries = 0; tries < 100 && left !== 0; tries++) {
      left = (await channel.checkQueue(queue)).messageCount;
      if (left !== 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(left).toBe(0);
    const counts = await routesOf(app);
    expect(counts[0]?.counters.relayed).toBe(1);
  });

  it("A → B and B → A both on: 1,000 messages, each exactly once on each side, no ping-pong", async () => {
    const topic = resources.topic("relay-loop-k");
    const exchange = resources.exchange("relay-loop-x");
    const relayQueue = resources.queue("relay-loop-q");
    const sink = resources.queue("relay-loop-sink");
    await brokers.createTopic(topic);
    await brokers.exchange(exchange);
    const onKafka = await brokers.readTopic(topic);
    const onRabbit = await brokers.readQueue(exchange, sink);
    const app = await relay([
      alertRoute("loop-ab", topic, exchange, {
        from: { broker: "kafka", channel: "t", topic, consumerGroup: `g-${randomUUID()}` },
      }),
      toKafkaRoute(`loop-ba-${randomUUID()}`, exchange, relayQueue, topic, ["kronos.gaia.CriticalAlert"]),
    ]);

    const ids = Array.from({ length: 500 }, () => randomUUID());
    const fromKafka = ids.slice(0, 250);
    const fromRabbit = ids.slice(250);
    const bytes = await Promise.all(ids.map(() => alertBytes()));
    await brokers.produce(
      topic,
      fromKafka.map((id, i) => ({ key: Buffer.from(id), value: bytes[i] as Buffer, headers: { "message-id": id } })),
    );
    for (const [i, id] of fromRabbit.entries()) {
      await brokers.publish(exchange, "alert.CRITICAL.billing", bytes[250 + i] as Buffer, { messageId: id });
    }

    const idsOf = (list: Array<{ id: string | undefined }>) => list.map((m) => m.id);
    const kafkaIds = () => idsOf(onKafka.map((m) => ({ id: text(m.headers?.["message-id"]) })));
    const rabbitIds = () => idsOf(onRabbit.map((m) => ({ id: m.properties.messageId as string | undefined })));
    await waitFor(() => kafkaIds().length >= 500 && rabbitIds().length >= 500, "every message on both sides", 60_000);
    // Anything ping-ponging would show up within a few more relay round trips.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(kafkaIds().sort()).toEqual([...ids].sort());
    expect(rabbitIds().sort()).toEqual([...ids].sort());
    const routes = await routesOf(app);
    expect(routes.map((r) => r.counters.relayed)).toEqual([250, 250]);
    expect(routes.map((r) => r.counters.looped)).toEqual([250, 250]);
  }, 120_000);

  it("dead-letters a corrupt frame and an event not allowed on the route, and goes on", async () => {
    const topic = resources.topic("relay-poison");
    const exchange = resources.exchange("relay-poison-x");
    const sink = resources.queue("relay-poison-sink");
    await brokers.createTopic(topic, 1);
    await brokers.exchange(exchange);
    const arrived = await brokers.readQueue(exchange, sink);
    const dlq = deadLetterTopicName(topic);
    resources.topic(dlq);
    const group = `g-${randomUUID()}`;
    await relay([
      alertRoute(`poison-${randomUUID()}`, topic, exchange, {
        from: { broker: "kafka", channel: "t", topic, consumerGroup: group },
      }),
    ]);

    const good = await alertBytes();
    await brokers.produce(topic, [
      { key: Buffer.from("k1"), value: Buffer.from([0, 0, 0]), headers: { "message-id": "corrupt" } },
      { key: Buffer.from("k2"), value: await tokenRevokedBytes(), headers: { "message-id": "not-allowed", binary } },
      { key: Buffer.from("k3"), value: good, headers: { "message-id": "good" } },
    ]);

    await waitFor(() => arrived.length === 1, "the good message after the poison");
    expect(arrived[0]?.properties.messageId).toBe("good");
    const dead = await brokers.readTopic(dlq);
    await waitFor(() => dead.length === 2, "two dead letters");
    const byId = new Map(dead.map((m) => [text(m.headers?.["message-id"]), m]));
    const corrupt = byId.get("corrupt")?.headers ?? {};
    expect(text(corrupt[DEAD_LETTER_HEADERS.reason])).toBe("decode-failed");
    expect(text(corrupt[DEAD_LETTER_HEADERS.errorCode])).toBe("INCOMPLETE_HEADER");
    expect(text(corrupt[DEAD_LETTER_HEADERS.consumer])).toBe(group);
    const notAllowed = byId.get("not-allowed");
    expect(text(notAllowed?.headers?.[DEAD_LETTER_HEADERS.reason])).toBe("rejected");
    expect(text(notAllowed?.headers?.[DEAD_LETTER_HEADERS.errorCode])).toBe("EVENT_NOT_ALLOWED");
    expect(text(notAllowed?.headers?.[DEAD_LETTER_HEADERS.eventType])).toBe("kronos.auth.TokenRevoked");
    expect(Buffer.from(notAllowed?.headers?.binary as Buffer).equals(binary)).toBe(true);
    expect(notAllowed?.key?.toString()).toBe("k2");
  });

  it("dead-letters poison from a RabbitMQ source into <queue>.dlq, and goes on", async () => {
    const { exchange, queue, records } = await securityToAudit("relay-poison-auth");
    const dead = await brokers.consume(`${queue}.dlq`);

    await brokers.publish(exchange, "", Buffer.from([0, 0, 0, 0]), { messageId: "corrupt", headers: { binary } });
    await brokers.publish(exchange, "", await alertBytes(), { messageId: "not-allowed" });
    await brokers.publish(exchange, "", await tokenRevokedBytes(), { messageId: "good" });

    await waitFor(() => records.length === 1, "the good message on Kafka");
    expect(text(records[0]?.headers?.["message-id"])).toBe("good");
    await waitFor(() => dead.length === 2, "two dead letters");
    const byId = new Map(dead.map((m) => [m.properties.messageId as string, m]));
    const corrupt = byId.get("corrupt");
    expect(corrupt?.content.equals(Buffer.from([0, 0, 0, 0]))).toBe(true);
    expect(corrupt?.properties.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.reason]: "decode-failed",
      [DEAD_LETTER_HEADERS.errorCode]: "INCOMPLETE_HEADER",
      [DEAD_LETTER_HEADERS.broker]: "rabbitmq",
      [DEAD_LETTER_HEADERS.queue]: queue,
      [DEAD_LETTER_HEADERS.destination]: exchange,
    });
    expect(Buffer.from(corrupt?.properties.headers?.binary as Buffer).equals(binary)).toBe(true);
    expect(byId.get("not-allowed")?.properties.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.reason]: "rejected",
      [DEAD_LETTER_HEADERS.errorCode]: "EVENT_NOT_ALLOWED",
      [DEAD_LETTER_HEADERS.eventType]: "kronos.gaia.CriticalAlert",
    });
  });

  it("two instances share a route: the work is split, nothing is duplicated", async () => {
    const topic = resources.topic("relay-scale");
    const exchange = resources.exchange("relay-scale-x");
    const sink = resources.queue("relay-scale-sink");
    await brokers.createTopic(topic, 4);
    await brokers.exchange(exchange);
    const arrived = await brokers.readQueue(exchange, sink);
    const route = alertRoute(`scale-${randomUUID()}`, topic, exchange);
    const first = await relay([route], { RELAY_INSTANCE_ID: "first" });
    const second = await relay([route], { RELAY_INSTANCE_ID: "second" });
    const admin = await brokers.admin();
    const members = async () =>
      (await admin.describeGroups([route.from.broker === "kafka" ? route.from.consumerGroup : ""])).groups[0];
    for (let tries = 0; ; tries++) {
      const group = await members();
      if (group?.state === "Stable" && group.members.length === 2) break;
      if (tries > 200) throw new Error("the group never had both instances");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const ids = Array.from({ length: 400 }, () => randomUUID());
    const values = await Promise.all(ids.map(() => alertBytes()));
    await brokers.produce(
      topic,
      ids.map((id, i) => ({ key: Buffer.from(id), value: values[i] as Buffer, headers: { "message-id": id } })),
    );
    await waitFor(() => arrived.length >= 400, "400 copies", 60_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(arrived.map((m) => m.properties.messageId).sort()).toEqual([...ids].sort());
    const relayed = async (app: KronosApp) => (await routesOf(app))[0]?.counters.relayed ?? 0;
    const [a, b] = [await relayed(first), await relayed(second)];
    expect(a + b).toBe(400);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    const instances = new Set(arrived.map((m) => String(m.properties.headers?.[RELAY_HEADERS.instance])));
    expect(instances).toEqual(new Set(["first", "second"]));
  }, 90_000);
});
