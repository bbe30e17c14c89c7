// Messages RabbitMQ dead-letters by itself carry `x-death`, not the Kronos headers: readDeadLetter must read them
// in the same terms (reason, queue, attempts) for every cause RabbitMQ has.
import { testEndpoints, uniqueName } from "@kronos/testkit";
import { type Channel, type ChannelModel, connect, type GetMessage } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AmqpConnectionManager,
  deadLetterExchangeName,
  deadLetterQueueName,
  declareQueue,
  type QueueOptions,
  readDeadLetter,
} from "../src/index.js";
import { eventually } from "./rabbitmq-management.js";

const endpoints = testEndpoints();
const manager = new AmqpConnectionManager({ url: endpoints.rabbitmqUrl, name: `transport-x-death-${process.pid}` });
const created: string[] = [];
let connection: ChannelModel;
let channel: Channel;

beforeAll(async () => {
  manager.start();
  await manager.waitForConnection(10_000);
  connection = await connect(endpoints.rabbitmqUrl);
  channel = await connection.createChannel();
});
afterAll(async () => {
  for (const queue of created) {
    await channel.deleteQueue(queue).catch(() => {});
    await channel.deleteQueue(deadLetterQueueName(queue)).catch(() => {});
    await channel.deleteExchange(deadLetterExchangeName(queue)).catch(() => {});
  }
  await connection.close().catch(() => {});
  await manager.close();
});

async function queueWithDeadLetters(options: QueueOptions): Promise<string> {
  const queue = uniqueName("x-death");
  await declareQueue(manager, queue, { ...options, deadLetter: true });
  created.push(queue);
  return queue;
}

async function deadLetterOf(queue: string): Promise<GetMessage> {
  let message: GetMessage | false = false;
  await eventually(async () => {
    message = await channel.get(deadLetterQueueName(queue), { noAck: true });
    expect(message).not.toBe(false);
  }, 15_000);
  return message as unknown as GetMessage;
}

describe("dead letters RabbitMQ makes itself (x-death)", () => {
  // RabbitMQ resets x-delivery-count when it dead-letters, so the deliveries made are not in the message: attempts
  // counts the dead-letter trips (x-death's count) on top of any Kronos retries.
  it("delivery limit of a quorum queue → max-attempts", async () => {
    const queue = await queueWithDeadLetters({ type: "quorum", deliveryLimit: 1 });
    channel.sendToQueue(queue, Buffer.from("body"), { messageId: "limit-1", type: "kronos.test.Event" });
    // Two deliveries given back: the second one is beyond the limit of 1 redelivery.
    for (let i = 0; i < 2; i++) {
      let message: GetMessage | false = false;
      await eventually(async () => {
        message = await channel.get(queue, { noAck: false });
        expect(message).not.toBe(false);
      });
      channel.nack(message as unknown as GetMessage, false, true);
    }
    const dead = await deadLetterOf(queue);
    expect(dead.content.toString()).toBe("body");
    expect(readDeadLetter(dead.properties.headers ?? {}, dead.properties)).toMatchObject({
      writer: "x-death",
      reason: "max-attempts",
      errorCode: "RABBITMQ_DELIVERY_LIMIT",
      broker: "rabbitmq",
      queue,
      messageId: "limit-1",
      eventType: "kronos.test.Event",
      attempts: 1,
    });
  });

  it("max length → max-length, and a message TTL → expired", async () => {
    const short = await queueWithDeadLetters({ maxLength: 1 });
    channel.sendToQueue(short, Buffer.from("first"), { messageId: "first" });
    channel.sendToQueue(short, Buffer.from("second"), { messageId: "second" });
    const pushedOut = await deadLetterOf(short);
    expect(readDeadLetter(pushedOut.properties.headers ?? {}, pushedOut.properties)).toMatchObject({
      writer: "x-death",
      reason: "max-length",
      queue: short,
      messageId: "first",
    });

    const expiring = await queueWithDeadLetters({ messageTtlMs: 50 });
    channel.sendToQueue(expiring, Buffer.from("late"), { messageId: "late" });
    const expired = await deadLetterOf(expiring);
    const info = readDeadLetter(expired.properties.headers ?? {}, expired.properties);
    expect(info).toMatchObject({ writer: "x-death", reason: "expired", queue: expiring, messageId: "late" });
    expect(info?.lastFailureMs).toBeGreaterThan(Date.now() - 60_000);
  });
});
