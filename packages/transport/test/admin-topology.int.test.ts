import { fileURLToPath } from "node:url";
import { type Catalog, loadCatalog } from "@kronos/catalog";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AmqpConnectionManager,
  createKafkaConnection,
  createTopic,
  describeTopics,
  ensureTopology,
  RabbitManagementClient,
  type TopologyItem,
} from "../src/index.js";

const endpoints = testEndpoints();
const resources = new TestResources();
const kafka = createKafkaConnection({
  brokers: endpoints.kafkaBrokers.split(","),
  clientId: "transport-topology-test",
});
const amqp = new AmqpConnectionManager({ url: endpoints.rabbitmqUrl, name: `transport-topology-test-${process.pid}` });
const management = new RabbitManagementClient({ url: endpoints.rabbitmqManagementUrl });
const schemasDir = fileURLToPath(new URL("../../../schemas", import.meta.url));

beforeAll(async () => {
  amqp.start();
  expect(await amqp.waitForConnection(15_000)).toBe(true);
});

afterAll(async () => {
  // The manifest's kronos.* objects stay: the gateway relies on them. Only the synthetic ones go.
  await Promise.all([kafka.close(), amqp.close()]);
  await resources.cleanup();
});

const key = (item: TopologyItem) => `${item.broker}:${item.kind}:${item.name}`;

/** Every object the manifest implies, by hand from the catalog: topics, exchanges, DLXs, queues, DLQs. */
function expectedItems(catalog: Catalog): string[] {
  const items = new Set<string>();
  for (const destination of catalog.destinations) {
    if (destination.broker === "kafka") {
      items.add(`kafka:topic:${destination.topic}`);
      continue;
    }
    items.add(`rabbitmq:exchange:${destination.name}`);
    for (const queue of destination.queues) {
      items.add(`rabbitmq:queue:${queue.name}`);
      if (queue.deadLetter) {
        items.add(`rabbitmq:exchange:${queue.deadLetter.exchange}`);
        if (queue.deadLetter.queue) items.add(`rabbitmq:queue:${queue.deadLetter.queue}`);
      }
    }
  }
  return [...items].sort();
}

