import { CriticalAlertEvent } from "@kronos/events-gaia";
import { uniqueName } from "@kronos/testkit";
import { readDeadLetter } from "@kronos/transport";
import { beforeAll, describe, expect, it } from "vitest";
import { alertValue } from "./publish-helpers.js";
import { kafkaSubscribeFixture, until, writeAlerts } from "./subscribe-helpers.js";

// Test topics are the gateway's own (a subscription may read any topic the principal may consume); records are
// written with a plain producer, framed by the registry serde like the gateway's, with the gateway's headers.
describe("subscribing to a Kafka topic over SSE", () => {
  const fixture = kafkaSubscribeFixture("gw-subscribe-test");
  const { serde, topics, admin, producer, kafka } = fixture;
  let gateway: typeof fixture.gateway;
  beforeAll(() => {
    gateway = fixture.gateway;
  });

  /** Waits until the gateway has no Kafka stream open (it closes a stream once it sees the client gone). */
  function kafkaStreamsClosed(): Promise<void> {
    return until(async () => {
      const metrics = (await gateway.app.inject({ url: "/metrics" })).body;
      return /gateway_subscriptions\{[^}]*broker="kafka"[^}]*\} 0/.test(metrics);
    }, "the subscription to close");
  }

  async function topic(partitions = 1): Promise<string> {
    const name = uniqueName("gw-sub-k");
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
    topics.push(name);
    return name;
  }

  /** Writes alerts titled `titles` to partition 0 of `name`, in order. */
  const write = (name: string, titles: string[]) => writeAlerts(producer, serde, name, titles);

  it("with a group, commits only up to the lowest unacked message: acked 3 before 1, 1 comes back after a restart", async () => {
    const name = await topic();
    await write(name, ["m1", "m2", "m3"]);
    const group = uniqueName("grp");
    const first = await gateway.subscribe(name, { group, from: "earliest" });
    expect(first.status, first.errorBody).toBe(200);
    const [one, two, three] = await first.messages(3);
    expect([one?.data.messageId, two?.data.messageId, three?.data.messageId]).toEqual(["m1", "m2", "m3"]);
    expect(one?.data).toMatchObject({ key: "m1", partition: 0, offset: "0", payload: { title: "m1" } });
    expect((await gateway.settle("ack", three?.id ?? "")).statusCode).toBe(204);
    expect((await gateway.settle("ack", two?.id ?? "")).statusCode).toBe(204);
    first.close();
    await kafkaStreamsClosed();

    const second = await gateway.subscribe(name, { group, from: "earliest" });
    const again = await second.messages(3);
    // Nothing past m1 was committed: m1 comes again, and m2 and m3 are not lost (delivered again, at least once).
    expect(again.map((m) => m.data.messageId)).toEqual(["m1", "m2", "m3"]);
    for (const m of again) expect((await gateway.settle("ack", m.id)).statusCode).toBe(204);
    second.close();
    await kafkaStreamsClosed();

    const offsets = await admin.fetchOffsets({ groupId: `gateway.${group}`, topics: [name] });
    expect(offsets[0]?.partitions[0]?.offset).toBe("3");
  });

  it("without a group, Last-Event-ID resumes exactly after the last event seen", async () => {
    const name = await topic(3);
    await write(name, ["a", "b", "c", "d"]);
    const first = await gateway.subscribe(name, { from: "earliest" });
    const seen = await first.messages(2);
    expect(seen.map((m) => m.data.messageId)).toEqual(["a", "b"]);
    first.close();

    const resumed = await gateway.subscribe(name, {}, { ...gateway.auth, "last-event-id": seen[1]?.id ?? "" });
    expect(resumed.status, resumed.errorBody).toBe(200);
    const rest = await resumed.messages(2);
    expect(rest.map((m) => m.data.messageId)).toEqual(["c", "d"]);
    // A record written now, on another partition, is seen too: the cursor covers every partition.
    await producer.send({
      topic: name,
      acks: -1,
      messages: [
        {
          partition: 2,
          value: await serde.encode(CriticalAlertEvent, alertValue("e", "kafka subscribe test")),
          headers: { "message-id": "e", "event-type": CriticalAlertEvent.name },
        },
      ],
    });
    expect((await resumed.nextMessage()).data.messageId).toBe("e");
    resumed.close();

    const bad = await gateway.subscribe(name, {}, { ...gateway.auth, "last-event-id": "x~0-a" });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.errorBody)).toMatchObject({ code: "INVALID_LAST_EVENT_ID" });
  });

  it("settles a tail delivery whose handle carries a long cursor (30 partitions) over HTTP: ack 204, retry 202", async () => {
    const name = await topic(30);
    await write(name, ["long-1", "long-2"]);
    const stream = await gateway.subscribe(name, { from: "earliest" });
    expect(stream.status, stream.errorBody).toBe(200);
    const [first, second] = await stream.messages(2);
    // 16 hex digits, a sequence number and "~" + 30 "<partition>-<offset>" pairs: well past Fastify's default 100.
    expect(first?.id.length).toBeGreaterThan(117);
    const settle = (action: string, id: string) =>
      fetch(`${gateway.base}/${action}/${encodeURIComponent(id)}`, {
        method: "POST",
        headers: { ...gateway.auth, "content-type": "application/json" },
        body: "{}",
      });
    const acked = await settle("ack", first?.id ?? "");
    expect(acked.status, await acked.text()).toBe(204);
    const retried = await settle("retry", second?.id ?? "");
    expect(retried.status, await retried.text()).toBe(202);
    expect((await settle("ack", first?.id ?? "")).status).toBe(409);
    stream.close();
  });

  it("retries through a retry topic with attempt + 1, then dead-letters to <topic>.dlq with every header", async () => {
    const name = await topic();
    const stream = await gateway.subscribe(name, { group: uniqueName("grp"), from: "earliest" });
    await write(name, ["r1"]);
    const first = await stream.nextMessage(30_000);
    expect(first.data).toMatchObject({ messageId: "r1", attempt: 1 });
    // Timed from before the settle: the copy's due time is set while the settle runs, so a clock started after
    // its response would miss however long the response took to come back (seen: 214 ms on a loaded machine).
    const sent = Date.now();
    const retried = await gateway.settle("retry", first.id, { delayMs: 300, reason: "try later" });
    expect(retried.json()).toMatchObject({ outcome: "retried", attempt: 1 });
    const second = await stream.nextMessage(30_000);
    expect(Date.now() - sent).toBeGreaterThanOrEqual(300);
    expect(second.data).toMatchObject({ messageId: "r1", attempt: 2, payload: { title: "r1" } });
    // GATEWAY_MAX_ATTEMPTS=1: one retry, the second failure dead-letters.
    const dead = await gateway.settle("retry", second.id, { reason: "still failing" });
    expect(dead.json()).toMatchObject({ outcome: "dead-lettered", attempt: 2 });
    stream.close();
    // The transport's consumer metrics, exported by the gateway: one retry copy, one dead letter, by destination.
    const exposed = (await gateway.app.inject({ url: "/metrics" })).body.split("\n");
    const series = (metric: string, ...labels: string[]) =>
      exposed.find((line) => line.startsWith(`${metric}{`) && labels.every((label) => line.includes(label)));
    expect(series("kronos_dead_letters_total", `destination="${name}.dlq"`, 'reason="max-attempts"')).toMatch(/ 1$/);
    expect(series("kronos_consumer_retries_total", `source="${name}"`)).toMatch(/ 1$/);
    expect(series("kronos_consumer_settlements_total", `source="${name}"`, 'outcome="dead_letter"')).toMatch(/ 1$/);

    const records = await readAll(`${name}.dlq`, 1);
    const record = records[0];
    const info = readDeadLetter(record?.headers ?? {});
    expect(info).toMatchObject({
      reason: "max-attempts",
      broker: "kafka",
      destination: name,
      partition: 0,
      offset: "0",
      eventType: CriticalAlertEvent.name,
      attempts: 2,
      error: "still failing",
      producer: "kafka-test",
      messageId: "r1",
    });
    expect(await serde.decode(CriticalAlertEvent, record?.value ?? Buffer.alloc(0))).toMatchObject({ title: "r1" });
  });

  it("dead-letters an undecodable record (decode-failed) and the stream goes on", async () => {
    const name = await topic();
    const stream = await gateway.subscribe(name, { from: "earliest" });
    const garbage = Buffer.from("not avro at all");
    await producer.send({
      topic: name,
      acks: -1,
      messages: [{ partition: 0, value: garbage, headers: { "message-id": "junk" } }],
    });
    await write(name, ["good"]);
    expect((await stream.nextMessage(30_000)).data.messageId).toBe("good");
    const records = await readAll(`${name}.dlq`, 1);
    expect(records[0]?.value?.equals(garbage)).toBe(true);
    expect(readDeadLetter(records[0]?.headers ?? {})).toMatchObject({
      reason: "decode-failed",
      errorCode: "INVALID_MAGIC_BYTE",
      messageId: "junk",
    });
    stream.close();
  });

  it("answers 404 for a topic that exists on neither broker", async () => {
    const missing = await gateway.subscribe(uniqueName("gw-none"));
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.errorBody)).toMatchObject({ code: "SOURCE_NOT_FOUND" });
  });

  /** Reads `count` records of `name` from the beginning with a throwaway consumer. */
  async function readAll(name: string, count: number) {
    const consumer = kafka.consumer({ groupId: uniqueName("gw-sub-read") });
    const records: Array<{ value: Buffer | null; headers: Record<string, unknown> }> = [];
    await until(async () => (await admin.listTopics()).includes(name), `topic ${name}`);
    await consumer.connect();
    await consumer.subscribe({ topic: name, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        records.push({ value: message.value, headers: (message.headers ?? {}) as Record<string, unknown> });
      },
    });
    try {
      await until(() => records.length >= count, `${count} records on ${name}`, 30_000);
    } finally {
      await consumer.disconnect();
    }
    return records;
  }
});
