import { addPrincipal } from "@kronos/app-kit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempPrincipalsFile, testGateway } from "./helpers.js";

type App = Awaited<ReturnType<typeof testGateway>>;

describe("gateway request limits and headers", () => {
  const file = tempPrincipalsFile();
  const { key } = addPrincipal(file, { id: "writer", acl: ["produce:*"] });
  const auth = { "x-api-key": key };
  let app: App;

  beforeAll(async () => {
    app = await testGateway(file, { GATEWAY_BODY_LIMIT_BYTES: "1024" });
  });
  afterAll(async () => {
    await app.close();
  });

  const post = (headers: Record<string, string>, payload: string) =>
    app.inject({ method: "POST", url: "/test/publish", headers: { ...auth, ...headers }, payload });

  it("accepts JSON within the limit", async () => {
    const response = await post({ "content-type": "application/json; charset=utf-8" }, JSON.stringify({ topic: "t" }));
    expect(response.statusCode).toBe(200);
  });

  it("answers 413 PAYLOAD_TOO_LARGE past GATEWAY_BODY_LIMIT_BYTES", async () => {
    const response = await post({ "content-type": "application/json" }, JSON.stringify({ topic: "x".repeat(2000) }));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toEqual({ code: "PAYLOAD_TOO_LARGE", message: expect.any(String) });
  });

  it.each([["text/plain"], ["application/x-www-form-urlencoded"], ["application/xml"], ["application/jsonx"]])(
    "answers 415 UNSUPPORTED_MEDIA_TYPE to %s",
    async (type) => {
      const response = await post({ "content-type": type }, '{"topic":"t"}');
      expect(response.statusCode).toBe(415);
      expect(response.json().code).toBe("UNSUPPORTED_MEDIA_TYPE");
    },
  );

  it("answers 415 to a body without a content type", async () => {
    const response = await post({}, '{"topic":"t"}');
    expect(response.statusCode).toBe(415);
    expect(response.json().code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });

  it.each([
    ["malformed JSON", '{"topic": '],
    ["an empty body", ""],
    ["prototype poisoning", '{"topic":"t","__proto__":{"admin":true}}'],
  ])("answers 400 INVALID_JSON to %s", async (_name, payload) => {
    const response = await post({ "content-type": "application/json" }, payload);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      code: "INVALID_JSON",
      message: expect.stringMatching(/^Request body is not valid JSON: /),
    });
  });

  it("sends security headers suitable for a JSON API, on answers and errors alike", async () => {
    for (const response of [
      await app.inject({ method: "GET", url: "/healthz" }),
      await app.inject({ method: "GET", url: "/whoami" }),
      await app.inject({ method: "GET", url: "/whoami", headers: auth }),
    ]) {
      expect(response.headers["content-security-policy"]).toBe("default-src 'none';frame-ancestors 'none'");
      expect(response.headers["x-content-type-options"]).toBe("nosniff");
      expect(response.headers["x-frame-options"]).toBe("SAMEORIGIN");
      expect(response.headers["referrer-policy"]).toBe("no-referrer");
      expect(response.headers["cache-control"]).toBe("no-store");
      expect(response.headers["strict-transport-security"]).toBeUndefined();
      expect(response.headers["x-powered-by"]).toBeUndefined();
    }
  });

  it("never answers a client mistake with a 5xx or a stack trace", async () => {
    const mistakes = [
      post({ "content-type": "application/json" }, "[1,2"),
      post({ "content-type": "application/json" }, "null"),
      post({ "content-type": "application/json" }, "{}"),
      post({ "content-type": "text/html" }, "<p>"),
      app.inject({ method: "GET", url: "/whoami", headers: { authorization: "Bearer" } }),
      app.inject({ method: "GET", url: "/whoami", headers: { authorization: "Bearer a.b.c" } }),
      app.inject({ method: "GET", url: "/whoami", headers: { "x-api-key": "" } }),
      app.inject({ method: "GET", url: "/%E0%A4%A" }),
    ];
    for (const response of await Promise.all(mistakes)) {
      expect(response.statusCode, response.body).toBeLessThan(500);
      expect(response.body).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    }
  });
});

describe("gateway rate limit per principal", () => {
  it("answers 429 RATE_LIMITED with Retry-After past GATEWAY_RATE_LIMIT_PER_MINUTE, per principal", async () => {
    const file = tempPrincipalsFile();
    const first = addPrincipal(file, { id: "busy", acl: ["admin"] }).key;
    const second = addPrincipal(file, { id: "quiet", acl: ["admin"] }).key;
    const app = await testGateway(file, { GATEWAY_RATE_LIMIT_PER_MINUTE: "3" });
    try {
      const call = (k: string) => app.inject({ method: "GET", url: "/whoami", headers: { "x-api-key": k } });
      for (let i = 0; i < 3; i++) {
        const ok = await call(first);
        expect(ok.statusCode).toBe(200);
        expect(ok.headers["x-ratelimit-remaining"]).toBe(String(2 - i));
      }
      const limited = await call(first);
      expect(limited.statusCode).toBe(429);
      expect(limited.json()).toEqual({
        code: "RATE_LIMITED",
        message: expect.stringMatching(/^Principal "busy" exceeded 3 requests per minute; retry in \d+ s$/),
      });
      const retryAfter = Number(limited.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // Another principal has its own budget; public routes are not counted.
      expect((await call(second)).statusCode).toBe(200);
      expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
