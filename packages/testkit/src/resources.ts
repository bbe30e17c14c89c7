import { connect } from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import { testEndpoints } from "./endpoints.js";
import { uniqueName } from "./names.js";

/**
 * Hands out unique topic, queue, exchange and subject names for one test file and deletes whatever exists
 * under those names in `cleanup()` (call it in `afterAll`). Deleting something that was never created is
 * not an error.
 */
export class TestResources {
  readonly #topics: string[] = [];
  readonly #queues: string[] = [];
  readonly #exchanges: string[] = [];
  readonly #subjects: string[] = [];
  readonly #endpoints = testEndpoints();

  topic(prefix = "test"): string {
    const name = uniqueName(prefix);
    this.#topics.push(name);
    return name;
  }

  queue(prefix = "test"): string {
    const name = uniqueName(prefix);
    this.#queues.push(name);
    return name;
  }

  exchange(prefix = "test"): string {
    const name = uniqueName(prefix);
    this.#exchanges.push(name);
    return name;
  }

  subject(prefix = "test"): string {
    const name = uniqueName(prefix);
    this.#subjects.push(name);
    return name;
  }

  /** Deletes the topics, queues, exchanges and subjects handed out (best effort: reports, never throws). */
  async cleanup(): Promise<void> {
    const results = await Promise.allSettled([this.#cleanKafka(), this.#cleanRabbit(), this.#cleanRegistry()]);
    for (const result of results) {
      if (result.status === "rejected") console.warn(`testkit cleanup: ${String(result.reason)}`);
    }
  }

  async #cleanKafka(): Promise<void> {
    if (this.#topics.length === 0) return;
    const admin = new Kafka({ brokers: [this.#endpoints.kafkaBrokers], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const existing = new Set(await admin.listTopics());
      const topics = this.#topics.filter((topic) => existing.has(topic));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    } finally {
      await admin.disconnect();
    }
  }

  async #cleanRabbit(): Promise<void> {
    if (this.#queues.length === 0 && this.#exchanges.length === 0) return;
    const connection = await connect(this.#endpoints.rabbitmqUrl);
    connection.on("error", () => undefined);
    try {
      // deleteQueue/deleteExchange succeed when the object does not exist (AMQP 0-9-1 delete is idempotent).
      const channel = await connection.createChannel();
      channel.on("error", () => undefined);
      for (const queue of this.#queues) await channel.deleteQueue(queue);
      for (const exchange of this.#exchanges) await channel.deleteExchange(exchange);
      await channel.close();
    } finally {
      await connection.close();
    }
  }

  async #cleanRegistry(): Promise<void> {
    for (const subject of this.#subjects) {
      const url = `${this.#endpoints.registryUrl}/subjects/${encodeURIComponent(subject)}`;
      // A subject is soft-deleted first, then permanently; 404 means it was never registered.
      await fetch(url, { method: "DELETE" });
      await fetch(`${url}?permanent=true`, { method: "DELETE" });
    }
  }
}
