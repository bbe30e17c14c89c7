import { describe, expect, it } from "vitest";
import { createFastify } from "./app.js";
import { loadServiceConfig } from "./config.js";
import { HttpError } from "./http-error.js";
import { configPlugin } from "./plugins/config.js";
import { errorsPlugin } from "./plugins/errors.js";
import { metricsPlugin } from "./plugins/metrics.js";

// The HTTP-only plugins, without brokers: no network.
async function httpApp(options: { notFoundMax?: number } = {}) {
  const config = loadServiceConfig({ app: "unit", envPrefix: "UNIT", defaultPort: 0 }, { LOG_LEVEL: "silent" });
  const app = createFastify(config);
  await app.register(configPlugin, { config });
  await app.register(errorsPlugin, options);
  await app.register(metricsPlugin);
  app.get("/boom", async () => {
    throw new Error("secret internals at /srv/app.js:12");
  });
  app.get("/teapot", async () => {
    throw new HttpError(409, "ALREADY_EXISTS", "queue q exists");
  });
  app.post(
    "/echo",
    { schema: { body: { type: "object", required: ["name"], properties: { name: { type: "string" } } } } },
    async (request) => request.body,
  );
  return app;
}

describe("error handler", () => {
  it("gives an unexpected error 500 INTERNAL with no detail", async () => {
    const app = await httpApp();
    const response = await app.inject({ method: "GET", url: "/boom" });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ code: "INTERNAL", message: "Internal Server Error" });
    expect(response.body).not.toMatch(/secret|at \//);
    await app.close();
  });

  it("passes an HttpError's status, code and message", async () => {
    const app = await httpApp();
    const response = await app.inject({ method: "GET", url: "/teapot" });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({ code: "ALREADY_EXISTS", message: "queue q exists" });
    await app.close();
  });

  it("turns a schema violation into 400 BAD_REQUEST naming the field", async () => {
    const app = await httpApp();
    const response = await app.inject({ method: "POST", url: "/echo", payload: { other: 1 } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ code: "BAD_REQUEST", message: "body must have required property 'name'" });
    await app.close();
  });

  it("turns malformed JSON into 400 BAD_REQUEST and a wrong media type into 415", async () => {
    const app = await httpApp();
    const bad = await app.inject({
      method: "POST",
      url: "/echo",
      payload: "{",
      headers: { "content-type": "application/json" },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe("BAD_REQUEST");
    const media = await app.inject({
      method: "POST",
      url: "/echo",
      payload: "x",
      headers: { "content-type": "text/xml" },
    });
    expect(media.statusCode).toBe(415);
    expect(media.json().code).toBe("UNSUPPORTED_MEDIA_TYPE");
    await app.close();
  });
});

describe("404 handler", () => {
  it("answers { code: NOT_FOUND } naming the route, without the query string", async () => {
    const app = await httpApp();
    const response = await app.inject({ method: "DELETE", url: "/nowhere?token=x" });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ code: "NOT_FOUND", message: "Route DELETE /nowhere not found" });
    await app.close();
  });

  it("is rate-limited: 429 RATE_LIMITED past the limit", async () => {
    const app = await httpApp({ notFoundMax: 2 });
    for (let i = 0; i < 2; i++) expect((await app.inject({ url: `/x${i}` })).statusCode).toBe(404);
    const limited = await app.inject({ url: "/x3" });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(limited.headers["retry-after"]).toBeDefined();
    await app.close();
  });
});

describe("metrics route", () => {
  it("serves the Prometheus text format with the request histogram by route pattern", async () => {
    const app = await httpApp();
    await app.inject({ url: "/teapot" });
    await app.inject({ url: "/unknown/123" });
    const response = await app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(response.body).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/teapot"[^}]*status_code="409"/);
    expect(response.body).toMatch(/http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*status_code="404"/);
    expect(response.body).not.toContain("/unknown/123");
    await app.close();
  });
});
