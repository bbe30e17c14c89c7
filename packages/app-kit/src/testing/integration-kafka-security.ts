import { readFileSync } from "node:fs";
import { testEndpoints } from "@kronos/testkit";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import type { ServiceConfig } from "../config.js";
import { freePort, pollReadyz, type ReadyzBody, startServerProcess } from "./helpers.js";
import type { AppIntegrationSpec } from "./integration.js";

/** `GET url` until `accept(status, body)` holds; resolves with the last answer, throws after `timeoutMs`. */
async function pollHttpReadyz(
  url: string,
  accept: (status: number, body: ReadyzBody) => boolean,
  timeoutMs: number,
): Promise<{ status: number; body: ReadyzBody }> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer";
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      const body = (await response.json()) as ReadyzBody;
      if (accept(response.status, body)) return { status: response.status, body };
      last = `${response.status} ${JSON.stringify(body)}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer as expected within ${timeoutMs} ms (last: ${last})`);
}

/**
 * The app over the local Kafka's SASL_SSL listener with its own SCRAM user (the stack's ACLs give it only its
 * topics and groups): `/readyz` 200; a wrong password and an untrusted CA make the `kafka` check fail with a
 * message naming the setting to fix; the built server's log lines (at debug) never hold the password, right or
 * wrong. Part of {@link describeAppIntegration} for the apps that have a user on the stack.
 */
export function describeKafkaSecurityIntegration<C extends ServiceConfig>(spec: AppIntegrationSpec<C>): void {
  const endpoints = testEndpoints();
  const secure = endpoints.kafkaSecure;
  const user = (secure.users as Record<string, { username: string; passwordFile: string } | undefined>)[spec.app];
  if (user === undefined) return;
  const secureEnv = {
    KAFKA_BROKERS: secure.brokers,
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: secure.mechanism,
    KAFKA_SASL_USERNAME: user.username,
    KAFKA_SASL_PASSWORD_FILE: user.passwordFile,
    KAFKA_SSL_CA_FILE: secure.caFile,
    SCHEMA_REGISTRY_URL: endpoints.registryUrl,
    RABBITMQ_URL: endpoints.rabbitmqUrl,
  };
  const opened: FastifyInstance[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((app) => app.close()));
  });
  const open = async (env: Record<string, string>) => {
    const config = spec.loadConfig({ ...env, LOG_LEVEL: "silent", [`${spec.envPrefix}_PORT`]: "0" });
    const app = await spec.buildApp(config);
    opened.push(app);
    return app;
  };

  describe(`${spec.app} over Kafka SASL_SSL as user ${user.username}`, () => {
    it("/readyz is 200 with its own user, the stack's CA and its ACLs", async () => {
      const app = await open(secureEnv);
      const { body } = await pollReadyz(app, (status) => status === 200, 30_000);
      expect(body.checks.kafka?.ok).toBe(true);
    });

    it("/readyz names KAFKA_SSL_CA_FILE when the broker's certificate is not trusted", async () => {
      const app = await open({ ...secureEnv, KAFKA_SSL_CA_FILE: secure.untrustedCaFile });
      const { body } = await pollReadyz(app, (_status, b) => b.checks.kafka?.ok === false, 20_000);
      expect(body.checks.kafka?.error).toContain("the broker's certificate is not trusted: check KAFKA_SSL_CA_FILE");
    });

    it("the built server: a wrong password makes /readyz name it, a right one makes it 200; no password in any log line", async () => {
      const right = readFileSync(user.passwordFile, "utf8").trim();
      const wrong = `wrong-${right.slice(0, 6)}-password`;
      const logs: string[] = [];
      const run = async (env: Record<string, string>, accept: (status: number, body: ReadyzBody) => boolean) => {
        const port = await freePort();
        const server = startServerProcess(spec.serverPath, {
          ...env,
          LOG_LEVEL: "debug",
          [`${spec.envPrefix}_PORT`]: String(port),
          [`${spec.envPrefix}_HOST`]: "127.0.0.1",
        });
        try {
          return await pollHttpReadyz(`http://127.0.0.1:${port}/readyz`, accept, 40_000);
        } finally {
          server.kill("SIGTERM");
          await server.exited;
          logs.push(server.stdout(), server.stderr());
        }
      };
      const { KAFKA_SASL_PASSWORD_FILE: _file, ...withoutFile } = secureEnv;
      const refused = await run(
        { ...withoutFile, KAFKA_SASL_PASSWORD: wrong },
        (_status, body) => body.checks.kafka?.ok === false && /authentication/.test(body.checks.kafka.error ?? ""),
      );
      expect(refused.status).toBe(503);
      expect(refused.body.checks.kafka?.error).toContain(
        `authentication failed for KAFKA_SASL_USERNAME=${user.username} (${secure.mechanism}): check KAFKA_SASL_PASSWORD`,
      );
      const ready = await run(secureEnv, (status) => status === 200);
      expect(ready.body.checks.kafka?.ok).toBe(true);
      const all = logs.join("\n");
      expect(all.length).toBeGreaterThan(0);
      expect(all).not.toContain(wrong);
      expect(all).not.toContain(right);
    });
  });
}
