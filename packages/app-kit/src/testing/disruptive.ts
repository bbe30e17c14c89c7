import { type ServiceName, startService, stopService } from "@kronos/local-stack";
import { testEndpoints } from "@kronos/testkit";
import { describe, expect, it } from "vitest";
import type { ServiceConfig } from "../config.js";
import { type AppTestSpec, pollReadyz } from "./helpers.js";

/**
 * The disruptive suite: for Kafka and the registry in turn, stop the real service, expect `/readyz` 503 naming it,
 * start it again, expect `/readyz` back to 200 (within 90 s). The service is restarted in `finally`, whatever
 * happens.
 */
export function describeAppDisruptive<C extends ServiceConfig>(spec: AppTestSpec<C>): void {
  const endpoints = testEndpoints();
  const config = () =>
    spec.loadConfig({
      KAFKA_BROKERS: endpoints.kafkaBrokers,
      SCHEMA_REGISTRY_URL: endpoints.registryUrl,
      RABBITMQ_URL: endpoints.rabbitmqUrl,
      LOG_LEVEL: "silent",
    });

  describe(`${spec.app} readiness follows the stack`, () => {
    it.each(["kafka", "registry"] as const satisfies readonly ServiceName[])(
      "/readyz turns 503 naming %s while it is stopped, and 200 once it is back",
      async (service) => {
        const app = await spec.buildApp(config());
        try {
          await pollReadyz(app, (status) => status === 200, 90_000);
          try {
            await stopService(service);
            const down = await pollReadyz(app, (_s, body) => body.checks[service]?.ok === false, 30_000);
            expect(down.statusCode).toBe(503);
            expect(down.body.status).toBe("unavailable");
          } finally {
            await startService(service);
          }
          const up = await pollReadyz(app, (status) => status === 200, 90_000, 1_000);
          expect(up.body.checks[service]?.ok).toBe(true);
        } finally {
          await app.close();
        }
      },
    );
  });
}
