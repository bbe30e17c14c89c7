import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RabbitmqApp } from "@kronos/local-stack";
import { testEndpoints, testRabbitmqTls } from "@kronos/testkit";
import type { FastifyInstance } from "fastify";
import { describe, expect, it } from "vitest";
import type { ServiceConfig } from "../config.js";
import { freePort, pollReadyz, startServerProcess, waitForHttp } from "./helpers.js";
import type { AppIntegrationSpec } from "./integration.js";

/**
 * The RabbitMQ-over-TLS part of the shared app suite: the built server reaches `/readyz` 200 through the stack's
 * amqps front (`rabbitmq-tls`) with its own least-privilege user (`kronos-<app>`), its debug logs never hold that
 * user's password, and a wrong password (`RABBITMQ_PASSWORD_FILE`) or an untrusted CA make `/readyz` name the
 * variable to check. `open` builds the app with the given variables on top of the stack's.
 */
export function describeAmqpsIntegration<C extends ServiceConfig>(
  spec: AppIntegrationSpec<C>,
  open: (env: Record<string, string>) => Promise<FastifyInstance>,
): void {
  describe(`${spec.app} over amqps with its own RabbitMQ user`, () => {
    const stack = testRabbitmqTls();
    const user = stack.users[spec.app as RabbitmqApp];
    if (!user) throw new Error(`the stack makes no RabbitMQ user for app "${spec.app}"`);
    const env = {
      RABBITMQ_URL: stack.url,
      RABBITMQ_SSL_CA_FILE: stack.caFile,
      RABBITMQ_USERNAME: user.username,
      RABBITMQ_PASSWORD_FILE: user.passwordFile,
    };
    const rabbitmqCheck = async (overrides: Record<string, string>, accept: (error: string) => boolean) => {
      const app = await open({ ...env, ...overrides });
      const { body } = await pollReadyz(app, (_s, b) => accept(b.checks.rabbitmq?.error ?? ""), 20_000);
      expect(JSON.stringify(body)).not.toContain(user.password);
      return body.checks.rabbitmq?.error ?? "";
    };

    it("/readyz names RABBITMQ_PASSWORD_FILE for a wrong password and RABBITMQ_SSL_CA_FILE for an untrusted CA", async () => {
      const wrong = join(tmpdir(), `kronos-wrong-password-${process.pid}-${spec.app}`);
      writeFileSync(wrong, "not-the-password\n");
      const refused = await rabbitmqCheck({ RABBITMQ_PASSWORD_FILE: wrong }, (e) => e.includes("login"));
      expect(refused).toContain(`RabbitMQ refused the login of user "${user.username}": check RABBITMQ_PASSWORD_FILE`);
      expect(refused).not.toContain("not-the-password");
      const untrusted = await rabbitmqCheck({ RABBITMQ_SSL_CA_FILE: stack.untrustedCaFile }, (e) =>
        e.includes("certificate"),
      );
      expect(untrusted).toContain("RabbitMQ's TLS certificate is not trusted: check RABBITMQ_SSL_CA_FILE");
    });

    it(`the built server is ready over amqps as ${user.username}, and its log lines never hold the password`, async () => {
      const port = await freePort();
      const endpoints = testEndpoints();
      const server = startServerProcess(spec.serverPath, {
        KAFKA_BROKERS: endpoints.kafkaBrokers,
        SCHEMA_REGISTRY_URL: endpoints.registryUrl,
        ...env,
        // The password in the environment itself, the riskiest place: nothing may echo it.
        RABBITMQ_PASSWORD_FILE: "",
        RABBITMQ_PASSWORD: user.password,
        LOG_LEVEL: "debug",
        [`${spec.envPrefix}_PORT`]: String(port),
        [`${spec.envPrefix}_HOST`]: "127.0.0.1",
      });
      try {
        await waitForHttp(`http://127.0.0.1:${port}/readyz`, 30_000);
        server.kill("SIGTERM");
        await server.exited;
      } finally {
        server.kill("SIGKILL");
      }
      expect(server.stdout()).toContain("RabbitMQ connected");
      expect(server.stdout() + server.stderr()).not.toContain(user.password);
    });
  });
}
