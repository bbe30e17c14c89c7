// Reading a scenario's messages back from where they should be, by message id.
import { createKafkaClient } from "@kronos/transport/kafkajs";
import type { ChannelModel } from "amqplib";
import type { Ledger } from "./ledger.js";

/** Partition → offset. */
export type Offsets = Map<number, bigint>;

/** The end offsets (next offset to be written) of each partition of `topic`. */
export async function endOffsets(brokers: string[], topic: string): Promise<Offsets> {
  const kafka = createKafkaClient({ clientId: "kronos-battery-offsets", brokers, retry: { retries: 10 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads `topic` from `from` up to `to` (per partition) and records in `ledger` every record whose `message-id`
 * header starts with `prefix` (others count as foreign). Resolves once each partition was read up to `to`, or
 * after `timeoutMs` (what was not read then shows as lost).
 */
export async function readKafkaBack(options: {
  readonly brokers: string[];
  readonly topic: string;
  readonly from: Offsets;
  readonly to: Offsets;
  readonly prefix: string;
  readonly ledger: Ledger;
  readonly timeoutMs: number;
}): Promise<void> {
  const { topic, from, to, prefix, ledger } = options;
  const pending = new Set([...to].filter(([partition, end]) => end > (from.get(partition) ?? 0n)).map(([p]) => p));
  if (pending.size === 0) return;
  const kafka = createKafkaClient({
    clientId: "kronos-battery-readback",
    brokers: options.brokers,
    retry: { retries: 10 },
  });
  const groupId = `kronos-battery-readback-${crypto.randomUUID()}`;
  // The start offsets are committed for the new group before it joins, rather than sought after `run()`: a seek is
  // lost when the consumer restarts (it does after a crash, e.g. a coordinator that is not ready yet right after a
  // broker restart), and a seek made while it restarts throws.
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({
      groupId,
      topic,
      partitions: [...to].map(([partition, end]) => ({
        partition,
        offset: String(pending.has(partition) ? (from.get(partition) ?? 0n) : end),
      })),
    });
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // A record read twice (the consumer restarted before its commit) is counted once: duplicates are other offsets.
  const seen = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const end = to.get(batch.partition) ?? 0n;
        for (const message of batch.messages) {
          if (BigInt(message.offset) >= end) break;
          const key = `${batch.partition}:${message.offset}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const id = message.headers?.["message-id"]?.toString();
          if (id?.startsWith(prefix)) ledger.readBack(id);
          else ledger.foreign();
        }
        const last = batch.messages.at(-1);
        if (last && BigInt(last.offset) + 1n >= end) {
          pending.delete(batch.partition);
          if (pending.size === 0) finish();
        }
      },
    });
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, options.timeoutMs))]);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * Takes every message from `queue` (it is the scenario's own) and records in `ledger` those whose `messageId` starts
 * with `prefix`. Resolves once the queue stayed empty for a second, or after `timeoutMs`.
 */
export async function drainQueueBack(options: {
  readonly connection: ChannelModel;
  readonly queue: string;
  readonly prefix: string;
  readonly ledger: Ledger;
  readonly timeoutMs: number;
}): Promise<void> {
  const channel = await options.connection.createChannel();
  const deadline = Date.now() + options.timeoutMs;
  let lastSeen = Date.now();
  try {
    await channel.prefetch(1000);
    await channel.consume(
      options.queue,
      (message) => {
        if (!message) return;
        lastSeen = Date.now();
        const id = message.properties.messageId as string | undefined;
        if (id?.startsWith(options.prefix)) options.ledger.readBack(id);
        else options.ledger.foreign();
        channel.ack(message);
      },
      { noAck: false },
    );
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const { messageCount } = await channel.checkQueue(options.queue);
      if (messageCount === 0 && Date.now() - lastSeen > 1000) break;
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Reads a gateway scenario's messages back: Kafka's `topic` from the offsets `from` to its end now, or the
 * scenario's own RabbitMQ `queue` drained; each within 120 s.
 */
export async function readBack(options: {
  readonly broker: "kafka" | "rabbitmq";
  readonly brokers: string[];
  readonly topic: string;
  readonly from: Offsets;
  readonly queue: string | undefined;
  readonly connect: () => Promise<ChannelModel>;
  readonly prefix: string;
  readonly ledger: Ledger;
}): Promise<void> {
  const { brokers, topic, from, prefix, ledger } = options;
  if (options.broker === "kafka") {
    const to = await endOffsets(brokers, topic);
    await readKafkaBack({ brokers, topic, from, to, prefix, ledger, timeoutMs: 120_000 });
  } else {
    await drainQueueBack({
      connection: await options.connect(),
      queue: options.queue as string,
      prefix,
      ledger,
      timeoutMs: 120_000,
    });
  }
}
