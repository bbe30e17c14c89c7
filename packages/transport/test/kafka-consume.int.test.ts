import { TestResources, testEndpoints } from "@kronos/testkit";
import { type Admin, Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKafkaConnection,
  createKafkaPublisher,
  createKafkaSubscription,
  type Delivery,
  type KafkaConnection,
  type KafkaPublisher,
  type KafkaSubscription,
  type KafkaSubscriptionOptions,
  readDeadLetter,
  TransportError,
} from "../src/index.js";
import { readBack } from "./kafka-read-back.js";

const resources = new TestResources();
const brokers = testEndpoints().kafkaBrokers.split(",");
const kafka = new Kafka({ clientId: "transport-consume-test", brokers, logLevel: logLevel.NOTHING });
let admin: Admin;
let connection: KafkaConnection;
let publisher: KafkaPublisher;
const topics: string[] = [];
const subscriptions: KafkaSubscription[] = [];

/** A topic for one test; its retry and dead-letter topics (`<name>.…`) are deleted with it. */
async function topic(partitions: number): Promise<string> {
  const name = resources.topic("consume");
  topics.push(name);
  await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
  return name;
}

/** A subscription whose handler records every delivery (in order), closed after the file. */
function subscribe(
  options: Partial<KafkaSubscriptionOptions> & { topic: string },
  onDelivery: (delivery: Delivery) => void = () => {},
): { subscription: KafkaSubscription; seen: Delivery[] } {
  const seen: Delivery[] = [];
  const subscription = createKafkaSubscription(
    connection,
    { maxInFlight: 100, consumerName: "consume-test", ...options },
    (delivery) => {
      seen.push(delivery);
      onDelivery(delivery);
    },
  );
  subscriptions.push(subscription);
  return { subscription, seen };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function committed(groupId: string, name: string, partition = 0): Promise<string> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [name] });
  return entry?.partitions.find((p) => p.partition === partition)?.offset ?? "-1";
}

async function publishValues(name: string, values: string[], key: string | null = "k"): Promise<void> {
  await publisher.publishMany(values.map((value) => ({ topic: name, key, value: Buffer.from(value) })));
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  connection = createKafkaConnection({ brokers, clientId: "transport-consume-test" });
  publisher = createKafkaPublisher(connection);
});

afterAll(async () => {
  await Promise.all(subscriptions.map((s) => s.close()));
  await publisher.close();
  await connection.close();
  const existing = await admin.listTopics();
  const derived = existing.filter((name) => topics.some((t) => name.startsWith(`${t}.`)));
  if (derived.length > 0) await admin.deleteTopics({ topics: derived });
  await admin.disconnect();
  await resources.cleanup();
});

