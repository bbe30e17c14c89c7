import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { KronosApp } from "@kronos/app-kit";
import { freePort, startServerProcess, waitForHttp } from "@kronos/app-kit/testing";
import { ConfluentRegistryClient, createAvroType, frame } from "@kronos/contracts";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { createKafkaSubscription, createTopic, type Delivery, declareQueue } from "@kronos/transport";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestDatabase } from "./database.js";
import {
  asOperator,
  drain,
  eventually,
  openApp,
  principalsFile,
  registerTestEvent,
  type SeedOptions,
  seedDeadLetter,
  stackEnv,
  type TestEvent,
} from "./harness.js";

// Replay as a job on the real brokers, registry and PostgreSQL. The dead letters are stored as custody stores them
// (tested in custody.int.test.ts), each naming its original destination the way transport's dead letters do.
const resources = new TestResources();
const database = new TestDatabase();
const queue = resources.queue("dlq-replay");
const killQueue = resources.queue("dlq-replay-kill");
const topic = resources.topic("dlq-replay");
let app: KronosApp;
let event: TestEvent;
const events: TestEvent[] = [];

const seed = (options: Omit<SeedOptions, "eventType"> & { eventType?: string }) =>
  seedDeadLetter(app, { eventType: event.name, ...options });

const post = async (url: string, payload?: object) => {
  const response = await app.inject({ method: "POST", url, ...(payload ? { payload } : {}), headers: asOperator });
  return { status: response.statusCode, body: response.json() };
};
const job = async (id: string) =>
  (await app.inject({ method: "GET", url: `/replays/${id}`, headers: asOperator })).json();
const finished = (id: string, timeoutMs = 30_000) =>
  eventually(
    async () => {
      const current = await job(id);
      return current.state === "completed" || current.state === "cancelled" ? current : undefined;
    },
    timeoutMs,
    `replay job ${id} to finish`,
  );

beforeAll(async () => {
  event = await registerTestEvent();
  app = await openApp(database, {});
  await Promise.all([
    declareQueue(app.amqp, queue, {}),
    declareQueue(app.amqp, killQueue, {}),
    createTopic(app.kafka, topic, { partitions: 1 }),
  ]);
}, 60_000);

afterAll(async () => {
  await app?.close();
  await Promise.all([database.drop(), resources.cleanup(), event?.cleanup(), ...events.map((e) => e.cleanup())]);
});

