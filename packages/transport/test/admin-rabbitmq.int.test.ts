import { createServer } from "node:net";
import { TestResources, testEndpoints } from "@kronos/testkit";
import { type Channel, type ChannelModel, connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AmqpConnectionManager,
  declareQueue,
  deleteQueue,
  type QueueInfo,
  RabbitManagementClient,
} from "../src/index.js";
import { rejection } from "./assertions.js";
import { eventually } from "./rabbitmq-management.js";

const resources = new TestResources();
const endpoints = testEndpoints();
const manager = new AmqpConnectionManager({ url: endpoints.rabbitmqUrl, name: `transport-admin-test-${process.pid}` });
const management = new RabbitManagementClient({ url: endpoints.rabbitmqManagementUrl });
// Derived objects (DLX, DLQ, retry queues) that TestResources does not know about.
const derivedQueues: string[] = [];
const derivedExchanges: string[] = [];
let plain: ChannelModel;
let channel: Channel;

beforeAll(async () => {
  manager.start();
  expect(await manager.waitForConnection(15_000)).toBe(true);
  plain = await connect(endpoints.rabbitmqUrl);
  channel = await plain.createChannel();
});

afterAll(async () => {
  await channel.close().catch(() => {});
  const cleaner = await plain.createChannel();
  cleaner.on("error", () => {});
  for (const queue of derivedQueues) await cleaner.deleteQueue(queue).catch(() => {});
  for (const exchange of derivedExchanges) await cleaner.deleteExchange(exchange).catch(() => {});
  await plain.close().catch(() => {});
  await manager.close();
  await resources.cleanup();
});

async function exists(queue: string): Promise<boolean> {
  const probe = await plain.createChannel();
  probe.on("error", () => {});
  try {
    await probe.checkQueue(queue);
    await probe.close();
    return true;
  } catch {
    return false;
  }
}

