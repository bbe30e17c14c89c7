import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { resolveSources } from "./sources.js";

describe("dead-letter sources", () => {
  it("derives <topic>.dlq and the dead-letter queues from this repository's manifest, plus the configured ones", async () => {
    const { sources } = loadConfig({ DLQ_KAFKA_SOURCES: "connect.errors", DLQ_RABBITMQ_SOURCES: "legacy.dlq" });
    const resolved = await resolveSources(sources);
    const kafka = resolved.kafka.map((source) => source.topic);
    expect(kafka.length).toBeGreaterThan(1);
    for (const topic of kafka.filter((name) => name !== "connect.errors")) expect(topic).toMatch(/\.dlq$/);
    expect(resolved.kafka.find((source) => source.topic === "connect.errors")).toEqual({
      topic: "connect.errors",
      createWithPartitions: undefined,
    });
    expect(
      resolved.kafka.filter((source) => source.topic !== "connect.errors").every((s) => s.createWithPartitions),
    ).toBe(true);
    expect(resolved.rabbitmq).toContain("legacy.dlq");
    expect(resolved.rabbitmq.length).toBeGreaterThan(1);
  });

  it("reads only the configured sources when the manifest's are off", async () => {
    const { sources } = loadConfig({
      DLQ_CATALOG_SOURCES: "false",
      DLQ_KAFKA_SOURCES: "a.dlq",
      DLQ_RABBITMQ_SOURCES: "b.dlq",
    });
    expect(await resolveSources(sources)).toEqual({
      kafka: [{ topic: "a.dlq", createWithPartitions: undefined }],
      rabbitmq: ["b.dlq"],
    });
  });
});
