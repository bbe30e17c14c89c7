import { writeFileSync } from "node:fs";
import { addPrincipal } from "@kronos/app-kit";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPrincipalsCli } from "../src/principals-cli.js";
import { hsToken, publicPem, rsa, SECRET, tempPrincipalsFile, testGateway } from "./helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;

describe("gateway authentication and authorization", () => {
  const file = tempPrincipalsFile();
  let app: App;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    keys.logWriter = addPrincipal(file, { id: "log-writer", acl: ["produce:kronos.log.*"] }).key;
    keys.operator = addPrincipal(file, { id: "operator", acl: ["admin", "consume:*"] }).key;
    app = await testGateway(file);
  });
  afterAll(async () => {
    await app.close();
  });

  const as = (credential: Record<string, string>) => ({
    publish: (topic: string) =>
      app.inject({ method: "POST", url: "/test/publish", headers: credential, payload: { topic } }),
    consume: (queue: string) => app.inject({ method: "GET", url: `/test/consume/${queue}`, headers: credential }),
    admin: (queue: string) => app.inject({ method: "DELETE", url: `/test/queues/${queue}`, headers: credential }),
  });

  describe("the authorization matrix allows and refuses exactly what the ACL says", () => {
    const jwtAcls = {
      "gaia-service": ["produce:kronos.gaia.*", "consume:kronos.gaia.alerts"],
      everything: ["produce:*", "consume:*", "admin"],
      nobody: [],
    } as const;
    const destinations = ["kronos.log.app", "kronos.gaia.alerts", "kronos.gaia.metrics", "orders"];
    // principal → action → destinations allowed (admin: allowed at all).
    const expected: Record<string, { produce: string[]; consume: string[]; admin: boolean }> = {
      "gaia-service": {
        produce: ["kronos.gaia.alerts", "kronos.gaia.metrics"],
        consume: ["kronos.gaia.alerts"],
        admin: false,
      },
      everything: { produce: destinations, consume: destinations, admin: true },
      nobody: { produce: [], consume: [], admin: false },
      "log-writer": { produce: ["kronos.log.app"], consume: [], admin: false },
      operator: { produce: [], consume: destinations, admin: true },
    };
    const credentials = async (id: string): Promise<Record<string, string>> =>
      id in jwtAcls
        ? { authorization: `Bearer ${await hsToken(id, jwtAcls[id as keyof typeof jwtAcls])}` }
        : { "x-api-key": keys[id === "log-writer" ? "logWriter" : "operator"] as string };

    for (const [id, rights] of Object.entries(expected)) {
      for (const destination of destinations) {
        it(`${id}: produce/consume/admin on ${destination}`, async () => {
          const client = as(await credentials(id));
          const produce = await client.publish(destination);
          const consume = await client.consume(destination);
          const admin = await client.admin(destination);
          expect(produce.statusCode, produce.body).toBe(rights.produce.includes(destination) ? 200 : 403);
          expect(consume.statusCode, consume.body).toBe(rights.consume.includes(destination) ? 200 : 403);
          expect(admin.statusCode, admin.body).toBe(rights.admin ? 200 : 403);
          if (produce.statusCode === 200) expect(produce.json()).toEqual({ ok: true, by: id });
          else {
            expect(produce.json()).toEqual({
              code: "FORBIDDEN",
              message: `Principal "${id}" lacks the right "produce:${destination}"`,
            });
          }
          if (admin.statusCode === 403) {
            expect(admin.json()).toEqual({ code: "FORBIDDEN", message: `Principal "${id}" lacks the right "admin"` });
          }
        });
      }
    }
  });

  it("accepts the API key as Authorization: ApiKey too, and /whoami tells who", async () => {
    const response = await app.inject({
      method: "GET",
      url: "/whoami",
      headers: { authorization: `ApiKey ${keys.operator}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: "operator",
      kind: "api-key",
      identity: "key:operator",
      acl: ["admin", "consume:*"],
    });
  });

  it("accepts an RS256 token", async () => {
    const jwt = await new SignJWT({ acl: ["admin"] })
      .setProtectedHeader({ alg: "RS256" })
      .setSubject("rs-user")
      .setExpirationTime("1m")
      .sign(rsa.privateKey);
    const response = await app.inject({ method: "GET", url: "/whoami", headers: { authorization: `Bearer ${jwt}` } });
    expect(response.json()).toEqual({ id: "rs-user", kind: "jwt", identity: "jwt::rs-user", acl: ["admin"] });
  });

  const unsecured = (payload: object) => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
  };

  it.each([
    ["no credentials", async () => ({}), /^Missing credentials/],
    [
      "an expired token",
      async () => ({ authorization: `Bearer ${await hsToken("a", ["admin"], Math.floor(Date.now() / 1000) - 60)}` }),
      /^Token expired at /,
    ],
    [
      "a wrongly signed token",
      async () => ({
        authorization: `Bearer ${await new SignJWT({ acl: ["admin"] })
          .setProtectedHeader({ alg: "HS256" })
          .setSubject("a")
          .setExpirationTime("1m")
          .sign(new TextEncoder().encode(`${SECRET}x`))}`,
      }),
      /^Token signature is invalid$/,
    ],
    [
      "an alg: none token",
      async () => ({ authorization: `Bearer ${unsecured({ sub: "a", acl: ["admin"], exp: Date.now() / 1000 + 60 })}` }),
      /^Token algorithm is not accepted/,
    ],
    [
      "an HS256 token signed with the RSA public key",
      async () => ({
        authorization: `Bearer ${await new SignJWT({ acl: ["admin"] }).setProtectedHeader({ alg: "HS256" }).setSubject("a").setExpirationTime("1m").sign(new TextEncoder().encode(publicPem))}`,
      }),
      /^Token signature is invalid$/,
    ],
    ["an unknown API key", async () => ({ "x-api-key": `kgw_${"A".repeat(43)}` }), /^Unknown API key$/],
    [
      "a Basic Authorization",
      async () => ({ authorization: "Basic dXNlcjpwYXNz" }),
      /^Unsupported Authorization scheme "Basic"/,
    ],
    ["two credentials", async () => ({ authorization: "Bearer x", "x-api-key": "y" }), /not both/],
  ])("answers 401 UNAUTHENTICATED to %s, saying why", async (_name, headers, message) => {
    const response = await app.inject({ method: "DELETE", url: "/test/queues/q", headers: await headers() });
    expect(response.statusCode).toBe(401);
    expect(response.headers["www-authenticate"]).toContain("Bearer");
    const body = response.json();
    expect(body.code).toBe("UNAUTHENTICATED");
    expect(body.message).toMatch(message);
    expect(Object.keys(body)).toEqual(["code", "message"]);
  });

  it("checks credentials before reading the body", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/test/publish",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(response.statusCode).toBe(401);
  });

  it("keeps /healthz, /readyz and /metrics public; GET / and /whoami need a principal; unknown routes stay 404", async () => {
    expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    expect([200, 503]).toContain((await app.inject({ method: "GET", url: "/readyz" })).statusCode);
    expect((await app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/" })).statusCode).toBe(401);
    expect((await app.inject({ method: "GET", url: "/whoami" })).statusCode).toBe(401);
    const root = await app.inject({ method: "GET", url: "/", headers: { "x-api-key": keys.operator as string } });
    expect(root.statusCode).toBe(200);
    expect((await app.inject({ method: "GET", url: "/no/such/route" })).json().code).toBe("NOT_FOUND");
  });
});

describe("API keys through the CLI, against a running gateway", () => {
  it("a key added by the CLI works at once, and is 401 from the request right after its revocation, without a restart", async () => {
    const file = tempPrincipalsFile();
    const app = await testGateway(file);
    try {
      let out = "";
      const io = {
        env: { GATEWAY_PRINCIPALS_FILE: file },
        stdout: (t: string) => {
          out += t;
        },
        stderr: () => {},
      };
      expect(runPrincipalsCli(["add", "ci-bot", "--acl", "produce:kronos.*"], io)).toBe(0);
      const key = /(kgw_\S+)/.exec(out)?.[1] as string;
      const publish = () =>
        app.inject({
          method: "POST",
          url: "/test/publish",
          headers: { "x-api-key": key },
          payload: { topic: "kronos.x" },
        });
      expect((await publish()).statusCode).toBe(200);

      out = "";
      expect(runPrincipalsCli(["list"], io)).toBe(0);
      expect(out).toContain("ci-bot\tactive");
      expect(out).not.toContain(key);

      expect(runPrincipalsCli(["revoke", "ci-bot"], io)).toBe(0);
      // At once: the very next request is refused (the gateway stats the file on every request).
      const refused = await publish();
      expect(refused.statusCode).toBe(401);
      expect(refused.json().message).toMatch(/^API key of principal "ci-bot" was revoked at \d{4}-/);
    } finally {
      await app.close();
    }
  });

  it("fails closed (503, not 200 or 500) when the principals file becomes invalid", async () => {
    const file = tempPrincipalsFile();
    const { key } = addPrincipal(file, { id: "x", acl: ["admin"] });
    const app = await testGateway(file);
    try {
      const call = () => app.inject({ method: "GET", url: "/whoami", headers: { "x-api-key": key } });
      expect((await call()).statusCode).toBe(200);
      writeFileSync(file, "{ broken");
      const response = await call();
      expect(response.statusCode).toBe(503);
      expect(response.json().code).toBe("UNAVAILABLE");
    } finally {
      await app.close();
    }
  });
});
