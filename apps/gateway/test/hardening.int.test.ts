import { request as httpRequest } from "node:http";
import { addPrincipal } from "@kronos/app-kit";
import { testEndpoints, uniqueName } from "@kronos/testkit";
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

  it("GET /queues?broker=kafka stays 200 while topics are created and deleted meanwhile", async () => {
    const kafka = new Kafka({ brokers: testEndpoints().kafkaBrokers.split(","), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let round = 0; round < 4; round++) {
        const topics = Array.from({ length: 6 }, () => uniqueName("gw-churn"));
        await admin.createTopics({
          topics: topics.map((topic) => ({ topic, numPartitions: 2 })),
          waitForLeaders: true,
        });
        const [listings] = await Promise.all([
          Promise.all(
            Array.from({ length: 3 }, () =>
              app.inject({ method: "GET", url: "/queues?broker=kafka&prefix=gw-churn", headers: auth }),
            ),
          ),
          admin.deleteTopics({ topics }),
        ]);
        for (const listing of listings) expect(listing.statusCode, listing.body).toBe(200);
      }
    } finally {
      await admin.disconnect();
    }
  }, 120_000);
});
