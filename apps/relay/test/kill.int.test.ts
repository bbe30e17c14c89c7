import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type ServerProcess, startServerProcess, waitForHttp } from "@kronos/app-kit/testing";
import { writeRelayManifest } from "@kronos/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { alertBytes, endpoints, relayTestContext, waitFor } from "./helpers.js";

const serverPath = fileURLToPath(new URL("../dist/server.js", import.meta.url));
const schemasDir = fileURLToPath(new URL("../../../schemas", import.meta.url));
const { resources, brokers } = relayTestContext();
const scratch = mkdtempSync(join(tmpdir(), "relay-kill-"));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe("the built relay killed with SIGKILL mid-stream", () => {
  it("loses nothing across three kills and restarts, and repeats at most what was in flight at each kill", async () => {
    const topic = resources.topic("relay-kill");
    const exchange = resources.exchange("relay-kill-x");
    const sink = resources.queue("relay-kill-sink");
    await brokers.createTopic(topic);
    await brokers.exchange(exchange);
    const arrived = await brokers.readQueue(exchange, sink);
    const dir = writeRelayManifest({
      schemasDir,
      into: scratch,
      routeId: "killTest",
      topic,
      exchange,
      consumerGroup: `relay-kill-${randomUUID()}`,
    });

    let generation = 0;
    const start = async (): Promise<ServerProcess> => {
      const port = await freePort();
      const server = startServerProcess(serverPath, {
        KAFKA_BROKERS: endpoints.kafkaBrokers,
        SCHEMA_REGISTRY_URL: endpoints.registryUrl,
        RABBITMQ_URL: endpoints.rabbitmqUrl,
        RABBITMQ_MANAGEMENT_URL: endpoints.rabbitmqManagementUrl,
        LOG_LEVEL: "warn",
        RELAY_PORT: String(port),
        RELAY_SCHEMAS_DIR: dir,
        RELAY_ROUTES: "killTest",
        RELAY_INSTANCE_ID: `kill-${++generation}`,
        RELAY_PUBLISH_TIMEOUT_MS: "2000",
        RELAY_PREFETCH: String(maxInFlight),
        RELAY_BACKOFF_MS: "200",
        RELAY_MAX_BACKOFF_MS: "1000",
      });
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000).catch((error: unknown) => {
        throw new Error(`the relay did not start: ${String(error)}\n${server.stderr()}\n${server.stdout()}`);
      });
      return server;
    };

    const total = 2000;
    const maxInFlight = 50;
    const ids = Array.from({ length: total }, () => randomUUID());
    const values = await Promise.all(ids.map(() => alertBytes()));
    let server = await start();
    const producing = (async () => {
      for (let from = 0; from < total; from += 100) {
        await brokers.produce(
          topic,
          ids.slice(from, from + 100).map((id, i) => ({
            key: Buffer.from(id),
            value: values[from + i] as Buffer,
            headers: { "message-id": id },
          })),
        );
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();

    for (const share of [0.15, 0.4, 0.65]) {
      await waitFor(() => arrived.length >= total * share, `${share * 100}% of the alerts`, 60_000);
      server.kill("SIGKILL");
      await server.exited;
      server = await start();
    }
    await producing;
    const distinct = () => new Set(arrived.map((m) => m.properties.messageId as string)).size;
    await waitFor(() => distinct() === total, "every alert at the destination", 90_000);
    server.kill("SIGTERM");
    await server.exited;

    const duplicates = arrived.length - distinct();
    expect(new Set(arrived.map((m) => m.properties.messageId))).toEqual(new Set(ids));
    // What was confirmed before a kill is in the dedup window and not sent again, however far the commit lagged.
    // What was sent but not yet confirmed when the process died is sent again (RabbitMQ routes a message to its
    // consumers before it confirms it): at most what was in flight, maxInFlight per partition (3) per kill.
    expect(duplicates).toBeLessThanOrEqual(3 * 3 * maxInFlight);
  }, 300_000);
});
