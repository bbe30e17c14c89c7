import { startAuthProxy, testEndpoints } from "@kronos/testkit";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { ServiceConfig } from "../config.js";
import { type AppTestSpec, freePort, pollReadyz, startServerProcess, waitForHttp } from "./helpers.js";
import { describeAmqpsIntegration } from "./integration-amqps.js";
import { describeKafkaSecurityIntegration } from "./integration-kafka-security.js";

/** What {@link describeAppIntegration} needs: the app, its env prefix and its built server. */
export interface AppIntegrationSpec<C extends ServiceConfig = ServiceConfig> extends AppTestSpec<C> {
  /** Prefix of its variables (`GATEWAY` for `GATEWAY_PORT`). */
  readonly envPrefix: string;
  /** Absolute path of its built `dist/server.js`. */
  readonly serverPath: string;
  /**
   * Names of the readiness checks the app adds besides app-kit's `kafka`, `rabbitmq` and `registry` (the
   * dlq-manager's `postgres`); default none. `/readyz` must report exactly these plus app-kit's three, all passing.
   */
  readonly extraChecks?: readonly string[];
}

/**
 * The integration suite every app passes, against the real stack: `/readyz` 200 with the stack up (app-kit's three
 * checks plus the app's {@link AppIntegrationSpec.extraChecks}, no more, no fewer) and 503 naming
 * the broken dependency (each pointed at a closed port), `/metrics` with the HTTP histogram, a 404 body, RabbitMQ
 * over amqps with the app's own user (`describeAmqpsIntegration`), Kafka over SASL_SSL with the app's own user
 * (`describeKafkaSecurityIntegration`), and the built server's graceful shutdown (SIGTERM → exit 0) and config errors
 * (exit 1, variable named, no stack trace).
 */
