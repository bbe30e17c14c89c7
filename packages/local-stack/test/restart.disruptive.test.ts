// Restarts of the real stack: data survives, and `down` stops exactly what `up` started.
import { randomBytes } from "node:crypto";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { endpoints, loadSettings, stackStatus } from "../src/index.js";
import { isListening } from "../src/ports.js";
import { isAlive } from "../src/processes.js";
import { stackCli } from "./cli.js";

const settings = loadSettings();
const stack = endpoints(settings);
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

afterAll(() => {
  // Whatever happened above, leave the stack up for whoever runs next.
  stackCli(["up"]);
});

describe("Kafka restart", () => {
  it("keeps an acknowledged message across a broker stop and start", async () => {
    const kafka = new Kafka({ clientId: "restart-test", brokers: [stack.kafkaBrokers], logLevel: logLevel.NOTHING });
    const topic = unique("restart-test");
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: "survivor", value: "still here" }] });
    await producer.disconnect();

    const restart = stackCli(["restart", "kafka"]);
    expect(restart.code, restart.output).toBe(0);

    const consumer = kafka.consumer({ groupId: unique("restart-test-group") });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const value = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
    });
    await consumer.disconnect();
    expect(value).toBe("still here");

    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [topic] });
    await cleanup.disconnect();
  });
});

describe("Registry restart", () => {
  it("still resolves a schema id after the registry restarts (KafkaSQL storage)", async () => {
    const registry = new SchemaRegistry({ host: stack.registryUrl });
    const subject = unique("kronos.test.Persisted");
    const schema = JSON.stringify({
      type: "record",
      name: "Persisted",
      namespace: "kronos.test",
      fields: [{ name: "id", type: "string" }],
    });
    const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject });

    const restart = stackCli(["restart", "registry"]);
    expect(restart.code, restart.output).toBe(0);

    // A fresh client: nothing cached.
    const fresh = new SchemaRegistry({ host: stack.registryUrl });
    const encoded = await fresh.encode(id, { id: "after-restart" });
    expect(await fresh.decode(encoded)).toEqual({ id: "after-restart" });
    await fetch(`${stack.registryUrl}/subjects/${subject}`, { method: "DELETE" });
    await fetch(`${stack.registryUrl}/subjects/${subject}?permanent=true`, { method: "DELETE" });
  });
});

describe("kronos-stack down", () => {
  it("leaves none of its processes and frees its ports; up brings everything back", async () => {
    const before = await stackStatus();
    const pids = before.flatMap((service) => (service.managed && service.pid !== undefined ? [service.pid] : []));
    expect(pids.length).toBeGreaterThanOrEqual(2);

    const down = stackCli(["down"]);
    expect(down.code, down.output).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(await isListening(settings.kafkaPort)).toBe(false);
    expect(await isListening(settings.registryPort)).toBe(false);
    // The machine's RabbitMQ is not ours to stop.
    expect(await isListening(5672)).toBe(true);

    const up = stackCli(["up"]);
    expect(up.code, up.output).toBe(0);
    expect((await stackStatus()).every((service) => service.ready)).toBe(true);
  });
});
