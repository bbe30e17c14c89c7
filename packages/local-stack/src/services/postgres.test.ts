import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { postgresAddress, postgresAnswers } from "./postgres.js";

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/** A TCP server answering every connection's first bytes with `reply` (or never). */
async function fakeServer(reply: Buffer | undefined): Promise<number> {
  const server = createServer((socket) => {
    socket.once("data", () => {
      if (reply) socket.write(reply);
    });
    socket.on("error", () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

describe("the local stack's PostgreSQL check", () => {
  it("finds the server at DLQ_DATABASE_URL's address, default 127.0.0.1:5432", () => {
    expect(postgresAddress({})).toEqual({ host: "127.0.0.1", port: 5432 });
    expect(postgresAddress({ DLQ_DATABASE_URL: "postgres://u:p@db.local:6543/dlq" })).toEqual({
      host: "db.local",
      port: 6543,
    });
  });

  it("takes a server answering the SSLRequest with S or N for PostgreSQL", async () => {
    expect(await postgresAnswers("127.0.0.1", await fakeServer(Buffer.from("N")))).toBe(true);
    expect(await postgresAnswers("127.0.0.1", await fakeServer(Buffer.from("S")))).toBe(true);
  });

  it("does not take another program, a silent one or a closed port for PostgreSQL", async () => {
    expect(await postgresAnswers("127.0.0.1", await fakeServer(Buffer.from("HTTP/1.1 400")))).toBe(false);
    expect(await postgresAnswers("127.0.0.1", await fakeServer(undefined), 300)).toBe(false);
    const closed = await fakeServer(undefined);
    for (const server of servers.splice(0)) server.close();
    expect(await postgresAnswers("127.0.0.1", closed)).toBe(false);
  });
});
