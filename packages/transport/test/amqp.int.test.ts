import { createServer } from "node:net";
import { testEndpoints } from "@kronos/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { AmqpConnectionManager } from "../src/index.js";

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

/** Connections of RabbitMQ whose client-provided name is `name`, through the management API. */
async function brokerConnections(name: string): Promise<string[]> {
  const api = new URL(testEndpoints().rabbitmqManagementUrl);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(api.username)}:${decodeURIComponent(api.password)}`).toString("base64")}`;
  const response = await fetch(`${api.origin}/api/connections`, { headers: { authorization: auth } });
  const all = (await response.json()) as { name: string; client_properties?: { connection_name?: string } }[];
  return all.filter((c) => c.client_properties?.connection_name === name).map((c) => c.name);
}

async function closeOnBroker(connection: string): Promise<void> {
  const api = new URL(testEndpoints().rabbitmqManagementUrl);
  const auth = `Basic ${Buffer.from(`${decodeURIComponent(api.username)}:${decodeURIComponent(api.password)}`).toString("base64")}`;
  const response = await fetch(`${api.origin}/api/connections/${encodeURIComponent(connection)}`, {
    method: "DELETE",
    headers: { authorization: auth, "x-reason": "test: simulated connection loss" },
  });
  expect(response.status).toBe(204);
}

async function eventually(assertion: () => Promise<void> | void, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await assertion();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
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
