import { createServer } from "node:net";
import { testEndpoints } from "@kronos/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { AmqpConnectionManager } from "../src/index.js";
import { brokerConnections, closeOnBroker, eventually } from "./rabbitmq-management.js";

const managers: AmqpConnectionManager[] = [];
function manager(url: string, name: string): AmqpConnectionManager {
  const m = new AmqpConnectionManager({ url, name, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
  managers.push(m);
  return m;
}

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
});

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("AmqpConnectionManager (real RabbitMQ)", () => {
  it("connects and passes the channel check", async () => {
    const m = manager(testEndpoints().rabbitmqUrl, `transport-test-${process.pid}-ok`);
    m.start();
    expect(await m.waitForConnection(10_000)).toBe(true);
    expect(m.state).toBe("connected");
    await expect(m.checkHealth()).resolves.toBeUndefined();
  });

  it("reports RABBITMQ_UNAVAILABLE with the cause while nothing listens, and keeps retrying", async () => {
    const m = manager(`amqp://guest:guest@127.0.0.1:${await closedPort()}`, "transport-test-down");
    m.start();
    expect(await m.waitForConnection(500)).toBe(false);
    const error = await m.checkHealth().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "RABBITMQ_UNAVAILABLE", retriable: true });
    expect((error as Error).message).toMatch(/not connected .*ECONNREFUSED/);
    expect((error as Error).message).not.toContain("guest:guest");
    expect(["connecting", "reconnecting"]).toContain(m.state);
  });

  it("reconnects after the broker closes its connection", async () => {
    const name = `transport-test-${process.pid}-reconnect`;
    const m = manager(testEndpoints().rabbitmqUrl, name);
    m.start();
    expect(await m.waitForConnection(10_000)).toBe(true);
    const first = m.connection();
    let connections: string[] = [];
    await eventually(async () => {
      connections = await brokerConnections(name);
      expect(connections).toHaveLength(1);
    });
    await closeOnBroker(connections[0] as string);
    await eventually(() => {
      expect(m.state).toBe("connected");
      expect(m.connection()).not.toBe(first);
    });
    await expect(m.checkHealth()).resolves.toBeUndefined();
  });

  it("stops for good on close", async () => {
    const m = manager(testEndpoints().rabbitmqUrl, `transport-test-${process.pid}-close`);
    m.start();
    await m.waitForConnection(10_000);
    await m.close();
    expect(m.state).toBe("closed");
    await expect(m.checkHealth()).rejects.toMatchObject({ code: "CLOSED" });
  });
});