describe("replay as a job", () => {
  it("replays to the original RabbitMQ destination: it arrives, decodes, carries the marker, and is audited", async () => {
    const id = await seed({
      broker: "rabbitmq",
      destination: "",
      routingKey: queue,
      body: event.encode({ id: "q-1", amount: 4 }),
      messageId: "q-1",
    });
    const created = await post("/replays", { ids: [id], ratePerSecond: 50 });
    expect(created.status).toBe(201);
    const done = await finished(created.body.id);
    expect(done.progress).toEqual({ pending: 0, sent: 1, skipped: 0, failed: 0 });

    const [message] = await drain(queue, 1);
    expect(message?.properties.messageId).toBe("q-1");
    expect(message?.properties.type).toBe(event.name);
    expect(message?.content.equals(event.encode({ id: "q-1", amount: 4 }))).toBe(true);
    expect(createAvroType(event.schema).fromBuffer(message?.content.subarray(5) ?? Buffer.alloc(0))).toMatchObject({
      id: "q-1",
    });
    const headers = message?.properties.headers ?? {};
    expect(String(headers["x-kronos-replay-job-id"])).toBe(created.body.id);
    expect(String(headers["x-kronos-replay-count"])).toBe("1");
    expect(String(headers["x-kronos-replay-dead-letter-id"])).toBe(id);
    expect(headers).not.toHaveProperty("x-kronos-dl-reason");
    expect(headers).not.toHaveProperty("x-kronos-attempt");

    const letter = (await app.inject({ method: "GET", url: `/dead-letters/${id}`, headers: asOperator })).json();
    expect(letter).toMatchObject({ state: "replayed", replayCount: 1 });
    expect(letter.history.map((entry: { action: string }) => entry.action)).toContain("replay");
  });

  it("fails the items a broker refuses for good, gives their dead letters back, and reports the job to Prometheus", async () => {
    const id = await seed({
      broker: "rabbitmq",
      destination: "",
      routingKey: queue,
      body: event.encode({ id: "q-refused", amount: 1 }),
      messageId: "q-refused",
    });
    const target = { broker: "rabbitmq", exchange: `${queue}.no-such-exchange`, routingKey: queue };
    const created = await post("/replays", { ids: [id], target, ratePerSecond: 50 });
    expect(created.status).toBe(201);
    const done = await finished(created.body.id);
    expect(done.progress).toEqual({ pending: 0, sent: 0, skipped: 0, failed: 1 });
    const letter = (await app.inject({ method: "GET", url: `/dead-letters/${id}`, headers: asOperator })).json();
    expect(letter.state).toBe("new");

    // A finished real job stays in dlq_replay_job_items for an hour (KronosDlqReplayFailing fires on its failed items).
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    const series = (state: string) =>
      new RegExp(
        `^dlq_replay_job_items\\{replay_job="${created.body.id}",state="${state}",app="dlq-manager"\\} (\\d+)$`,
        "m",
      );
    expect(metrics).toMatch(series("failed"));
    expect(series("failed").exec(metrics)?.[1]).toBe("1");
    expect(metrics).not.toMatch(series("sent"));
  });

  it("replays a group (all like it) to the original Kafka topic, where its consumer gets it with the key and the marker", async () => {
    const body = event.encode({ id: "k-1", amount: 9 });
    const id = await seed({ broker: "kafka", destination: topic, body, messageId: "k-1" });
    const received: Delivery[] = [];
    const subscription = createKafkaSubscription(
      app.kafka,
      { topic, groupId: `${topic}-consumer`, from: "earliest", maxInFlight: 10, consumerName: "t" },
      async (delivery) => {
        received.push(delivery);
        await delivery.ack();
      },
    );
    try {
      await subscription.ready;
      const groups = (
        await app.inject({ method: "GET", url: `/dead-letters/groups?destination=${topic}`, headers: asOperator })
      ).json();
      expect(groups.groups).toHaveLength(1);
      const { source, errorFingerprint } = groups.groups[0];
      const created = await post("/replays", { group: { source, errorFingerprint }, ratePerSecond: 50 });
      expect(created.status).toBe(201);
      expect((await finished(created.body.id)).progress.sent).toBe(1);
      const [delivery] = await eventually(async () => (received.length > 0 ? received : undefined));
      expect(delivery?.body.equals(body)).toBe(true);
      expect(delivery?.headers["x-kronos-replay-dead-letter-id"]).toBe(id);
      expect(delivery?.messageId).toBe("k-1");
    } finally {
      await subscription.close();
    }
  });

  it("dry run finds a message whose writer schema the destination can no longer read; a real run skips it; repair fixes it", async () => {
    // An event of this test's own: other tests replay v1 messages of theirs, which v2 cannot read.
    const changing = await registerTestEvent();
    events.push(changing);
    // v2 adds a field without a default, registered under FORWARD: old readers read v2, but v2 cannot read v1.
    const client = new ConfluentRegistryClient({ url: testEndpoints().registryUrl });
    const v2 = {
      ...changing.schema,
      fields: [...(changing.schema as { fields: object[] }).fields, { name: "currency", type: "string" }],
    };
    await client.register(changing.name, JSON.stringify(v2), "FORWARD");
    const stale = await seed({
      eventType: changing.name,
      broker: "rabbitmq",
      destination: "",
      routingKey: queue,
      body: changing.encode({ id: "old", amount: 1 }),
      messageId: "old",
    });
    const garbage = await seed({
      broker: "rabbitmq",
      destination: "",
      routingKey: queue,
      body: frame(2_000_000_000, Buffer.from([2, 0x61, 2])),
      messageId: "bad",
    });
    const dry = await post("/replays", { ids: [stale, garbage], dryRun: true, ratePerSecond: 100 });
    expect(dry.status).toBe(201);
    const report = await finished(dry.body.id);
    expect(report.report).toEqual({ passed: 0, failed: 2, invalid: 0 });
    const problems = Object.fromEntries(
      report.firstProblems.map((p: { deadLetterId: string; detail: string }) => [p.deadLetterId, p.detail]),
    );
    expect(problems[stale]).toMatch(/cannot read writer schema id/);
    expect(problems[garbage]).toMatch(/does not decode/);
    // Nothing was sent and nothing changed state.
    expect((await app.inject({ method: "GET", url: `/dead-letters/${stale}`, headers: asOperator })).json().state).toBe(
      "new",
    );
    // A dry run's "failed" items are verdicts, not failed sends: it is no replay job to alert on.
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).not.toContain(`replay_job="${dry.body.id}"`);

    const real = await post("/replays", { ids: [stale], ratePerSecond: 100 });
    const done = await finished(real.body.id);
    expect(done.progress).toMatchObject({ sent: 0, skipped: 1 });
    expect((await app.inject({ method: "GET", url: `/dead-letters/${stale}`, headers: asOperator })).json().state).toBe(
      "new",
    );
    expect(await drain(queue, 0, 500)).toHaveLength(0);

    // Repair: the payload edited to v2, checked against v2 and encoded with v2's id; the original stays.
    const repair = (payload: object) => post(`/dead-letters/${stale}/repair`, { payload });
    const invalid = await repair({ id: "old", amount: "one" });
    expect(invalid).toMatchObject({ status: 400, body: { code: "REPAIR_INVALID" } });
    expect(invalid.body.message).toContain("amount");
    const repaired = await repair({ id: "old", amount: 1, currency: "EUR" });
    expect(repaired.status).toBe(200);
    expect(repaired.body.schemaId).not.toBe(changing.schemaId);
    const detail = (await app.inject({ method: "GET", url: `/dead-letters/${stale}`, headers: asOperator })).json();
    expect(detail.payload).toMatchObject({ schemaId: changing.schemaId, value: { id: "old", amount: 1 } });
    expect(detail.repaired).toMatchObject({ schemaId: repaired.body.schemaId, value: { currency: "EUR" } });
    const again = await post("/replays", { ids: [stale], ratePerSecond: 100 });
    expect((await finished(again.body.id)).progress).toMatchObject({ sent: 1, skipped: 0 });
    const [message] = await drain(queue, 1);
    expect(message?.content.readUInt32BE(1)).toBe(repaired.body.schemaId);
    const audit = (
      await app.inject({ method: "GET", url: `/audit?deadLetterId=${stale}`, headers: asOperator })
    ).json();
    const repairEntry = audit.entries.find((entry: { action: string }) => entry.action === "repair");
    expect(repairEntry.detail).toMatchObject({ before: { id: "old", amount: 1 }, after: { currency: "EUR" } });
    expect(audit.entries.map((entry: { action: string }) => entry.action)).toContain("replay");
  });

  it("dry run runs today's validation: a message the current schema refuses fails it, and a real run skips it", async () => {
    // v2 makes id a uuid (Avro resolution ignores logical types, so v2 still reads v1): a v1 message whose id is not
    // a UUID decodes and resolves, but would not pass the gateway's validation today.
    const changing = await registerTestEvent();
    events.push(changing);
    const client = new ConfluentRegistryClient({ url: testEndpoints().registryUrl });
    const v2 = {
      ...changing.schema,
      fields: [
        { name: "id", type: { type: "string", logicalType: "uuid" } },
        { name: "amount", type: "int" },
      ],
    };
    const v2Id = await client.register(changing.name, JSON.stringify(v2), "BACKWARD");
    const uuid = randomUUID();
    const letter = (id: string, messageId: string) =>
      seed({
        eventType: changing.name,
        broker: "rabbitmq",
        destination: "",
        routingKey: queue,
        body: changing.encode({ id, amount: 1 }),
        messageId,
      });
    const invalid = await letter("not-a-uuid", "v-invalid");
    const valid = await letter(uuid, "v-valid");

    const dry = await post("/replays", { ids: [invalid, valid], dryRun: true, ratePerSecond: 100 });
    expect(dry.status).toBe(201);
    const report = await finished(dry.body.id);
    expect(report.report).toEqual({ passed: 1, failed: 1, invalid: 1 });
    expect(report.firstProblems).toHaveLength(1);
    expect(report.firstProblems[0]).toMatchObject({ deadLetterId: invalid, state: "failed" });
    expect(report.firstProblems[0].detail).toContain(`fails today's validation (${changing.name}, schema id ${v2Id})`);
    expect(report.firstProblems[0].detail).toMatch(/UUID/i);

    const real = await post("/replays", { ids: [invalid, valid], ratePerSecond: 100 });
    expect((await finished(real.body.id)).progress).toMatchObject({ sent: 1, skipped: 1, failed: 0 });
    const messages = await drain(queue, 1);
    expect(messages.map((message) => message.properties.messageId)).toEqual(["v-valid"]);
    expect(
      (await app.inject({ method: "GET", url: `/dead-letters/${invalid}`, headers: asOperator })).json().state,
    ).toBe("new");
  });

  it("answers bad input with a 4xx and a code, and sends nothing", async () => {
    const id = await seed({
      broker: "rabbitmq",
      destination: "",
      routingKey: queue,
      body: event.encode({ id: "n", amount: 1 }),
      messageId: "n",
    });
    const bad: Array<[object, number, string]> = [
      [{ ids: ["99999999"] }, 404, "DEAD_LETTER_NOT_FOUND"],
      [{ ids: ["x"] }, 400, "INVALID_ID"],
      [{ ids: [id], ratePerSecond: 0 }, 400, "INVALID_RATE"],
      [{ ids: [id], ratePerSecond: 1_000_000 }, 400, "INVALID_RATE"],
      [{ ids: [id], filter: {} }, 400, "EMPTY_SELECTION"],
      [{}, 400, "EMPTY_SELECTION"],
      [{ filter: { from: "soon" } }, 400, "INVALID_FILTER"],
      [{ group: { source: "x" } }, 400, "BAD_REQUEST"],
      [{ group: { source: "x", errorFingerprint: "0123456789abcdef" }, filter: {} }, 400, "EMPTY_SELECTION"],
      [{ filter: { state: "lost" } }, 400, "BAD_REQUEST"],
      [{ filter: { source: "no-such-source" } }, 400, "EMPTY_SELECTION"],
      [{ ids: [id], target: { broker: "kafka", topic: "bad topic!" } }, 400, "BAD_REQUEST"],
    ];
    for (const [payload, status, code] of bad) {
      const response = await post("/replays", payload);
      expect({ payload, status: response.status, code: response.body.code }).toEqual({ payload, status, code });
    }
    expect((await app.inject({ method: "GET", url: "/replays/424242", headers: asOperator })).statusCode).toBe(404);
    expect((await post("/replays/424242/pause")).body.code).toBe("REPLAY_NOT_FOUND");
    expect((await post("/replays/1/explode")).status).toBe(400);
    expect((await app.inject({ method: "GET", url: `/dead-letters/${id}`, headers: asOperator })).json().state).toBe(
      "new",
    );
    expect(await drain(queue, 0, 500)).toHaveLength(0);
  });

  it("pauses, resumes and cancels; cancel gives back what was not sent", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      ids.push(
        await seed({
          broker: "rabbitmq",
          destination: "",
          routingKey: queue,
          body: event.encode({ id: `p-${i}`, amount: i }),
          messageId: `p-${i}`,
        }),
      );
    }
    const created = await post("/replays", { ids, ratePerSecond: 2 });
    await eventually(async () => ((await job(created.body.id)).progress.sent >= 1 ? true : undefined));
    expect((await post(`/replays/${created.body.id}/pause`)).body.state).toBe("paused");
    expect((await post(`/replays/${created.body.id}/pause`)).body.code).toBe("INVALID_STATE");
    const paused = (await job(created.body.id)).progress.sent;
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect((await job(created.body.id)).progress.sent).toBeLessThanOrEqual(paused + 1); // at most the send in flight
    expect((await post(`/replays/${created.body.id}/resume`)).body.state).toBe("running");
    await eventually(async () => ((await job(created.body.id)).progress.sent >= paused + 2 ? true : undefined));
    expect((await post(`/replays/${created.body.id}/cancel`)).body.state).toBe("cancelled");
    // A send in flight when the job was cancelled is still marked once the broker confirms it, which can be after
    // any count taken now: collect what arrives until the marked letters are exactly the delivered ones (a mark
    // only ever follows the broker's confirm, so the delivered set can only catch up, never fall behind).
    const marked = async () => {
      const rows = await app.db.query<{ message_id: string; state: string }>(
        "SELECT message_id, state FROM dead_letters WHERE id = ANY($1::bigint[])",
        [ids],
      );
      return {
        replayed: new Set(rows.rows.filter((r) => r.state === "replayed").map((r) => r.message_id)),
        fresh: rows.rows.filter((r) => r.state === "new").length,
      };
    };
    const delivered = new Set<string>();
    const settled = await eventually(
      async () => {
        for (const message of await drain(queue, 0, 0)) delivered.add(String(message.properties.messageId));
        const { replayed, fresh } = await marked();
        const same = replayed.size === delivered.size && [...replayed].every((id) => delivered.has(id));
        return same && fresh === 6 - replayed.size ? replayed.size : undefined;
      },
      10_000,
      "the cancelled job's marks to match what was delivered",
    );
    expect(settled).toBeGreaterThanOrEqual(paused + 2);
    expect(settled).toBeLessThan(6);
    expect((await job(created.body.id)).progress.sent).toBe(settled);
  });

  it("survives a SIGKILL mid-job: after a restart the job finishes, every message delivered, none marked without an ack", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      ids.push(
        await seed({
          broker: "rabbitmq",
          destination: "",
          routingKey: killQueue,
          body: event.encode({ id: `s-${i}`, amount: i }),
          messageId: `s-${i}`,
        }),
      );
    }
    // This test's manager is a child process; the in-process one stops first, and restarts after the kill.
    await app.close();
    const port = await freePort();
    const server = startServerProcess(fileURLToPath(new URL("../dist/server.js", import.meta.url)), {
      ...stackEnv,
      LOG_LEVEL: "warn",
      DLQ_MANAGER_PORT: String(port),
      DLQ_DATABASE_URL: database.url,
      DLQ_CATALOG_SOURCES: "false",
      DLQ_MANAGER_PRINCIPALS_FILE: principalsFile,
    });
    const base = `http://127.0.0.1:${port}`;
    const childJob = async (id: string) =>
      (await (await fetch(`${base}/replays/${id}`, { headers: asOperator })).json()) as { progress: { sent: number } };
    let jobId = "";
    try {
      await waitForHttp(`${base}/healthz`, 30_000);
      const response = await fetch(`${base}/replays`, {
        method: "POST",
        headers: { "content-type": "application/json", ...asOperator },
        body: JSON.stringify({ ids, ratePerSecond: 4 }),
      });
      jobId = ((await response.json()) as { id: string }).id;
      await eventually(async () => ((await childJob(jobId)).progress.sent >= 3 ? true : undefined), 30_000, "3 sent");
    } catch (error) {
      throw new Error(`${String(error)}\n${server.stdout()}\n${server.stderr()}`);
    } finally {
      server.kill("SIGKILL");
    }
    expect((await server.exited).signal).toBe("SIGKILL");
    app = await openApp(database, {});
    const atKill = await job(jobId);
    expect(atKill.progress.sent).toBeGreaterThanOrEqual(3);
    expect(atKill.progress.sent).toBeLessThan(12);

    // The restarted manager (same database) resumes the job.
    const done = await finished(jobId, 30_000);
    expect(done.progress).toEqual({ pending: 0, sent: 12, skipped: 0, failed: 0 });
    const delivered = await drain(killQueue, 12);
    const byId = new Set(delivered.map((m) => m.properties.messageId));
    expect([...byId].sort()).toEqual(ids.map((_, i) => `s-${i}`).sort());
    // At least once: a message sent but not marked when the process died may come twice, never more per restart.
    expect(delivered.length).toBeLessThanOrEqual(13);
  });
});
