import { CriticalAlertEvent } from "@kronos/events-gaia";
import { uniqueName } from "@kronos/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { alertValue } from "./publish-helpers.js";
import { ackAll, ackThrough, type ItemResult, settleBulk } from "./subscribe-bulk-helpers.js";
import { kafkaSubscribeFixture, until } from "./subscribe-helpers.js";

// Records are written with a plain producer, framed by the registry serde like the gateway's, with its headers.
describe("settling Kafka deliveries in bulk", () => {
  const fixture = kafkaSubscribeFixture("gw-bulk-test");
  const { serde, topics, admin, producer } = fixture;
  let gateway: typeof fixture.gateway;
  beforeAll(() => {
    gateway = fixture.gateway;
  });

  async function topic(partitions = 1): Promise<string> {
    const name = uniqueName("gw-bulk-k");
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions }], waitForLeaders: true });
    topics.push(name);
    return name;
  }

  /** Writes `count` alerts to `partition` of `name`, message ids `<prefix><i>`. */
  async function write(name: string, count: number, partition = 0, prefix = `p${partition}-`): Promise<void> {
    const value = await serde.encode(CriticalAlertEvent, alertValue("bulk", "kafka bulk settle test"));
    const messages = Array.from({ length: count }, (_, i) => ({
      partition,
      key: `${prefix}${i}`,
      value,
      headers: { "message-id": `${prefix}${i}`, "event-type": CriticalAlertEvent.name },
    }));
    await producer.send({ topic: name, acks: -1, messages });
  }

  /** The group's committed offset of each partition of `name`. */
  async function committed(group: string, name: string): Promise<Record<number, string>> {
    const [entry] = await admin.fetchOffsets({ groupId: `gateway.${group}`, topics: [name] });
    return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
  }

  it("acks 1,000 deliveries in one request: each 204, the group commits past them, nothing comes again", async () => {
    const name = await topic();
    await write(name, 1000);
    const group = uniqueName("grp");
    const stream = await gateway.subscribe(name, { group, from: "earliest", prefetch: 1000 });
    expect(stream.status, stream.errorBody).toBe(200);
    const held = await stream.messages(1000, 60_000);
    const results = await ackAll(
      gateway,
      held.map((m) => m.id),
    );
    expect(results.map((r) => r.handle)).toEqual(held.map((m) => m.id));
    expect(results.filter((r) => r.status !== 204)).toEqual([]);
    expect(results[999]).toEqual({
      handle: held[999]?.id,
      status: 204,
      outcome: "acked",
      messageId: "p0-999",
      attempt: 1,
    });
    await until(async () => (await committed(group, name))[0] === "1000", "the group to commit offset 1000");
    stream.close();
    const again = await gateway.subscribe(name, { group, from: "earliest" });
    expect(again.status, again.errorBody).toBe(200);
    await expect(again.nextMessage(2000)).rejects.toThrow();
    again.close();
  });

  it("answers a mixed request item by item; a retry comes again, a reject is a dead letter", async () => {
    const name = await topic();
    await write(name, 3);
    const stream = await gateway.subscribe(name, { group: uniqueName("grp"), from: "earliest" });
    const [a, b, c] = await stream.messages(3);
    if (!(a && b && c)) throw new Error("three deliveries expected");
    const response = await settleBulk(gateway, {
      items: [
        { handle: c.id, action: "ack" },
        { handle: a.id, action: "retry", delayMs: 0 },
        { handle: b.id, action: "reject", reason: "no" },
        { handle: c.id, action: "retry" },
        { handle: `${c.id}x`, action: "ack" },
      ],
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      succeeded: 3,
      failed: 2,
      results: [
        { handle: c.id, status: 204, outcome: "acked", messageId: "p0-2", attempt: 1 },
        // GATEWAY_MAX_ATTEMPTS=1: the first retry is allowed, with attempt 1.
        { handle: a.id, status: 202, outcome: "retried", messageId: "p0-0", attempt: 1 },
        { handle: b.id, status: 202, outcome: "dead-lettered", messageId: "p0-1", attempt: 1 },
        { handle: c.id, status: 409, code: "ALREADY_ACKED", message: expect.any(String) },
        { handle: `${c.id}x`, status: 404, code: "UNKNOWN_HANDLE", message: expect.any(String) },
      ],
    });
    const retried = await stream.nextMessage();
    expect(retried.data).toMatchObject({ messageId: "p0-0", attempt: 2 });
    expect((await gateway.settle("ack", retried.id)).statusCode).toBe(204);
    stream.close();
  });

  it("acks cumulatively per partition: up to the named offset on its partition, nothing on the others", async () => {
    const name = await topic(2);
    await write(name, 3, 0);
    await write(name, 3, 1);
    const group = uniqueName("grp");
    const stream = await gateway.subscribe(name, { group, from: "earliest" });
    const held = await stream.messages(6);
    const at = (partition: number, offset: number) =>
      held.find((m) => m.data.partition === partition && m.data.offset === String(offset))?.id ?? "";

    const first = await ackThrough(gateway, at(0, 1));
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ acked: 2, handles: [at(0, 1), at(0, 0)] });
    expect((await gateway.settle("ack", at(0, 0))).json()).toMatchObject({ code: "ALREADY_ACKED" });
    expect((await ackThrough(gateway, at(0, 1))).statusCode).toBe(409);
    const second = await ackThrough(gateway, at(1, 2));
    expect(second.json()).toEqual({ acked: 3, handles: [at(1, 2), at(1, 0), at(1, 1)] });
    // Partition 0's offset 2 is still held, and only it.
    await until(async () => (await committed(group, name))[1] === "3", "partition 1 committed to 3");
    expect((await committed(group, name))[0]).toBe("2");
    expect((await gateway.settle("ack", at(0, 2))).statusCode).toBe(204);
    await until(async () => (await committed(group, name))[0] === "3", "partition 0 committed to 3");
    stream.close();
  });

  it("a settle racing the end of its stream is 2xx or 404 HANDLE_EXPIRED, never 503; what was 404 comes again", async () => {
    const name = await topic();
    await write(name, 40);
    const group = uniqueName("grp");
    const stream = await gateway.subscribe(name, { group, from: "earliest", prefetch: 40 });
    const held = await stream.messages(40);
    stream.close();
    const answers: Array<{ id: string; messageId: string; status: number; code?: string }> = [];
    for (const [index, message] of held.slice(0, 20).entries()) {
      const action = index % 4 === 3 ? "retry" : "ack";
      const response = await gateway.settle(action, message.id, action === "retry" ? { delayMs: 0 } : undefined);
      answers.push({
        id: message.id,
        messageId: message.data.messageId ?? "",
        status: response.statusCode,
        ...(response.statusCode >= 300 ? { code: response.json().code } : {}),
      });
    }
    const bulk = await settleBulk(gateway, { items: held.slice(20, 39).map((m) => ({ handle: m.id, action: "ack" })) });
    for (const [index, result] of (bulk.json().results as ItemResult[]).entries()) {
      answers.push({
        id: result.handle,
        messageId: held[20 + index]?.data.messageId ?? "",
        status: result.status,
        ...(result.code === undefined ? {} : { code: result.code }),
      });
    }
    const through = await ackThrough(gateway, held[39]?.id ?? "");
    answers.push({
      id: held[39]?.id ?? "",
      messageId: held[39]?.data.messageId ?? "",
      status: through.statusCode === 200 ? 204 : through.statusCode,
      ...(through.statusCode === 200 ? {} : { code: through.json().code }),
    });
    for (const answer of answers) {
      expect([204, 202, 404], JSON.stringify(answer)).toContain(answer.status);
      if (answer.status === 404) expect(answer.code).toBe("HANDLE_EXPIRED");
    }
    // Every delivery answered 404 went back: the group reads it again (acked ones past it may come too: duplicates).
    const expired = answers.filter((a) => a.status === 404).map((a) => a.messageId);
    const again = await gateway.subscribe(name, { group, from: "earliest", prefetch: 40 });
    const seen = new Set<string>();
    while (!expired.every((id) => seen.has(id))) {
      const next = await again.nextMessage(15_000);
      seen.add(next.data.messageId ?? "");
      await gateway.settle("ack", next.id);
    }
    again.close();
  });
});
