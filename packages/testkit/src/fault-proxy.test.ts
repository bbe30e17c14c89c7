import { once } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startFaultProxy } from "./fault-proxy.js";

/** An echo server on loopback, and a client of the proxy in front of it that collects what comes back. */
async function setUp(record = false) {
  const echo: Server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
  const proxy = await startFaultProxy({
    target: `127.0.0.1:${(echo.address() as { port: number }).port}`,
    record,
  });
  const client: Socket = connect(proxy.port, "127.0.0.1");
  client.on("error", () => undefined);
  await once(client, "connect");
  let received = "";
  client.on("data", (chunk: Buffer) => {
    received += chunk.toString();
  });
  cleanups.push(async () => {
    client.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });
  return { proxy, client, received: () => received };
}

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe("fault proxy", () => {
  it("forwards both ways and records the chunks when asked", async () => {
    const { proxy, client, received } = await setUp(true);
    client.write("hello");
    await until(() => received() === "hello");
    expect(proxy.connections).toBe(1);
    expect(proxy.traffic.map((chunk) => chunk.direction)).toEqual(["up", "down"]);
    expect(proxy.via("amqp://guest:guest@localhost:5672/vhost")).toBe(
      `amqp://guest:guest@127.0.0.1:${proxy.port}/vhost`,
    );
  });

  it("holds a frozen direction back, in order, until thawed", async () => {
    const { proxy, client, received } = await setUp();
    proxy.freeze("down");
    client.write("a");
    client.write("b");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received()).toBe("");
    proxy.thaw();
    await until(() => received() === "ab");
  });

  it("delays chunks by the latency it is given", async () => {
    const { proxy, client, received } = await setUp();
    proxy.setLatency(150);
    const started = Date.now();
    client.write("x");
    await until(() => received() === "x");
    // Up and down are each delayed.
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it("resets open connections, and refuses new ones while told to", async () => {
    const { proxy, client } = await setUp();
    // (events.once would reject on the reset's error event)
    const closed = new Promise((resolve) => client.on("close", resolve));
    proxy.resetAll();
    await closed;
    expect(proxy.connections).toBe(0);
    proxy.refuse(true);
    const refused = connect(proxy.port, "127.0.0.1");
    const outcome = await new Promise<string>((resolve) => {
      refused.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      refused.on("close", () => resolve("closed"));
    });
    expect(["ECONNRESET", "closed"]).toContain(outcome);
    proxy.refuse(false);
    const again = connect(proxy.port, "127.0.0.1");
    await once(again, "connect");
    again.write("back");
    let echoed = "";
    again.on("data", (chunk: Buffer) => {
      echoed += chunk.toString();
    });
    await until(() => echoed === "back");
    again.destroy();
  });
});
