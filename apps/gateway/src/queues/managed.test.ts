import type { Catalog } from "@kronos/catalog";
import { describe, expect, it } from "vitest";
import { formatQueueId, isInternal, manifestDestinations, parseQueueId } from "./managed.js";

describe("queue ids", () => {
  it("parse <broker>:<name>, the name keeping later colons", () => {
    expect(parseQueueId("rabbitmq:orders")).toEqual({ broker: "rabbitmq", name: "orders" });
    expect(parseQueueId("rabbitmq:a:b")).toEqual({ broker: "rabbitmq", name: "a:b" });
    expect(parseQueueId("kafka:kronos.log.entries")).toEqual({ broker: "kafka", name: "kronos.log.entries" });
    expect(formatQueueId("kafka", "t")).toBe("kafka:t");
  });

  it("refuse an unknown broker, a missing colon or an empty name", () => {
    for (const id of ["orders", "redis:orders", "kafka:", ":orders", "RabbitMQ:orders"]) {
      expect(parseQueueId(id), id).toBeUndefined();
    }
  });
});

describe("manifest destinations", () => {
  const catalog = {
    destinations: [
      { broker: "kafka", topic: "kronos.auth.events", name: "kronos.auth.events" },
      {
        broker: "rabbitmq",
        name: "kronos.router",
        queues: [
          { name: "kronos.router.requests.auth", deadLetter: { exchange: "x", routingKey: null, queue: "kronos.dlq" } },
          { name: "kronos.router.requests.user", deadLetter: null },
        ],
      },
    ],
  } as unknown as Pick<Catalog, "destinations">;

  it("lists the manifest's topics, its queues and their dead-letter queues, not its exchanges", () => {
    const managed = manifestDestinations(catalog);
    expect([...managed.kafka]).toEqual(["kronos.auth.events"]);
    expect([...managed.rabbitmq].sort()).toEqual([
      "kronos.dlq",
      "kronos.router.requests.auth",
      "kronos.router.requests.user",
    ]);
  });

  it("treats Kafka's and the registry's topics and server-named queues as internal", () => {
    expect(isInternal({ broker: "kafka", name: "__consumer_offsets" })).toBe(true);
    expect(isInternal({ broker: "kafka", name: "kafkasql-journal" })).toBe(true);
    expect(isInternal({ broker: "kafka", name: "orders" })).toBe(false);
    expect(isInternal({ broker: "rabbitmq", name: "amq.gen-abc" })).toBe(true);
    expect(isInternal({ broker: "rabbitmq", name: "_orders" })).toBe(false);
  });
});