describe("declareQueue (real RabbitMQ)", () => {
  it("creates a classic priority queue, then finds the equivalent one; the management API shows it", async () => {
    const name = resources.queue("admin-prio");
    expect(await declareQueue(manager, name, { maxPriority: 5, messageTtlMs: 60_000 })).toBe("created");
    expect(await declareQueue(manager, name, { maxPriority: 5, messageTtlMs: 60_000 })).toBe("exists");
    const info = await eventually(async () => {
      const queues = await management.listQueues("/");
      const found = queues.find((q) => q.name === name);
      expect(found).toBeDefined();
      return found as QueueInfo;
    });
    expect(info).toMatchObject({ name, vhost: "/", type: "classic", durable: true, maxPriority: 5 });
    expect(info.arguments).toMatchObject({ "x-message-ttl": 60_000 });
  });

  it("creates a quorum queue with a delivery limit", async () => {
    const name = resources.queue("admin-quorum");
    expect(await declareQueue(manager, name, { type: "quorum", deliveryLimit: 3 })).toBe("created");
    expect(await declareQueue(manager, name, { type: "quorum", deliveryLimit: 3 })).toBe("exists");
    const info = await management.getQueue(name);
    expect(info).toMatchObject({ name, type: "quorum", durable: true, maxPriority: null });
    expect(info?.arguments).toMatchObject({ "x-delivery-limit": 3 });
  });

  it("refuses different arguments with QUEUE_CONFLICT, and the manager's other channels keep working", async () => {
    const name = resources.queue("admin-conflict");
    const confirm = await manager.connection().createConfirmChannel();
    try {
      expect(await declareQueue(manager, name, { maxPriority: 5 })).toBe("created");
      const error = await rejection(declareQueue(manager, name, { maxPriority: 9 }));
      expect(error.code).toBe("QUEUE_CONFLICT");
      expect(error.retriable).toBe(false);
      expect(error.message).toContain(`queue "${name}"`);
      expect(error.message).toContain("x-max-priority");
      const typeError = await rejection(declareQueue(manager, name, { type: "quorum" }));
      expect(typeError.code).toBe("QUEUE_CONFLICT");
      expect(typeError.message).toMatch(/inequivalent arg '(x-queue-type|x-max-priority)'/);

      // The confirm channel opened before the conflicts still publishes and gets its confirm.
      confirm.sendToQueue(name, Buffer.from("still alive"), { persistent: true });
      await confirm.waitForConfirms();
      expect(manager.state).toBe("connected");
      const message = await eventually(async () => {
        const got = await channel.get(name, { noAck: true });
        if (!got) throw new Error("not yet");
        return got;
      });
      expect(message.content.toString()).toBe("still alive");
      await expect(manager.checkHealth()).resolves.toBeUndefined();
    } finally {
      await confirm.close().catch(() => {});
    }
  });

  it("refuses invalid options before touching the broker", async () => {
    const name = resources.queue("admin-invalid");
    const quorumPriority = await rejection(declareQueue(manager, name, { type: "quorum", maxPriority: 5 }));
    expect(quorumPriority.code).toBe("INVALID_OPTIONS");
    expect(quorumPriority.message).toContain(name);
    expect(quorumPriority.message).toContain("maxPriority");
    const classicLimit = await rejection(declareQueue(manager, name, { deliveryLimit: 2 }));
    expect(classicLimit.code).toBe("INVALID_OPTIONS");
    expect(await exists(name)).toBe(false);

    const missing = await rejection(
      declareQueue(manager, name, { bindings: [{ exchange: `${name}-no-such-exchange`, routingKey: "k" }] }),
    );
    expect(missing.code).toBe("INVALID_OPTIONS");
    expect(missing.message).toContain(`${name}-no-such-exchange`);
    expect(await exists(name)).toBe(false);
  });

  it("binds the queue to exchanges", async () => {
    const name = resources.queue("admin-bound");
    const exchange = resources.exchange("admin-ex");
    await channel.assertExchange(exchange, "topic", { durable: false });
    await declareQueue(manager, name, { bindings: [{ exchange, routingKey: "orders.*" }] });
    channel.publish(exchange, "orders.created", Buffer.from("routed"));
    const message = await eventually(async () => {
      const got = await channel.get(name, { noAck: true });
      if (!got) throw new Error("not yet");
      return got;
    });
    expect(message.content.toString()).toBe("routed");
  });

  it("deadLetter creates <name>.dlx and <name>.dlq, and a rejected message lands in the DLQ", async () => {
    const name = resources.queue("admin-dl");
    derivedQueues.push(`${name}.dlq`);
    derivedExchanges.push(`${name}.dlx`);
    expect(await declareQueue(manager, name, { deadLetter: true })).toBe("created");
    expect(await declareQueue(manager, name, { deadLetter: true })).toBe("exists");
    const info = await management.getQueue(name);
    expect(info).toMatchObject({ deadLetterExchange: `${name}.dlx`, deadLetterRoutingKey: name });

    channel.sendToQueue(name, Buffer.from("poison"), { headers: { attempt: 1 } });
    const delivered = await eventually(async () => {
      const got = await channel.get(name, { noAck: false });
      if (!got) throw new Error("not yet");
      return got;
    });
    channel.nack(delivered, false, false);
    const dead = await eventually(async () => {
      const got = await channel.get(`${name}.dlq`, { noAck: true });
      if (!got) throw new Error("not yet");
      return got;
    });
    expect(dead.content.toString()).toBe("poison");
    const deaths = dead.properties.headers?.["x-death"] as Array<{ queue: string; reason: string }> | undefined;
    const death = deaths?.[0];
    expect(death).toMatchObject({ queue: name, reason: "rejected" });
  });

  it("retry path: a message published to <name>.retry.<ms> comes back to <name> after the delay", async () => {
    const name = resources.queue("admin-retry");
    derivedQueues.push(`${name}.dlq`, `${name}.retry.800`, `${name}.retry.5000`);
    derivedExchanges.push(`${name}.dlx`);
    expect(await declareQueue(manager, name, { type: "quorum", deadLetter: { retryDelaysMs: [800, 5000] } })).toBe(
      "created",
    );
    const retry = await management.getQueue(`${name}.retry.800`);
    expect(retry).toMatchObject({ type: "quorum", deadLetterExchange: "", deadLetterRoutingKey: name });
    expect(retry?.arguments).toMatchObject({ "x-message-ttl": 800 });

    const sentAt = Date.now();
    channel.sendToQueue(`${name}.retry.800`, Buffer.from("try again"), { persistent: true });
    expect(await channel.get(name, { noAck: true })).toBe(false);
    const back = await eventually(async () => {
      const got = await channel.get(name, { noAck: true });
      if (!got) throw new Error("not yet");
      return got;
    }, 15_000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(700);
    expect(back.content.toString()).toBe("try again");
  });
});

describe("deleteQueue (real RabbitMQ)", () => {
  it("deletes a queue, then reports not-found", async () => {
    const name = resources.queue("admin-del");
    await declareQueue(manager, name, {});
    expect(await deleteQueue(manager, name)).toBe("deleted");
    expect(await exists(name)).toBe(false);
    expect(await deleteQueue(manager, name)).toBe("not-found");
  });

  it("ifEmpty keeps a queue holding messages (QUEUE_NOT_EMPTY), and deletes an empty quorum queue", async () => {
    const name = resources.queue("admin-del-full");
    await declareQueue(manager, name, {});
    channel.sendToQueue(name, Buffer.from("keep me"));
    await eventually(async () => expect((await channel.checkQueue(name)).messageCount).toBe(1));
    const error = await rejection(deleteQueue(manager, name, { ifEmpty: true }));
    expect(error.code).toBe("QUEUE_NOT_EMPTY");
    expect(error.message).toContain(`queue "${name}"`);
    expect(await exists(name)).toBe(true);

    const quorum = resources.queue("admin-del-quorum");
    await declareQueue(manager, quorum, { type: "quorum" });
    expect(await deleteQueue(manager, quorum, { ifEmpty: true })).toBe("deleted");
    expect(await exists(quorum)).toBe(false);
  });
});

describe("RabbitManagementClient (real management API)", () => {
  it("reports ready, unacknowledged and consumers of a queue being consumed", async () => {
    const name = resources.queue("admin-stats");
    await declareQueue(manager, name, {});
    for (let i = 0; i < 5; i++) channel.sendToQueue(name, Buffer.from(`m${i}`));
    const consumer = await plain.createChannel();
    try {
      await consumer.prefetch(2);
      await consumer.consume(name, () => {}, { noAck: false });
      const info = await eventually(async () => {
        const found = await management.getQueue(name, "/");
        expect(found).toMatchObject({ messagesReady: 3, messagesUnacknowledged: 2, consumers: 1 });
        return found;
      }, 30_000);
      expect(info?.name).toBe(name);
      const listed = (await management.listQueues()).find((q) => q.name === name);
      expect(listed).toMatchObject({ vhost: "/", consumers: 1 });
    } finally {
      await consumer.close();
    }
    expect(await management.getQueue(`${name}-missing`)).toBeUndefined();
  });

  it("says MANAGEMENT_UNAVAILABLE when nothing answers and MANAGEMENT_UNAUTHORIZED for bad credentials", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const down = new RabbitManagementClient({ url: `http://guest:secret@127.0.0.1:${port}`, timeoutMs: 1000 });
    const error = await rejection(down.listQueues());
    expect(error).toMatchObject({ code: "MANAGEMENT_UNAVAILABLE", retriable: true });
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).not.toContain("secret");

    const api = new URL(endpoints.rabbitmqManagementUrl);
    api.password = "wrong-password";
    const refused = await rejection(new RabbitManagementClient({ url: api.toString() }).listQueues());
    expect(refused).toMatchObject({ code: "MANAGEMENT_UNAUTHORIZED", retriable: false });
    expect(refused.message).not.toContain("wrong-password");
  });
});
