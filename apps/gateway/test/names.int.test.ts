import { testEndpoints } from "@kronos/testkit";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hsToken, tempPrincipalsFile, testGateway } from "./helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;
type Headers = Record<string, string>;

/** A queue and a topic the contract manifest declares (created by the topology at start). */
const MANIFEST_QUEUE = "kronos.router.requests.user";
const MANIFEST_TOPIC = "kronos.auth.events";

describe("names are checked before anything compares or uses them", () => {
  let app: App;
  let admin: Headers;

  beforeAll(async () => {
    app = await testGateway(tempPrincipalsFile(), { RABBITMQ_MANAGEMENT_URL: testEndpoints().rabbitmqManagementUrl });
    await app.ready();
    admin = { authorization: `Bearer ${await hsToken("operator", ["admin", "consume:*", "produce:*"], "10m")}` };
  });
  afterAll(async () => {
    await app.close();
  });

  it("DELETE of a manifest queue or topic with CR/LF or another control character appended: 400 INVALID_NAME, the queue stays", async () => {
    for (const suffix of ["%0A", "%0D", "%0D%0A", "%00", "%09", "%7F", "%C2%85"]) {
      for (const id of [`rabbitmq:${MANIFEST_QUEUE}${suffix}`, `kafka:${MANIFEST_TOPIC}${suffix}`]) {
        const response = await app.inject({ method: "DELETE", url: `/queues/${id}`, headers: admin });
        expect(response.statusCode, `${id}: ${response.body}`).toBe(400);
        expect(response.json().code).toBe("INVALID_NAME");
        expect(response.json().message).toMatch(/not a valid name: a (RabbitMQ name|Kafka topic name)/);
      }
    }
    const channel = await app.amqp.connection().createChannel();
    channel.on("error", () => undefined);
    try {
      await expect(channel.checkQueue(MANIFEST_QUEUE)).resolves.toMatchObject({ queue: MANIFEST_QUEUE });
    } finally {
      await channel.close();
    }
    const listed = await app.inject({
      method: "GET",
      url: `/queues?broker=kafka&prefix=${MANIFEST_TOPIC}`,
      headers: admin,
    });
    expect(listed.json().queues.map((q: { name: string }) => q.name)).toContain(MANIFEST_TOPIC);
  });

  it("DELETE of the manifest's own names is still 409 MANAGED_BY_MANIFEST", async () => {
    const response = await app.inject({ method: "DELETE", url: `/queues/rabbitmq:${MANIFEST_QUEUE}`, headers: admin });
    expect(response.statusCode).toBe(409);
    expect(response.json().code).toBe("MANAGED_BY_MANIFEST");
  });

  it("POST /queues/create, GET /queues?prefix=: names with control characters are 400 INVALID_NAME", async () => {
    for (const body of [
      { name: `${MANIFEST_QUEUE}\n`, broker: "rabbitmq" },
      { name: "gw-names\r", broker: "rabbitmq" },
      { name: "gw-names", broker: "rabbitmq", bindings: [{ exchange: "kronos.router\n", routingKey: "k" }] },
      { name: "bad topic!", broker: "kafka" },
    ]) {
      const response = await app.inject({ method: "POST", url: "/queues/create", headers: admin, payload: body });
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().code, response.body).toBe("INVALID_NAME");
    }
    const listed = await app.inject({ method: "GET", url: "/queues?prefix=a%0Ab", headers: admin });
    expect(listed.statusCode).toBe(400);
    expect(listed.json().code).toBe("INVALID_NAME");
  });

  it("GET /subscribe/<a name the broker refuses> is 400 INVALID_NAME, never a 500", async () => {
    for (const name of ["a%20b", "%00", "%25", "..%2F..", "orders%0A", `${MANIFEST_QUEUE}%0D%0A`]) {
      for (const broker of ["", "?broker=kafka"]) {
        const response = await app.inject({ method: "GET", url: `/subscribe/${name}${broker}`, headers: admin });
        expect(response.statusCode, `${name}${broker}: ${response.body}`).toBe(400);
        expect(response.json().code).toBe("INVALID_NAME");
      }
    }
  });

  it("POST /publish, /publish/batch and /request to a topic with a control character: 400 INVALID_NAME", async () => {
    for (const url of ["/publish", "/request"]) {
      const response = await app.inject({
        method: "POST",
        url,
        headers: admin,
        payload: { topic: `${MANIFEST_TOPIC}\n`, payload: {} },
      });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().code).toBe("INVALID_NAME");
    }

    const batch = await app.inject({
      method: "POST",
      url: "/publish/batch",
      headers: admin,
      payload: {
        messages: [
          { topic: MANIFEST_TOPIC, payload: {} },
          { topic: `${MANIFEST_TOPIC}\r`, payload: {} },
        ],
      },
    });
    expect(batch.statusCode, batch.body).toBe(400);
    expect(batch.json()).toMatchObject({ code: "INVALID_NAME", message: expect.stringMatching(/^messages\[1\]: /) });
  });

  describe("internal topics and protected names", () => {
    const INTERNAL = [
      "__consumer_offsets",
      "__transaction_state",
      "_schemas",
      "kafkasql-journal",
      "kafkasql-snapshots",
    ];

    it("a consume:* principal cannot stream internal topics (403), and no retry topic is created for them", async () => {
      for (const name of INTERNAL) {
        for (const query of ["", "?broker=kafka"]) {
          const response = await app.inject({ method: "GET", url: `/subscribe/${name}${query}`, headers: admin });
          expect(response.statusCode, `${name}${query}: ${response.body}`).toBe(403);
          expect(response.json().code).toBe("INTERNAL_DESTINATION");
        }
      }
      const kafka = new Kafka({ brokers: testEndpoints().kafkaBrokers.split(","), logLevel: logLevel.NOTHING });
      const kafkaAdmin = kafka.admin();
      await kafkaAdmin.connect();
      try {
        const topics = await kafkaAdmin.listTopics();
        expect(topics.filter((t) => INTERNAL.some((name) => t.startsWith(`${name}.`)))).toEqual([]);
      } finally {
        await kafkaAdmin.disconnect();
      }
    });

    it("internal topics cannot be published to, created or deleted (403 INTERNAL_DESTINATION)", async () => {
      const calls = [
        { method: "POST", url: "/publish", payload: { topic: "__consumer_offsets", payload: {} } },
        { method: "POST", url: "/publish", payload: { topic: "kafkasql-journal", broker: "kafka", payload: {} } },
        { method: "POST", url: "/queues/create", payload: { name: "__consumer_offsets", broker: "kafka" } },
        { method: "POST", url: "/queues/create", payload: { name: "amq.mine", broker: "rabbitmq" } },
        { method: "DELETE", url: "/queues/kafka:__consumer_offsets" },
        { method: "DELETE", url: "/queues/kafka:kafkasql-journal" },
      ] as const;
      for (const call of calls) {
        const response = await app.inject({ ...call, headers: admin });
        expect(response.statusCode, `${call.method} ${call.url}: ${response.body}`).toBe(403);
        expect(response.json().code).toBe("INTERNAL_DESTINATION");
      }
    });

    it("the manifest's retry and dead-letter objects and the reply topic are protected like the manifest's own (409)", async () => {
      for (const id of [
        `kafka:${MANIFEST_TOPIC}.dlq`,
        `kafka:${MANIFEST_TOPIC}.retry.1000`,
        "kafka:kronos.gateway.replies",
        `rabbitmq:${MANIFEST_QUEUE}.retry.5000`,
        "rabbitmq:kronos.router.requests.dlq",
      ]) {
        const response = await app.inject({ method: "DELETE", url: `/queues/${id}`, headers: admin });
        expect(response.statusCode, `${id}: ${response.body}`).toBe(409);
        expect(response.json().code).toBe("MANAGED_BY_MANIFEST");
      }
      const listed = await app.inject({
        method: "GET",
        url: "/queues?broker=kafka&prefix=kronos.gateway.replies",
        headers: admin,
      });
      expect(listed.json().queues).toEqual([
        expect.objectContaining({ name: "kronos.gateway.replies", managedBy: "manifest" }),
      ]);
    });
  });
});
