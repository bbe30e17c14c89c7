import { createServer } from "node:net";
import { testEndpoints } from "@kronos/testkit";
import { describe, expect, it } from "vitest";
import { createKafkaConnection, TransportError } from "../src/index.js";

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("KafkaConnection (real Kafka)", () => {
  it("answers a metadata request", async () => {
    const kafka = createKafkaConnection({
      brokers: testEndpoints().kafkaBrokers.split(","),
      clientId: "transport-test",
    });
    try {
      const info = await kafka.checkHealth();
      expect(info.brokers).toBeGreaterThanOrEqual(1);
      expect(info.clusterId).not.toBe("");
      // The admin client is kept between checks.
      await expect(kafka.checkHealth()).resolves.toMatchObject({ clusterId: info.clusterId });
    } finally {
      await kafka.close();
    }
  });

  it("fails fast with KAFKA_UNAVAILABLE naming the brokers when nothing listens", async () => {
    const broker = `127.0.0.1:${await closedPort()}`;
    const kafka = createKafkaConnection({ brokers: [broker], clientId: "transport-test" });
    try {
      const started = Date.now();
      const error = await kafka.checkHealth(2000).catch((e: unknown) => e);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).code).toBe("KAFKA_UNAVAILABLE");
      expect((error as Error).message).toMatch(/ECONNREFUSED|Connection error/);
      expect((error as Error).message).toContain(broker);
    } finally {
      await kafka.close();
    }
  });

  it("refuses checks after close", async () => {
    const kafka = createKafkaConnection({
      brokers: testEndpoints().kafkaBrokers.split(","),
      clientId: "transport-test",
    });
    await kafka.close();
    await expect(kafka.checkHealth()).rejects.toMatchObject({ code: "CLOSED" });
  });
});