describe("ensureTopology (real Kafka and RabbitMQ)", () => {
  it("creates the manifest's topics, exchanges and queues; a second run finds them all", async () => {
    const catalog = await loadCatalog(schemasDir);
    const expected = expectedItems(catalog);
    expect(expected.length).toBeGreaterThan(10);

    const first = await ensureTopology({ catalog, kafka, amqp });
    expect(first.conflicts).toEqual([]);
    expect([...first.created, ...first.existing].map(key).sort()).toEqual(expected);

    const second = await ensureTopology({ catalog, kafka, amqp });
    expect(second).toMatchObject({ created: [], conflicts: [] });
    expect(second.existing.map(key).sort()).toEqual(expected);

    // Spot checks against the brokers themselves.
    const topics = await describeTopics(kafka, ["kronos.log.entries", "kronos.auth.events"]);
    expect(topics.map((t) => [t.name, t.partitions.length, t.config.retentionMs])).toEqual([
      ["kronos.auth.events", 6, 2_592_000_000],
      ["kronos.log.entries", 12, 259_200_000],
    ]);
    expect(topics[0]?.replicationFactor).toBe(second.kafkaBrokers === null ? 0 : Math.min(3, second.kafkaBrokers));
    const auth = await management.getQueue("kronos.router.requests.auth");
    expect(auth).toMatchObject({
      type: "classic",
      maxPriority: 10,
      deadLetterExchange: "kronos.router.dlx",
      deadLetterRoutingKey: "request.auth",
    });
    const critical = await management.getQueue("kronos.gaia.critical.notifications");
    expect(critical).toMatchObject({ type: "quorum", deadLetterExchange: "kronos.gaia.critical.dlx" });
    expect(critical?.arguments).toMatchObject({ "x-delivery-limit": 5 });

    // Routing works end to end: a message to the router exchange reaches its queue; a rejected one its DLQ.
    const connection = await connect(endpoints.rabbitmqUrl);
    try {
      const channel = await connection.createConfirmChannel();
      const probe = `topology-probe-${process.pid}-${Date.now()}`;
      channel.publish("kronos.router", "request.auth", Buffer.from(probe), { mandatory: true, priority: 5 });
      await channel.waitForConfirms();
      let got = await channel.get("kronos.router.requests.auth", { noAck: false });
      for (let i = 0; i < 50 && (!got || got.content.toString() !== probe); i++) {
        // Another test or app may have left messages: put them back and look again.
        if (got) channel.nack(got, false, true);
        await new Promise((resolve) => setTimeout(resolve, 100));
        got = await channel.get("kronos.router.requests.auth", { noAck: false });
      }
      expect(got ? got.content.toString() : got).toBe(probe);
      if (got) channel.nack(got, false, false);
      let dead = await channel.get("kronos.router.requests.dlq", { noAck: false });
      for (let i = 0; i < 50 && (!dead || dead.content.toString() !== probe); i++) {
        if (dead) channel.nack(dead, false, true);
        await new Promise((resolve) => setTimeout(resolve, 100));
        dead = await channel.get("kronos.router.requests.dlq", { noAck: false });
      }
      expect(dead ? dead.content.toString() : dead).toBe(probe);
      if (dead) channel.ack(dead);
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  it("reports objects that exist with other settings as conflicts and leaves them as they are", async () => {
    const topic = resources.topic("topology-conflict");
    const freshTopic = resources.topic("topology-fresh");
    const exchange = resources.exchange("topology-conflict");
    const queue = resources.queue("topology-skipped");
    await createTopic(kafka, topic, { partitions: 1 });
    const connection = await connect(endpoints.rabbitmqUrl);
    try {
      const channel = await connection.createChannel();
      await channel.assertExchange(exchange, "fanout", { durable: true });
      await channel.close();
    } finally {
      await connection.close();
    }
    const catalog: Catalog = {
      dir: "synthetic",
      events: [],
      types: [],
      destinations: [
        ...[topic, freshTopic].map((name) => ({
          broker: "kafka" as const,
          name,
          topic: name,
          partitions: 2,
          replicas: 3,
          cleanupPolicy: ["delete" as const],
          retentionMs: 3_600_000,
          channels: [],
          events: [],
        })),
        {
          broker: "rabbitmq",
          name: exchange,
          type: "topic",
          durable: true,
          autoDelete: false,
          vhost: "/",
          channels: [],
          events: [],
          queues: [
            {
              name: queue,
              type: "classic",
              durable: true,
              bindingKeys: ["#"],
              maxPriority: null,
              deliveryLimit: null,
              deadLetter: null,
            },
          ],
        },
      ],
    };
    const report = await ensureTopology({ catalog, kafka, amqp });
    expect(report.created).toEqual([{ broker: "kafka", kind: "topic", name: freshTopic }]);
    expect(report.existing).toEqual([]);
    expect(report.conflicts).toEqual([
      expect.objectContaining({ broker: "kafka", kind: "topic", name: topic, code: "TOPIC_CONFLICT" }),
      expect.objectContaining({ broker: "rabbitmq", kind: "exchange", name: exchange, code: "QUEUE_CONFLICT" }),
    ]);
    expect(report.conflicts[0]?.message).toContain("partitions is 1 (wanted 2)");
    expect(report.conflicts[1]?.message).toContain(exchange);
    // The replication factor was capped at the cluster's size; the queue of the conflicting exchange was skipped.
    const [fresh] = await describeTopics(kafka, [freshTopic]);
    expect(fresh?.replicationFactor).toBe(Math.min(3, report.kafkaBrokers ?? 0));
    expect(await management.getQueue(queue)).toBeUndefined();
  });
});
