import type { KronosApp } from "@kronos/app-kit";
import { pollReadyz } from "@kronos/app-kit/testing";
import { type FaultProxy, startFaultProxy } from "@kronos/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, loadConfig } from "../src/app.js";
import { TestDatabase } from "./database.js";
import { stackEnv } from "./harness.js";

// The shared PostgreSQL must not be stopped (others use it): the app reaches it through a fault proxy, which plays
// the database going away (connections reset, new ones refused) and hanging (bytes held back).
const database = new TestDatabase();
let proxy: FaultProxy;
let app: KronosApp;

beforeAll(async () => {
  proxy = await startFaultProxy({ target: database.url });
  const config = loadConfig({
    ...stackEnv,
    DLQ_DATABASE_URL: proxy.via(database.url),
    DLQ_CATALOG_SOURCES: "false",
  });
  app = await buildApp(config);
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await proxy?.close();
  await database.drop();
});

const othersOk = (checks: Record<string, { ok: boolean }>) =>
  ["kafka", "rabbitmq", "registry"].every((name) => checks[name]?.ok === true);

describe("/readyz and PostgreSQL", () => {
  it("is 200 with a passing postgres check while the database answers", async () => {
    const { body } = await pollReadyz(app, (status) => status === 200, 20_000);
    expect(body.checks.postgres?.ok).toBe(true);
  });

  it("is 503 naming postgres while the database refuses connections, and 200 once it is back", async () => {
    proxy.refuse(true);
    proxy.resetAll();
    try {
      const down = await pollReadyz(app, (_s, body) => body.checks.postgres?.ok === false, 10_000);
      expect(down.statusCode).toBe(503);
      expect(down.body.status).toBe("unavailable");
      expect(down.body.checks.postgres?.error).toMatch(/ECONNRESET|terminated|refused|closed/i);
      expect(othersOk(down.body.checks)).toBe(true);
    } finally {
      proxy.refuse(false);
    }
    const up = await pollReadyz(app, (status) => status === 200, 10_000);
    expect(up.body.checks.postgres?.ok).toBe(true);
  });

  it("answers within the check's bound, 503 naming postgres as timed out, while the database hangs", async () => {
    proxy.freeze("both");
    try {
      const started = Date.now();
      const response = await app.inject({ method: "GET", url: "/readyz" });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(response.statusCode).toBe(503);
      const body = response.json();
      expect(body.checks.postgres.ok).toBe(false);
      expect(body.checks.postgres.error).toMatch(/timed out/);
      expect(othersOk(body.checks)).toBe(true);
    } finally {
      proxy.thaw();
    }
    await pollReadyz(app, (status) => status === 200, 10_000);
  });
});