describe("Kafka subscription (real Kafka)", () => {
  it("ready rejects with DESTINATION_NOT_FOUND for a topic that does not exist, and creates nothing", async () => {
    const missing = resources.topic("consume-missing");
    topics.push(missing);
    const { subscription } = subscribe({ topic: missing, groupId: `${missing}-g` });
    const error = await subscription.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "DESTINATION_NOT_FOUND", retriable: false });
    expect((error as Error).message).toContain(missing);
    expect((await admin.listTopics()).filter((name) => name.startsWith(missing))).toEqual([]);
  });

  it("ready rejects with KAFKA_UNAVAILABLE within seconds when no broker answers", async () => {
    const down = createKafkaConnection({ brokers: ["127.0.0.1:1"], clientId: "transport-consume-test" });
    try {
      const started = Date.now();
      const subscription = createKafkaSubscription(
        down,
        { topic: "any", maxInFlight: 1, consumerName: "consume-test" },
        () => {},
      );
      const error = await subscription.ready.catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(error).toMatchObject({ code: "KAFKA_UNAVAILABLE", retriable: true });
      await subscription.close();
    } finally {
      await down.close();
    }
  });

  it("group: commits only up to the lowest unsettled offset; after acks of 3 and 2 a new member gets 1, 2 and 3 again", async () => {
    const name = await topic(1);
    const groupId = `${name}-g`;
    await publishValues(name, ["v1", "v2", "v3"]);

    const first = subscribe({ topic: name, groupId, from: "earliest" });
    await first.subscription.ready;
    await until("3 deliveries", () => first.seen.length === 3);
    expect(first.seen.map((d) => d.body.toString())).toEqual(["v1", "v2", "v3"]);
    expect(first.seen.map((d) => d.position)).toEqual([
      { partition: 0, offset: "0" },
      { partition: 0, offset: "1" },
      { partition: 0, offset: "2" },
    ]);
    const [d1, d2, d3] = first.seen as [Delivery, Delivery, Delivery];
    await d3.ack();
    await d2.ack();
    await sleep(400); // several commit windows
    expect(await committed(groupId, name)).toBe("0");
    expect(first.subscription.startPositions()).toEqual(new Map([[0, "0"]]));
    await Promise.all([first.subscription.close(), first.subscription.close()]);
    await first.subscription.close();
    await expect(d1.ack()).rejects.toMatchObject({ code: "CLOSED" });

    const second = subscribe({ topic: name, groupId, from: "latest" });
    await second.subscription.ready;
    expect(second.subscription.startPositions()).toEqual(new Map([[0, "0"]]));
    await until("3 deliveries again", () => second.seen.length === 3);
    expect(second.seen.map((d) => [d.position?.offset, d.body.toString()])).toEqual([
      ["0", "v1"],
      ["1", "v2"],
      ["2", "v3"],
    ]);
    // Out of order again: 1 last. Nothing moves until it is acked, then the commit jumps past all three.
    const [e1, e2, e3] = second.seen as [Delivery, Delivery, Delivery];
    await e2.ack();
    await e3.ack();
    await sleep(300);
    expect(await committed(groupId, name)).toBe("0");
    await e1.ack();
    await until("commit of 3", async () => (await committed(groupId, name)) === "3", 5_000);
    await expect(e1.ack()).rejects.toMatchObject({ code: "ALREADY_SETTLED" });
  });

  it("group: once everything is acked, a new member gets nothing old (committed offsets win over from: earliest)", async () => {
    const name = await topic(1);
    const groupId = `${name}-g`;
    await publishValues(name, ["a", "b", "c"]);
    const first = subscribe({ topic: name, groupId, from: "earliest" }, (d) => void d.ack());
    await first.subscription.ready;
    await until("3 deliveries", () => first.seen.length === 3);
    await first.subscription.close();
    expect(await committed(groupId, name)).toBe("3");

    const second = subscribe({ topic: name, groupId, from: "earliest" });
    await second.subscription.ready;
    expect(second.subscription.startPositions()).toEqual(new Map([[0, "3"]]));
    await publishValues(name, ["d"]);
    await until("the new record", () => second.seen.length >= 1);
    await sleep(300);
    expect(second.seen.map((d) => [d.position?.offset, d.body.toString()])).toEqual([["3", "d"]]);
  });

  it("group rebalance: a second member takes partitions over; unsettled records come again (duplicates), none is lost", async () => {
    const name = await topic(3);
    const groupId = `${name}-g`;
    await publisher.publishMany(
      Array.from({ length: 30 }, (_, i) => ({ topic: name, key: `k${i}`, value: Buffer.from(`r${i}`) })),
    );
    // The first member acks every other record and holds the rest unsettled.
    const first = subscribe({ topic: name, groupId, from: "earliest", consumerName: "member-a" }, (d) => {
      if (Number(d.body.toString().slice(1)) % 2 === 0) void d.ack();
    });
    await first.subscription.ready;
    await until("30 deliveries", () => first.seen.length === 30);

    const second = subscribe({ topic: name, groupId, from: "earliest", consumerName: "member-b" }, (d) => void d.ack());
    await second.subscription.ready;
    await until(
      "the partitions shared by both members",
      () => first.subscription.startPositions().size + second.subscription.startPositions().size === 3,
    );
    const kept = [...first.subscription.startPositions().keys()];
    const moved = [...second.subscription.startPositions().keys()];
    expect(kept.length).toBeGreaterThan(0);
    expect(moved.length).toBeGreaterThan(0);

    // The first member now settles what it still holds (on moved partitions that commits nothing: not its own).
    for (const d of first.seen) if (d.position && kept.includes(d.position.partition)) await d.ack().catch(() => {});
    for (const d of first.seen) if (d.position && moved.includes(d.position.partition)) await d.ack().catch(() => {});
    const ends = await admin.fetchTopicOffsets(name);
    await until("every partition committed to its end", async () => {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [name] });
      return ends.every((end) => entry?.partitions.find((p) => p.partition === end.partition)?.offset === end.high);
    });
    // Every record held unsettled by the first member on a moved partition reached the second member.
    const heldOnMoved = first.seen
      .filter((d) => d.position && moved.includes(d.position.partition))
      .filter((d) => Number(d.body.toString().slice(1)) % 2 === 1)
      .map((d) => d.body.toString());
    const secondValues = new Set(second.seen.map((d) => d.body.toString()));
    expect(heldOnMoved.length).toBeGreaterThan(0);
    for (const value of heldOnMoved) expect(secondValues).toContain(value);
  });

  it("startOffsets resumes exactly at the given offset; startPositions covers every assigned partition", async () => {
    const name = await topic(3);
    const acks = await publisher.publishMany(
      ["r0", "r1", "r2", "r3", "r4"].map((value) => ({ topic: name, key: "same-key", value: Buffer.from(value) })),
    );
    const partition = acks[0]?.partition ?? -1;
    const tail = subscribe({ topic: name, startOffsets: new Map([[partition, "3"]]) });
    await tail.subscription.ready;
    expect(tail.subscription.startPositions()).toEqual(
      new Map([0, 1, 2].map((p) => [p, p === partition ? "3" : "0"] as const)),
    );
    await until("2 deliveries", () => tail.seen.length === 2);
    await sleep(300);
    expect(tail.seen.map((d) => [d.position?.partition, d.position?.offset, d.body.toString()])).toEqual([
      [partition, "3", "r3"],
      [partition, "4", "r4"],
    ]);
    expect(tail.seen[0]).toMatchObject({
      broker: "kafka",
      source: name,
      key: "same-key",
      attempt: 1,
      redelivered: false,
    });
  });

  it("ephemeral: from earliest reads existing records, from latest only new ones; the throwaway groups are deleted on close", async () => {
    const name = await topic(1);
    await publishValues(name, ["old-1", "old-2"]);
    const consumerName = `${name}-tail`;
    const earliest = subscribe({ topic: name, from: "earliest", consumerName });
    const latest = subscribe({ topic: name, consumerName });
    await Promise.all([earliest.subscription.ready, latest.subscription.ready]);
    expect(latest.subscription.startPositions()).toEqual(new Map([[0, "2"]]));
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(consumerName));
    expect(groups).toHaveLength(2);

    await publishValues(name, ["new-1"]);
    await until("earliest: 3 records", () => earliest.seen.length === 3);
    await until("latest: the new record", () => latest.seen.length === 1);
    await sleep(300);
    expect(earliest.seen.map((d) => d.body.toString())).toEqual(["old-1", "old-2", "new-1"]);
    expect(latest.seen.map((d) => d.body.toString())).toEqual(["new-1"]);

    for (const d of earliest.seen) await d.ack();
    await Promise.all([earliest.subscription.close(), latest.subscription.close()]);
    const left = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(consumerName));
    expect(left).toEqual([]);
  });

  it("retry: the copy comes back after its tier with attempt 2 and the original source; both offsets are committed; another group never sees it", async () => {
    const name = await topic(1);
    const groupId = `${name}-g`;
    const otherGroup = `${name}-other`;
    const retriedAt: number[] = [];
    const outcomes: string[] = [];
    const retrying = subscribe({ topic: name, groupId, from: "earliest", retryTiersMs: [300, 1000] }, (d) => {
      if (d.attempt === 1) {
        retriedAt.push(Date.now());
        void d.retry({ delayMs: 100, reason: "downstream busy" }).then((outcome) => outcomes.push(outcome));
      } else void d.ack();
    });
    const other = subscribe({ topic: name, groupId: otherGroup, from: "earliest", retryTiersMs: [300, 1000] }, (d) => {
      void d.ack();
    });
    await Promise.all([retrying.subscription.ready, other.subscription.ready]);
    await publisher.publish({
      topic: name,
      key: "k-1",
      value: Buffer.from("payload"),
      headers: { "message-id": "m-1", "event-type": "kronos.test.Happened" },
      timestamp: "1700000000123",
    });

    await until("the retried copy", () => retrying.seen.length === 2);
    const [original, copy] = retrying.seen as [Delivery, Delivery];
    const returnedAt = Date.now();
    expect(outcomes).toEqual(["retried"]);
    expect(returnedAt - (retriedAt[0] ?? 0)).toBeGreaterThanOrEqual(300);
    expect(copy).toMatchObject({
      source: name,
      attempt: 2,
      redelivered: false,
      key: "k-1",
      messageId: "m-1",
      eventType: "kronos.test.Happened",
      position: { partition: 0, offset: original.position?.offset },
      timestampMs: 1700000000123,
    });
    expect(copy.body).toEqual(Buffer.from("payload"));
    expect(copy.headers).toMatchObject({
      "x-kronos-attempt": "2",
      "x-kronos-last-error": "downstream busy",
      "x-kronos-retry-for": groupId,
      "x-kronos-original-topic": name,
    });
    await until("commits on the topic and its 300 ms retry topic", async () => {
      const [source, retry] = await Promise.all([committed(groupId, name), committed(groupId, `${name}.retry.300`)]);
      return source === "1" && retry === "1";
    });
    await sleep(500);
    expect(other.seen.map((d) => d.attempt)).toEqual([1]);
    await until(
      "the other group skipping the copy",
      async () => (await committed(otherGroup, `${name}.retry.300`)) === "1",
    );
  });

  it("ephemeral: a handler that throws gets its delivery retried (attempt 2, the error recorded)", async () => {
    const name = await topic(1);
    const tail = subscribe({ topic: name, retryTiersMs: [300] }, (d) => {
      if (d.attempt === 1) throw new Error("cannot handle yet");
      void d.ack();
    });
    await tail.subscription.ready;
    await publishValues(name, ["flaky"]);
    await until("the retried copy", () => tail.seen.length === 2);
    expect(tail.seen.map((d) => [d.attempt, d.source, d.position?.offset, d.body.toString()])).toEqual([
      [1, name, "0", "flaky"],
      [2, name, "0", "flaky"],
    ]);
    expect(tail.seen[1]?.headers["x-kronos-last-error"]).toBe("handler failed: cannot handle yet");
    expect(tail.seen[1]?.headers["x-kronos-retry-for"]).toMatch(/^consume-test\.ephemeral\./);
  });

  it("retry at maxAttempts: the original bytes land in <topic>.dlq with every dead-letter header", async () => {
    const name = await topic(1);
    const groupId = `${name}-g`;
    const outcomes: string[] = [];
    const dying = subscribe(
      { topic: name, groupId, from: "earliest", maxAttempts: 3, retryTiersMs: [300, 1000] },
      (d) => {
        void d.retry({ delayMs: 0, reason: `failed attempt ${d.attempt}` }).then((outcome) => outcomes.push(outcome));
      },
    );
    await dying.subscription.ready;
    const value = Buffer.from([0, 0, 0, 0, 7, 0xff, 0x00, 0x80, 0x7f]);
    const ack = await publisher.publish({
      topic: name,
      key: "user-7",
      value,
      headers: { "message-id": "m-7", "event-type": "kronos.test.Failed", producer: "svc-a" },
    });
    await until("3 outcomes", () => outcomes.length === 3);
    expect(outcomes).toEqual(["retried", "retried", "dead-lettered"]);
    expect(dying.seen.map((d) => d.attempt)).toEqual([1, 2, 3]);

    const [letter] = await readBack(kafka, `${name}.dlq`, 1);
    expect(letter?.value).toEqual(value);
    expect(letter?.key).toBe("user-7");
    const info = readDeadLetter(letter?.headers ?? {});
    expect(info).toMatchObject({
      writer: "kronos",
      reason: "max-attempts",
      errorCode: "CLIENT_RETRY",
      error: "failed attempt 3",
      broker: "kafka",
      destination: name,
      partition: ack.partition,
      offset: ack.offset,
      eventType: "kronos.test.Failed",
      attempts: 3,
      producer: "svc-a",
      consumer: groupId,
      messageId: "m-7",
    });
    expect(info?.firstFailureMs).toBeLessThan(info?.lastFailureMs ?? 0);
    expect(letter?.headers["x-kronos-first-failure"]).toBe(String(info?.firstFailureMs));
    await until("the original committed", async () => (await committed(groupId, name)) === "1");
  });

  it("retryTiersMs []: no retry topic is created or consumed; a retry and a throwing handler dead-letter at once", async () => {
    const name = await topic(1);
    const groupId = `${name}-g`;
    const outcomes: string[] = [];
    const once = subscribe({ topic: name, groupId, from: "earliest", retryTiersMs: [] }, (d) => {
      if (d.key === "throws") throw new Error("handler exploded");
      void d.retry({ delayMs: 0, reason: "later please" }).then((outcome) => outcomes.push(outcome));
    });
    await once.subscription.ready;
    expect((await admin.listTopics()).filter((t) => t.startsWith(`${name}.retry.`))).toEqual([]);
    await publisher.publish({ topic: name, key: "retries", value: Buffer.from("a") });
    await publisher.publish({ topic: name, key: "throws", value: Buffer.from("b") });
    await until("the retry settled", () => outcomes.length === 1);
    expect(outcomes).toEqual(["dead-lettered"]);
    const letters = (await readBack(kafka, `${name}.dlq`, 2)).sort((a, b) =>
      String(a.key).localeCompare(String(b.key)),
    );
    expect(
      letters.map((l) => [l.key, readDeadLetter(l.headers)?.reason, readDeadLetter(l.headers)?.errorCode]),
    ).toEqual([
      ["retries", "max-attempts", "CLIENT_RETRY"],
      ["throws", "max-attempts", "HANDLER_FAILED"],
    ]);
    expect(once.seen.map((d) => d.attempt)).toEqual([1, 1]);
    await until("both committed", async () => (await committed(groupId, name)) === "2");
    expect((await admin.listTopics()).filter((t) => t.startsWith(`${name}.retry.`))).toEqual([]);
  });

  it('deadLetter("decode-failed") lands in <topic>.dlq at once, named after the consumer of an ephemeral subscription', async () => {
    const name = await topic(1);
    const settled: string[] = [];
    const tail = subscribe({ topic: name, from: "earliest", consumerName: "decoder" }, (d) => {
      void d
        .deadLetter("decode-failed", { code: "DECODE_FAILED", message: "unknown schema id 99" })
        .then(() => settled.push(d.position?.offset ?? "?"));
    });
    await tail.subscription.ready;
    const value = Buffer.from([0, 0, 0, 0, 99, 1, 2]);
    const ack = await publisher.publish({ topic: name, key: null, value, headers: { "event-type": "kronos.test.X" } });
    await until("the dead letter confirmed", () => settled.length === 1);
    expect(settled).toEqual([ack.offset]);
    const [letter] = await readBack(kafka, `${name}.dlq`, 1);
    expect(letter?.value).toEqual(value);
    expect(letter?.key).toBeNull();
    expect(readDeadLetter(letter?.headers ?? {})).toMatchObject({
      reason: "decode-failed",
      errorCode: "DECODE_FAILED",
      error: "unknown schema id 99",
      destination: name,
      partition: ack.partition,
      offset: ack.offset,
      attempts: 1,
      consumer: "decoder",
    });
  });

  it("rawHeaders and rawKey give a non-UTF-8 header value, a repeated header and the key byte for byte", async () => {
    const name = await topic(1);
    const key = Buffer.from([0xff, 0x00, 0xfe]);
    const offset = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]);
    const { subscription, seen } = subscribe({ topic: name, groupId: `${name}-g`, from: "earliest" }, (d) => {
      void d.ack();
    });
    await subscription.ready;
    await publisher.publish({
      topic: name,
      key,
      value: Buffer.from("v"),
      headers: { "kafka_dlt-original-offset": offset, repeated: [Buffer.from([0xc3, 0x28]), "second"] },
    });
    await until("the delivery", () => seen.length === 1);
    const [delivery] = seen;
    expect(delivery?.rawKey).toEqual(key);
    expect(delivery?.amqp).toBeUndefined();
    expect(delivery?.rawHeaders).toEqual([
      ["kafka_dlt-original-offset", offset],
      ["repeated", Buffer.from([0xc3, 0x28])],
      ["repeated", Buffer.from("second")],
    ]);
    // The text view cannot hold these bytes: the raw view is the one to keep.
    expect(Buffer.from(delivery?.headers["kafka_dlt-original-offset"] ?? "", "utf8")).not.toEqual(offset);
  });

  it("retry and dead-letter copies keep the record byte for byte: binary key, non-UTF-8 and repeated headers, null value", async () => {
    const name = await topic(1);
    const key = Buffer.from([0xff, 0x00, 0xfe]);
    const binary = Buffer.from([0xc3, 0x28, 0xff]);
    const { subscription, seen } = subscribe(
      { topic: name, groupId: `${name}-g`, from: "earliest", retryTiersMs: [200] },
      (d) => {
        if (d.attempt === 1) void d.retry({ delayMs: 0, reason: "again" });
        else void d.deadLetter("rejected", { code: "REJECTED", message: "no" });
      },
    );
    await subscription.ready;
    await publisher.publish({
      topic: name,
      key,
      value: null,
      headers: { "event-type": "kronos.test.Tombstone", binary, repeated: ["first", Buffer.from([0x80])] },
    });
    await until("the retried copy", () => seen.length === 2);
    const [retried] = await readBack(kafka, `${name}.retry.200`, 1);
    const [letter] = await readBack(kafka, `${name}.dlq`, 1);
    for (const copy of [retried, letter]) {
      expect(copy?.raw.key).toEqual(key);
      expect(copy?.raw.value).toBeNull();
      expect(copy?.raw.headers.binary).toEqual(binary);
      expect(copy?.raw.headers.repeated).toEqual([Buffer.from("first"), Buffer.from([0x80])]);
      expect(copy?.headers["event-type"]).toBe("kronos.test.Tombstone");
    }
    expect(retried?.headers["x-kronos-attempt"]).toBe("2");
    expect(readDeadLetter(letter?.headers ?? {})).toMatchObject({
      reason: "rejected",
      errorCode: "REJECTED",
      attempts: 2,
    });
  });

  it("maxInFlight 5: the handler holds 5 of 50 records, refills once half are settled; pause, resume and release", async () => {
    const name = await topic(1);
    const groupId = `${name}-g`;
    await publishValues(
      name,
      Array.from({ length: 50 }, (_, i) => `r${i}`),
    );
    const { subscription, seen } = subscribe({ topic: name, groupId, from: "earliest", maxInFlight: 5 });
    await subscription.ready;
    await until("5 deliveries", () => seen.length === 5);
    await sleep(1_000);
    expect(seen).toHaveLength(5);

    // 3 unsettled is above half of 5: still paused (resuming per freed slot would refetch for every record).
    await seen[0]?.ack();
    await seen[1]?.ack();
    await sleep(700);
    expect(seen).toHaveLength(5);
    await seen[2]?.ack();
    await until("refilled to 5 unsettled", () => seen.length === 8);
    await sleep(500);
    expect(seen).toHaveLength(8);

    subscription.pause();
    for (const delivery of seen.slice(3, 6)) await delivery.ack();
    await sleep(700);
    expect(seen).toHaveLength(8);
    subscription.resume();
    await until("refilled after resume", () => seen.length === 11);

    // release: the same record again (same offset, redelivered), still within the 5.
    const released = seen[6] as Delivery;
    await released.release();
    await until("the released record again", () => seen.length === 12);
    expect(seen[11]).toMatchObject({ redelivered: true, position: released.position, attempt: 1 });
    await sleep(300);
    expect(seen).toHaveLength(12);
    expect(seen.map((d) => d.body.toString())).toEqual([...Array.from({ length: 11 }, (_, i) => `r${i}`), "r6"]);
    await until("commit past the six acked", async () => (await committed(groupId, name)) === "6");
  });
});
