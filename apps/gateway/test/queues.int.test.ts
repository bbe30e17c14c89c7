import { TestResources, testEndpoints } from "@kronos/testkit";
import { createAmqpPublisher, createKafkaPublisher } from "@kronos/transport";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hsToken, tempPrincipalsFile, testGateway } from "./helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;
type Headers = Record<string, string>;

interface Entry {
  id: string;
  broker: string;
  name: string;
  managedBy: string;
  [key: string]: unknown;
}

const endpoints = testEndpoints();

/** Polls `probe` until it returns a value (management figures lag a few seconds), at most `timeoutMs`. */
async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe("queue administration routes", () => {
  const resources = new TestResources();
  const extraQueues: string[] = [];
  const extraExchanges: string[] = [];
  let app: App;
  let admin: Headers;
  let producer: Headers;

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), { RABBITMQ_MANAGEMENT_URL: endpoints.rabbitmqManagementUrl });
    await app.ready();
    admin = { authorization: `Bearer ${await hsToken("operator", ["admin"], "10m")}` };
    producer = { authorization: `Bearer ${await hsToken("service", ["produce:*", "consume:*"], "10m")}` };
  });
  afterAll(async () => {
    // Dead-letter and retry objects are named after the queue: delete them too.
    const channel = await app.amqp.connection().createChannel();
    channel.on("error", () => undefined);
    for (const queue of extraQueues) await channel.deleteQueue(queue);
    for (const exchange of extraExchanges) await channel.deleteExchange(exchange);
    await channel.close();
    await app.close();
    await resources.cleanup();
  });

  const create = (body: Record<string, unknown>, headers: Headers = admin) =>
    app.inject({ method: "POST", url: "/queues/create", headers, payload: body });
  const list = (query: string, headers: Headers = admin) =>
    app.inject({ method: "GET", url: `/queues?${query}`, headers });
  const remove = (id: string, query = "", headers: Headers = admin) =>
    app.inject({ method: "DELETE", url: `/queues/${encodeURIComponent(id)}${query}`, headers });

  /** A RabbitMQ queue with dead-lettering and retry queues, registered for cleanup. */
  function rabbitQueue(prefix: string, deadLetter = false): string {
    const name = resources.queue(prefix);
    if (deadLetter) {
      extraQueues.push(`${name}.dlq`, `${name}.retry.1000`);
      extraExchanges.push(`${name}.dlx`);
    }
    return name;
  }

  describe("authorization", () => {
    const calls = {
      "GET /queues": (headers: Headers) => list("broker=kafka&prefix=none", headers),
      "POST /queues/create": (headers: Headers) => create({ name: "never-created", broker: "rabbitmq" }, headers),
      "DELETE /queues/:queueId": (headers: Headers) => remove("rabbitmq:never-created", "", headers),
    };
    for (const [route, call] of Object.entries(calls)) {
      it(`${route}: 401 without credentials, 403 without the admin right`, async () => {
        const anonymous = await call({});
        expect(anonymous.statusCode, anonymous.body).toBe(401);
        expect(anonymous.json().code).toBe("UNAUTHENTICATED");
        const forbidden = await call(producer);
        expect(forbidden.statusCode, forbidden.body).toBe(403);
        expect(forbidden.json()).toEqual({ code: "FORBIDDEN", message: 'Principal "service" lacks the right "admin"' });
      });
    }

    it("a non-admin with invalid options gets 403, not a validation answer", async () => {
      const response = await create({ name: "x", broker: "rabbitmq", bogus: true }, producer);
      expect(response.statusCode).toBe(403);
    });
  });

  describe("RabbitMQ queues", () => {
    it("201 created, 200 when equivalent, 409 QUEUE_CONFLICT with other arguments; the shared channel keeps working", async () => {
      const name = rabbitQueue("gw-q-create", true);
      const publisher = createAmqpPublisher(app.amqp);
      try {
        const body = {
          name,
          broker: "rabbitmq",
          type: "classic",
          maxPriority: 5,
          deadLetter: { retryDelaysMs: [1000] },
        };
        const created = await create(body);
        expect(created.statusCode, created.body).toBe(201);
        expect(created.json()).toEqual({
          id: `rabbitmq:${name}`,
          broker: "rabbitmq",
          name,
          outcome: "created",
          deadLetter: { exchange: `${name}.dlx`, queue: `${name}.dlq`, retryQueues: [`${name}.retry.1000`] },
        });
        await publisher.publish({ exchange: "", routingKey: name, content: Buffer.from("one"), messageId: "m1" });

        const again = await create(body);
        expect(again.statusCode, again.body).toBe(200);
        expect(again.json().outcome).toBe("exists");

        const conflict = await create({ ...body, maxPriority: 9 });
        expect(conflict.statusCode, conflict.body).toBe(409);
        expect(conflict.json().code).toBe("QUEUE_CONFLICT");
        expect(conflict.json().message).toContain(name);

        // The 406 closed only the declaration's throwaway channel: the connection and the publisher's confirm
        // channel still work, and so do further declarations.
        expect(app.amqp.state).toBe("connected");
        await publisher.publish({ exchange: "", routingKey: name, content: Buffer.from("two"), messageId: "m2" });
        expect((await create(body)).statusCode).toBe(200);
        const channel = await app.amqp.connection().createChannel();
        expect((await channel.checkQueue(name)).messageCount).toBe(2);
        await channel.close();
      } finally {
        await publisher.close();
      }
    });

    it("400 INVALID_OPTIONS: schema violations, another broker's option, transport refusals; nothing is created", async () => {
      const name = rabbitQueue("gw-q-invalid");
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ name, broker: "rabbitmq", bogus: 1 }, "bogus"],
        [{ name, broker: "rabbitmq", maxPriority: 300 }, "maxPriority"],
        [{ name, broker: "rabbitmq", type: "stream" }, "type"],
        [{ name, broker: "rabbitmq", deadLetter: { retryDelaysMs: [0] } }, "retryDelaysMs"],
        [{ name, broker: "rabbitmq", partitions: 3 }, 'option "partitions" does not apply to rabbitmq'],
        [{ name, broker: "kafka", maxPriority: 3 }, 'option "maxPriority" does not apply to kafka'],
        [{ name, broker: "rabbitmq", type: "quorum", maxPriority: 5 }, "maxPriority is only supported by classic"],
        [{ name, broker: "rabbitmq", bindings: [{ exchange: `${name}-missing`, routingKey: "k" }] }, "does not exist"],
        [{ name: "bad name*", broker: "rabbitmq" }, "is not a valid name"],
        [{ broker: "rabbitmq" }, "name"],
      ];
      for (const [body, mention] of cases) {
        const response = await create(body);
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
        expect(response.json().code, response.body).toBe("INVALID_OPTIONS");
        expect(response.json().message).toContain(mention);
      }
      const channel = await app.amqp.connection().createChannel();
      channel.on("error", () => undefined);
      await expect(channel.checkQueue(name)).rejects.toThrow(/404/);
    });

    it("GET /queues shows type, ready, unacknowledged, consumers, max priority and dead-letter target", async () => {
      const name = rabbitQueue("gw-q-figures", true);
      expect((await create({ name, broker: "rabbitmq", maxPriority: 4, deadLetter: true })).statusCode).toBe(201);
      const publisher = createAmqpPublisher(app.amqp);
      for (const id of ["a", "b", "c"]) {
        await publisher.publish({ exchange: "", routingKey: name, content: Buffer.from(id), messageId: id });
      }
      await publisher.close();
      const channel = await app.amqp.connection().createChannel();
      await channel.prefetch(1);
      await channel.consume(name, () => undefined, { noAck: false });

      const expected = {
        id: `rabbitmq:${name}`,
        broker: "rabbitmq",
        name,
        managedBy: "api",
        vhost: "/",
        type: "classic",
        durable: true,
        messagesReady: 2,
        messagesUnacknowledged: 1,
        consumers: 1,
        maxPriority: 4,
        deadLetter: { exchange: `${name}.dlx`, routingKey: name },
      };
      let last: unknown;
      const entry = await eventually(async () => {
        const response = await list(`broker=rabbitmq&prefix=${name}`);
        expect(response.statusCode, response.body).toBe(200);
        const found = (response.json().queues as Entry[]).find((q) => q.name === name);
        last = found;
        return found && found.messagesReady === 2 && found.messagesUnacknowledged === 1 && found.consumers === 1
          ? found
          : undefined;
      });
      expect(entry ?? last).toMatchObject(expected);
      const all = (await list(`broker=rabbitmq&prefix=${name}`)).json().queues as Entry[];
      expect(all.map((q) => q.name).sort()).toEqual([name, `${name}.dlq`]);
      await channel.close();
    });

    it("GET /queues marks the manifest's queues and lists both brokers", async () => {
      const response = await list("prefix=kronos.");
      expect(response.statusCode, response.body).toBe(200);
      const queues = response.json().queues as Entry[];
      const byId = new Map(queues.map((q) => [q.id, q]));
      expect(byId.get("rabbitmq:kronos.router.requests.auth")?.managedBy).toBe("manifest");
      expect(byId.get("rabbitmq:kronos.router.requests.dlq")?.managedBy).toBe("manifest");
      expect(byId.get("kafka:kronos.auth.events")).toMatchObject({ managedBy: "manifest", broker: "kafka" });
      // Internal topics (consumer offsets, the registry's storage) are never listed.
      const all = (await list("broker=kafka")).json().queues as Entry[];
      expect(all.some((t) => t.name.startsWith("_") || t.name.startsWith("kafkasql-"))).toBe(false);
    });

    it("DELETE: 409 QUEUE_NOT_EMPTY with ifEmpty, then 204, then 404", async () => {
      const name = rabbitQueue("gw-q-delete");
      expect((await create({ name, broker: "rabbitmq" })).statusCode).toBe(201);
      const publisher = createAmqpPublisher(app.amqp);
      await publisher.publish({ exchange: "", routingKey: name, content: Buffer.from("x"), messageId: "x" });
      await publisher.close();

      const kept = await remove(`rabbitmq:${name}`, "?ifEmpty=true");
      expect(kept.statusCode, kept.body).toBe(409);
      expect(kept.json().code).toBe("QUEUE_NOT_EMPTY");
      const deleted = await remove(`rabbitmq:${name}`);
      expect(deleted.statusCode, deleted.body).toBe(204);
      expect(deleted.body).toBe("");
      const gone = await remove(`rabbitmq:${name}`);
      expect(gone.statusCode).toBe(404);
      expect(gone.json()).toEqual({ code: "QUEUE_NOT_FOUND", message: `rabbitmq:${name} does not exist` });

      const empty = rabbitQueue("gw-q-delete-empty");
      expect((await create({ name: empty, broker: "rabbitmq", type: "quorum" })).statusCode).toBe(201);
      expect((await remove(`rabbitmq:${empty}`, "?ifEmpty=true")).statusCode).toBe(204);
    });

    it("DELETE refuses the manifest's queues and topics with 409 MANAGED_BY_MANIFEST, and bad ids with 400", async () => {
      for (const id of [
        "rabbitmq:kronos.router.requests.auth",
        "rabbitmq:kronos.router.requests.dlq",
        "kafka:kronos.auth.events",
      ]) {
        const response = await remove(id);
        expect(response.statusCode, id).toBe(409);
        expect(response.json().code).toBe("MANAGED_BY_MANIFEST");
      }
      const channel = await app.amqp.connection().createChannel();
      await channel.checkQueue("kronos.router.requests.auth");
      await channel.close();

      for (const id of ["orders", "redis:orders", "kafka:"]) {
        const response = await remove(id);
        expect(response.statusCode, id).toBe(400);
        expect(response.json().code).toBe("INVALID_QUEUE_ID");
      }
      const query = await remove("rabbitmq:x", "?ifEmpty=maybe");
      expect(query.statusCode).toBe(400);
      expect(query.json().code).toBe("INVALID_QUERY");
    });
  });

  describe("Kafka topics", () => {
    it("201 created, 200 when equivalent, 409 TOPIC_CONFLICT; GET shows end offsets and a group's lag; DELETE", async () => {
      const name = resources.topic("gw-topic");
      const body = { name, broker: "kafka", partitions: 2, retentionMs: 3_600_000, cleanupPolicy: "delete" };
      const created = await create(body);
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toEqual({ id: `kafka:${name}`, broker: "kafka", name, outcome: "created" });
      expect((await create(body)).statusCode).toBe(200);
      const conflict = await create({ ...body, partitions: 3 });
      expect(conflict.statusCode, conflict.body).toBe(409);
      expect(conflict.json().code).toBe("TOPIC_CONFLICT");
      expect(conflict.json().message).toContain("partitions is 2 (wanted 3)");

      const publisher = createKafkaPublisher(app.kafka);
      const acks: Array<{ partition: number }> = [];
      for (let i = 0; i < 5; i++) {
        acks.push(await publisher.publish({ topic: name, key: `k${i}`, value: Buffer.from(`v${i}`) }));
      }
      await publisher.close();
      const ends = [0, 1].map((p) => acks.filter((a) => a.partition === p).length);
      const group = `${name}-group`;
      const kafka = new Kafka({ brokers: [endpoints.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
      await kafka.connect();
      try {
        await kafka.setOffsets({ groupId: group, topic: name, partitions: [{ partition: 0, offset: "0" }] });
        const response = await list(`broker=kafka&prefix=${name}`);
        expect(response.statusCode, response.body).toBe(200);
        expect(response.json().queues).toEqual([
          {
            id: `kafka:${name}`,
            broker: "kafka",
            name,
            managedBy: "api",
            replicationFactor: 1,
            retentionMs: 3_600_000,
            cleanupPolicy: "delete",
            partitions: [
              { partition: 0, startOffset: 0, endOffset: ends[0] },
              { partition: 1, startOffset: 0, endOffset: ends[1] },
            ],
            consumerGroups: [
              {
                groupId: group,
                totalLag: ends[0],
                partitions: [
                  { partition: 0, committed: 0, lag: ends[0] },
                  { partition: 1, committed: null, lag: null },
                ],
              },
            ],
          },
        ]);
        const kept = await remove(`kafka:${name}`, "?ifEmpty=true");
        expect(kept.statusCode, kept.body).toBe(409);
        expect(kept.json().code).toBe("TOPIC_NOT_EMPTY");
        await kafka.deleteGroups([group]);
      } finally {
        await kafka.disconnect();
      }
      expect((await remove(`kafka:${name}`)).statusCode).toBe(204);
      const gone = await remove(`kafka:${name}`);
      expect(gone.statusCode).toBe(404);
      expect(gone.json().code).toBe("TOPIC_NOT_FOUND");
    });

    it("DELETE ?ifEmpty=true deletes an empty topic; 400 for invalid Kafka options", async () => {
      const name = resources.topic("gw-topic-empty");
      const created = await create({ name, broker: "kafka", partitions: 1 });
      expect(created.statusCode, created.body).toBe(201);
      expect((await remove(`kafka:${name}`, "?ifEmpty=true")).statusCode).toBe(204);
      for (const body of [
        { name, broker: "kafka", partitions: 0 },
        { name, broker: "kafka", cleanupPolicy: "forever" },
        { name, broker: "kafka", replicationFactor: 5 },
      ]) {
        const response = await create(body);
        expect(response.statusCode, JSON.stringify(body)).toBe(400);
        expect(response.json().code).toBe("INVALID_OPTIONS");
      }
    });
  });

  describe("unreachable brokers", () => {
    it("the management API down: 503 MANAGEMENT_UNAVAILABLE with Retry-After; Kafka topics still listed", async () => {
      const down = await testGateway(tempPrincipalsFile(), {
        RABBITMQ_MANAGEMENT_URL: "http://guest:guest@127.0.0.1:1",
      });
      try {
        const response = await down.inject({ method: "GET", url: "/queues", headers: admin });
        expect(response.statusCode, response.body).toBe(503);
        expect(response.json().code).toBe("MANAGEMENT_UNAVAILABLE");
        expect(response.json().message).not.toContain("guest:guest");
        expect(response.headers["retry-after"]).toBe("5");
        const kafkaOnly = await down.inject({
          method: "GET",
          url: "/queues?broker=kafka&prefix=kronos.",
          headers: admin,
        });
        expect(kafkaOnly.statusCode).toBe(200);
      } finally {
        await down.close();
      }
    });

    it("Kafka down: 503 KAFKA_UNAVAILABLE with Retry-After", async () => {
      const down = await testGateway(tempPrincipalsFile(), { KAFKA_BROKERS: "127.0.0.1:1" });
      try {
        const response = await down.inject({ method: "GET", url: "/queues?broker=kafka", headers: admin });
        expect(response.statusCode, response.body).toBe(503);
        expect(response.json().code).toMatch(/^(KAFKA_UNAVAILABLE|TIMEOUT)$/);
        // The product's words; kafkajs's text (ECONNREFUSED, "Cannot destructure ...") goes to the log only.
        expect(response.json().message).toMatch(
          /^(Kafka cannot be reached or did not answer|.*did not answer in time); try again later$/,
        );
        expect(response.headers["retry-after"]).toBe("5");
        const created = await down.inject({
          method: "POST",
          url: "/queues/create",
          headers: admin,
          payload: { name: "gw-never", broker: "kafka" },
        });
        expect(created.statusCode).toBe(503);
      } finally {
        await down.close();
      }
    }, 90_000);
  });
});
