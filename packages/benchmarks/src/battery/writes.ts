// How many messages the brokers hold in all: Kafka's end offsets summed over every topic, plus every RabbitMQ
// queue's messages. A scenario whose requests must write nothing compares the totals before and after.
import { createKafkaClient } from "@kronos/transport/kafkajs";
import { stack } from "../harness.js";
import type { BatteryContext } from "./context.js";

export interface BrokerWrites {
  readonly byName: ReadonlyMap<string, number>;
  /** Messages added since `before`, over the names both know (a topic deleted meanwhile is not a write). */
  writtenSince(before: BrokerWrites): number;
  /** Names that gained messages since `before`. */
  grownSince(before: BrokerWrites): string[];
}

/** The registry's own topics (its storage): they change when anyone registers a schema. */
const REGISTRY_TOPICS = new Set(["kafkasql-journal", "registry-events"]);

async function rabbitmqQueues(): Promise<Array<[string, number]>> {
  const url = new URL(stack.rabbitmqManagementUrl);
  const auth = Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString(
    "base64",
  );
  url.username = "";
  url.password = "";
  const response = await fetch(new URL("/api/queues?columns=name,messages", url), {
    headers: { authorization: `Basic ${auth}` },
    signal: AbortSignal.timeout(10_000),
  });
  const queues = (await response.json()) as Array<{ name: string; messages?: number }>;
  return queues.map((queue) => [`rabbitmq:${queue.name}`, queue.messages ?? 0]);
}

async function kafkaTopics(brokers: string[]): Promise<Array<[string, number]>> {
  const admin = createKafkaClient({ clientId: "kronos-battery-writes", brokers, retry: { retries: 5 } }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((topic) => !topic.startsWith("__") && !REGISTRY_TOPICS.has(topic));
    const counts: Array<[string, number]> = [];
    for (const topic of topics) {
      const offsets = await admin.fetchTopicOffsets(topic).catch(() => []);
      counts.push([`kafka:${topic}`, offsets.reduce((sum, entry) => sum + Number(entry.high), 0)]);
    }
    return counts;
  } finally {
    await admin.disconnect();
  }
}

/** What the brokers hold now (RabbitMQ's management API refreshes queue counts every few seconds: waits 6 s). */
export async function brokerWrites(context: BatteryContext): Promise<BrokerWrites> {
  await new Promise((resolve) => setTimeout(resolve, 6000));
  const byName = new Map([...(await kafkaTopics(context.brokers)), ...(await rabbitmqQueues())]);
  const grown = (before: BrokerWrites) =>
    [...byName.keys()].filter(
      (name) => (byName.get(name) ?? 0) > (before.byName.get(name) ?? Number.POSITIVE_INFINITY),
    );
  return {
    byName,
    grownSince: grown,
    writtenSince: (before) =>
      grown(before).reduce((sum, name) => sum + (byName.get(name) ?? 0) - (before.byName.get(name) ?? 0), 0),
  };
}
