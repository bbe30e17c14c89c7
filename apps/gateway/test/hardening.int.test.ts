import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { addPrincipal } from "@kronos/app-kit";
import { SseClient, testEndpoints, uniqueName } from "@kronos/testkit";
import { Kafka, logLevel } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;

/** One raw HTTP request (node:http: repeated headers stay repeated); resolves to status and body. */
function raw(
  port: number,
  options: { method?: string; path: string; headers: Record<string, string | string[]>; body?: Buffer | string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: "127.0.0.1", port, method: options.method ?? "GET", path: options.path, headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

describe("gateway hardening (issue 14)", () => {
  const file = tempPrincipalsFile();
  const { key } = addPrincipal(file, { id: "ops", acl: ["admin", "produce:*", "consume:*"] });
  const auth = { "x-api-key": key };
  let app: App;
  let port: number;

  beforeAll(async () => {
    app = await testGateway(file, { RABBITMQ_MANAGEMENT_URL: testEndpoints().rabbitmqManagementUrl });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    if (address === null || typeof address === "string") throw new Error("not listening on TCP");
    port = address.port;
  });
  afterAll(async () => {
    await app.close();
  });

  it("two X-API-Key headers (or two Authorization headers): 401 saying to send one", async () => {
    const twoKeys = await raw(port, { path: "/whoami", headers: { "x-api-key": [key, key] } });
    expect(twoKeys.status).toBe(401);
    expect(JSON.parse(twoKeys.body)).toEqual({
      code: "UNAUTHENTICATED",
      message: "Send one X-API-Key header, not several",
    });
    const twoAuth = await raw(port, { path: "/whoami", headers: { authorization: [`ApiKey ${key}`, "Bearer x"] } });
    expect(twoAuth.status).toBe(401);
    expect(JSON.parse(twoAuth.body).message).toBe("Send one Authorization header, not several");
    expect((await raw(port, { path: "/whoami", headers: auth })).status).toBe(200);
  });

  it("a JSON body with invalid UTF-8 is 400 INVALID_UTF8, never replaced and written", async () => {
    const body = Buffer.concat([
      Buffer.from('{"topic":"kronos.gaia.alerts","payload":{"title":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}}'),
    ]);
    for (const path of ["/publish", "/test/publish"]) {
      const response = await raw(port, {
        method: "POST",
        path,
        headers: { ...auth, "content-type": "application/json" },
        body,
      });
      expect(response.status, response.body).toBe(400);
      expect(JSON.parse(response.body)).toEqual({ code: "INVALID_UTF8", message: expect.stringContaining("UTF-8") });
    }
    // Valid UTF-8 (a BOM and non-ASCII text) still passes.
    const fine = await raw(port, {
      method: "POST",
      path: "/test/publish",
      headers: { ...auth, "content-type": "application/json" },
      body: Buffer.from('\ufeff{"topic":"caf\u00e9"}', "utf8"),
    });
    expect(fine.status, fine.body).toBe(200);
  });

  it("GET /queues?broker=kafka stays right while topics are created and deleted meanwhile; admin keeps working", async () => {
    const kafka = new Kafka({ brokers: testEndpoints().kafkaBrokers.split(","), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const prefix = uniqueName("gw-churn");
    const stable = `${prefix}-stable`;
    await admin.createTopics({ topics: [{ topic: stable, numPartitions: 1 }], waitForLeaders: true });
    try {
      for (let round = 0; round < 4; round++) {
        const topics = Array.from({ length: 6 }, (_, i) => `${prefix}-${round}-${i}`);
        await admin.createTopics({
          topics: topics.map((topic) => ({ topic, numPartitions: 2 })),
          waitForLeaders: true,
        });
        const [listings] = await Promise.all([
          Promise.all(
            Array.from({ length: 3 }, () =>
              app.inject({ method: "GET", url: `/queues?broker=kafka&prefix=${prefix}`, headers: auth }),
            ),
          ),
          admin.deleteTopics({ topics }),
        ]);
        for (const listing of listings) {
          expect(listing.statusCode, listing.body).toBe(200);
          // A topic vanishing meanwhile is skipped; the others are still there.
          expect(listing.json().queues.map((q: { name: string }) => q.name)).toContain(stable);
        }
      }
      // The gateway's own admin client was not left asking about the deleted topics.
      const created = await app.inject({
        method: "POST",
        url: "/queues/create",
        headers: auth,
        payload: { name: `${prefix}-after`, broker: "kafka" },
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(
        (await app.inject({ method: "DELETE", url: `/queues/kafka:${prefix}-after`, headers: auth })).statusCode,
      ).toBe(204);
    } finally {
      await admin.deleteTopics({ topics: [stable] }).catch(() => {});
      await admin.disconnect();
    }
  }, 120_000);
});

/**
 * Sends `head` (and `body` pieces every `dripMs`) on a raw socket and resolves when the server answers or closes:
 * the answer's text (empty when none) and how long it took.
 */
function slowRequest(
  port: number,
  head: string,
  pieces: readonly string[] = [],
  dripMs = 0,
): Promise<{ answer: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    let timer: NodeJS.Timeout | undefined;
    socket.on("connect", () => {
      socket.write(head);
      let next = 0;
      if (dripMs > 0) {
        timer = setInterval(() => {
          if (!socket.writable) return;
          socket.write(pieces[next % pieces.length] ?? " ");
          next++;
        }, dripMs);
      } else for (const piece of pieces) socket.write(piece);
    });
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8");
    });
    const done = () => {
      clearInterval(timer);
      socket.destroy();
      resolve({ answer, ms: Date.now() - started });
    };
    socket.on("close", done);
    socket.on("error", done);
    // An answer before the body ended (403) does not necessarily close the socket: take it once it is whole.
    socket.on("data", () => {
      if (/\r\n\r\n\{.*\}$/s.test(answer)) done();
    });
  });
}

describe("slow requests are cut off (GATEWAY_HEADERS_TIMEOUT_MS=1000, GATEWAY_REQUEST_TIMEOUT_MS=2000)", () => {
  const file = tempPrincipalsFile();
  const writer = addPrincipal(file, { id: "writer", acl: ["produce:*", "consume:*", "admin"] }).key;
  const reader = addPrincipal(file, { id: "reader", acl: ["consume:*"] }).key;
  let app: App;
  let port: number;

  beforeAll(async () => {
    app = await testGateway(file, {
      GATEWAY_HEADERS_TIMEOUT_MS: "1000",
      GATEWAY_REQUEST_TIMEOUT_MS: "2000",
      GATEWAY_SUBSCRIBE_HEARTBEAT_MS: "300",
      RABBITMQ_MANAGEMENT_URL: testEndpoints().rabbitmqManagementUrl,
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    if (address === null || typeof address === "string") throw new Error("not listening on TCP");
    port = address.port;
  });
  afterAll(async () => {
    await app.close();
  });

  const post = (path: string, key: string, extra: string) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\nX-API-Key: ${key}\r\nContent-Type: application/json\r\n${extra}\r\n`;

  it("a body shorter than its Content-Length, a chunked body that never ends, a drip-fed body: 408 within the bound", async () => {
    const cases = [
      slowRequest(port, post("/publish", writer, "Content-Length: 100\r\n"), ['{"topic":']),
      slowRequest(port, post("/publish", writer, "Transfer-Encoding: chunked\r\n"), ['5\r\n{"top\r\n']),
      slowRequest(port, post("/publish", writer, "Content-Length: 100000\r\n"), [" "], 100),
      // Headers that never end.
      slowRequest(port, `POST /publish HTTP/1.1\r\nHost: x\r\n`, ["X-A: b\r\n"], 100),
    ];
    for (const { answer, ms } of await Promise.all(cases)) {
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
      expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(4000);
    }
  });

  it("a principal without the right is refused before its body is read (403 at once, not after the timeout)", async () => {
    for (const path of ["/publish", "/publish/batch", "/request", "/queues/create"]) {
      const { answer, ms } = await slowRequest(port, post(path, reader, "Content-Length: 100000\r\n"), ["{"]);
      expect(answer, path).toMatch(/^HTTP\/1\.1 403 /);
      expect(answer).toContain('"code":"FORBIDDEN"');
      expect(ms, path).toBeLessThan(900);
    }
    const { answer, ms } = await slowRequest(port, post("/ack/nope.1", writer, "Content-Length: 100000\r\n"), ["{"]);
    expect(answer).toMatch(/^HTTP\/1\.1 404 /);
    expect(ms).toBeLessThan(900);
  });

  it("a Server-Sent Events stream is not cut off: the bounds end once the request is received", async () => {
    const queue = uniqueName("gw-slow");
    const created = await app.inject({
      method: "POST",
      url: "/queues/create",
      headers: { "x-api-key": writer },
      payload: { name: queue, broker: "rabbitmq" },
    });
    expect(created.statusCode, created.body).toBe(201);
    try {
      const stream = await SseClient.open(`http://127.0.0.1:${port}/subscribe/${queue}`, { "x-api-key": writer });
      expect(stream.status, stream.errorBody).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 3500));
      expect(stream.ended).toBe(false);
      expect(stream.comments.length).toBeGreaterThan(5);
      stream.close();
    } finally {
      await app.inject({ method: "DELETE", url: `/queues/rabbitmq:${queue}`, headers: { "x-api-key": writer } });
    }
  });
});