export function describeAppIntegration<C extends ServiceConfig>(spec: AppIntegrationSpec<C>): void {
  const endpoints = testEndpoints();
  const stackEnv = {
    KAFKA_BROKERS: endpoints.kafkaBrokers,
    SCHEMA_REGISTRY_URL: endpoints.registryUrl,
    RABBITMQ_URL: endpoints.rabbitmqUrl,
  };
  const opened: FastifyInstance[] = [];
  const open = async (env: Record<string, string> = {}) => {
    const config = spec.loadConfig({ ...stackEnv, LOG_LEVEL: "silent", [`${spec.envPrefix}_PORT`]: "0", ...env });
    const app = await spec.buildApp(config);
    opened.push(app);
    return app;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((app) => app.close()));
  });

  describe(`${spec.app} against the real stack`, () => {
    const expectedChecks = ["kafka", "rabbitmq", "registry", ...(spec.extraChecks ?? [])].sort();
    it(`/readyz is 200 when ${expectedChecks.join(", ")} all work`, async () => {
      const app = await open();
      const { body } = await pollReadyz(app, (status) => status === 200, 20_000);
      expect(body.status).toBe("ok");
      expect(Object.keys(body.checks).sort()).toEqual(expectedChecks);
      for (const check of Object.values(body.checks)) expect(check.ok).toBe(true);
    });

    // fetch refuses some ports (1 among them), so the closed port is one that was free a moment ago.
    it.each([
      ["rabbitmq", (port: number) => ({ RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${port}` })],
      ["kafka", (port: number) => ({ KAFKA_BROKERS: `127.0.0.1:${port}` })],
      ["registry", (port: number) => ({ SCHEMA_REGISTRY_URL: `http://127.0.0.1:${port}/apis/ccompat/v7` })],
    ] as const)("/readyz is 503 naming %s when it points at a closed port", async (name, env) => {
      const app = await open(env(await freePort()));
      // The bound is /readyz's own: the app's start (plugins, migrations) is not part of it.
      await app.ready();
      const started = Date.now();
      const response = await app.inject({ method: "GET", url: "/readyz" });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(response.statusCode).toBe(503);
      const body = response.json();
      expect(body.status).toBe("unavailable");
      expect(body.checks[name].ok).toBe(false);
      expect(body.checks[name].error).toMatch(/ECONNREFUSED|refused|not connected|timed out/i);
      // Only the broken one fails (the others may need a moment for their first connection).
      const others = await pollReadyz(
        app,
        (_status, b) => Object.entries(b.checks).every(([n, c]) => (n === name ? !c.ok : c.ok)),
        20_000,
      );
      expect(others.statusCode).toBe(503);
    });

    it("/readyz checks the registry with the app's credentials and CA: 200 through an authenticating HTTPS proxy, 503 naming the settings with a wrong password", async () => {
      const proxy = await startAuthProxy({ basic: { username: "kronos-ready", password: "ready-pass-Pq4" } });
      try {
        const secured = { SCHEMA_REGISTRY_URL: proxy.url, SCHEMA_REGISTRY_CA_FILE: proxy.caFile };
        const good = await open({
          ...secured,
          SCHEMA_REGISTRY_USERNAME: "kronos-ready",
          SCHEMA_REGISTRY_PASSWORD: "ready-pass-Pq4",
        });
        const ok = await pollReadyz(good, (status) => status === 200, 20_000);
        expect(ok.body.checks.registry?.ok).toBe(true);
        const bad = await open({
          ...secured,
          SCHEMA_REGISTRY_USERNAME: "kronos-ready",
          SCHEMA_REGISTRY_PASSWORD: "wrong-pass-Mn7",
        });
        await bad.ready();
        const response = await bad.inject({ method: "GET", url: "/readyz" });
        expect(response.statusCode).toBe(503);
        const error = response.json().checks.registry.error as string;
        expect(error).toMatch(
          /refused the username and password \(HTTP 401.*SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD/,
        );
        expect(response.body).not.toContain("wrong-pass-Mn7");
      } finally {
        await Promise.all(opened.splice(0).map((app) => app.close()));
        await proxy.close();
      }
    });

    it("/metrics exposes the HTTP duration histogram after a request", async () => {
      const app = await open();
      expect((await app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
      const response = await app.inject({ method: "GET", url: "/metrics" });
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(response.body).toContain("# TYPE http_request_duration_seconds histogram");
      const counts = response.body.split("\n").filter((l) => l.startsWith("http_request_duration_seconds_count{"));
      const healthz = counts.find((l) => l.includes('route="/healthz"') && l.includes('status_code="200"'));
      expect(healthz).toContain(`app="${spec.app}"`);
      expect(healthz).toContain('method="GET"');
      expect(healthz).toMatch(/\} 1$/);
      expect(response.body).toContain("nodejs_heap_size_used_bytes");
    });

    it("answers an unknown route with 404 { code: NOT_FOUND }", async () => {
      const app = await open();
      const response = await app.inject({ method: "GET", url: "/no/such/route" });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ code: "NOT_FOUND", message: "Route GET /no/such/route not found" });
    });
  });

  describeKafkaSecurityIntegration(spec);
  describeAmqpsIntegration(spec, open);

  describe(`${spec.app} built server`, () => {
    it("logs JSON lines carrying the app name, and exits 0 on SIGTERM", async () => {
      const port = await freePort();
      const server = startServerProcess(spec.serverPath, {
        ...stackEnv,
        LOG_LEVEL: "info",
        [`${spec.envPrefix}_PORT`]: String(port),
        [`${spec.envPrefix}_HOST`]: "127.0.0.1",
      });
      try {
        await waitForHttp(`http://127.0.0.1:${port}/healthz`, 20_000);
        // A request in flight when the signal arrives still gets its answer.
        const inFlight = fetch(`http://127.0.0.1:${port}/readyz`);
        await new Promise((resolve) => setTimeout(resolve, 20));
        server.kill("SIGTERM");
        expect([200, 503]).toContain((await inFlight).status);
        const exit = await server.exited;
        expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
      } finally {
        server.kill("SIGKILL");
      }
      const lines = server.stdout().trim().split("\n");
      expect(lines.length).toBeGreaterThan(2);
      for (const line of lines) expect(JSON.parse(line)).toMatchObject({ app: spec.app });
      expect(server.stdout()).toContain('"msg":"shutting down"');
      expect(server.stdout()).toContain('"msg":"stopped"');
    });

    it("exits 1 on an invalid variable, naming it, without a stack trace", async () => {
      const server = startServerProcess(spec.serverPath, { [`${spec.envPrefix}_PORT`]: "abc" });
      try {
        const exit = await server.exited;
        expect(exit.code).toBe(1);
      } finally {
        server.kill("SIGKILL");
      }
      expect(server.stderr()).toContain(`${spec.envPrefix}_PORT="abc" is not a port`);
      expect(server.stderr()).not.toMatch(/^\s+at /m);
      expect(server.stdout()).toBe("");
    });
  });
}
