// Test helper that reads what landed on a real Kafka topic, past the code under test.
import type { IHeaders, Kafka } from "kafkajs";

/** One record as {@link readBack} gives it: where it sits, its key, bytes, headers (as text) and timestamp. */
export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  timestamp: string;
  /** The key, value and headers exactly as Kafka gave them (bytes, null value, repeated headers as lists). */
  raw: { key: Buffer | null; value: Buffer | null; headers: IHeaders };
}

/**
 * Reads `count` records of `topic` from the beginning with a plain kafkajs consumer of `kafka` (its own group
 * `<topic>-reader`, no commits), in the order they arrive. Rejects, saying how many it read, after `timeoutMs`.
 */
export async function readBack(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000): Promise<ReadRecord[]> {
  const consumer = kafka.consumer({ groupId: `${topic}-reader`, maxWaitTimeInMs: 100 });
  const read: ReadRecord[] = [];
  await consumer.connect();
  try {
    // A topic the code under test has just created can be missing from a loaded broker's metadata for a moment
    // ("This server does not host this topic-partition", retriable): ask again rather than fail the test.
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.subscribe({ topic, fromBeginning: true });
        break;
      } catch (error) {
        if (attempt >= 5 || (error as { retriable?: unknown } | null)?.retriable !== true) throw error;
        await new Promise((resolve) => setTimeout(resolve, 300 * attempt));
      }
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${read.length} of ${count} records`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
            read.push({
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value ?? Buffer.alloc(0),
              headers,
              timestamp: message.timestamp,
              raw: { key: message.key, value: message.value, headers: message.headers ?? {} },
            });
            if (read.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return read;
}
