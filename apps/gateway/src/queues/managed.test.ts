import { describe, expect, it } from "vitest";
import { formatQueueId, parseQueueId, protectedBy } from "./managed.js";

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

describe("protected objects", () => {
  const guard = {
    manifest: { kafka: new Set(["kronos.auth.events"]), rabbitmq: new Set(["kronos.router.requests.user"]) },
    replyTopic: "kronos.gateway.replies",
  };

  it("protects the manifest's names, their retry and dead-letter objects and the reply topic", () => {
    for (const name of [
      "kronos.auth.events",
      "kronos.auth.events.dlq",
      "kronos.auth.events.retry.1000",
      "kronos.gateway.replies",
    ]) {
      expect(protectedBy({ broker: "kafka", name }, guard), name).toBeDefined();
    }
    expect(protectedBy({ broker: "rabbitmq", name: "kronos.router.requests.user.retry.5000" }, guard)).toMatch(/retry/);
    expect(
      protectedBy({ broker: "rabbitmq", name: "kronos.router.requests.user.retry.5000.dlq" }, guard),
    ).toBeDefined();
  });

  it("leaves other names, and the other broker's names, deletable", () => {
    expect(protectedBy({ broker: "kafka", name: "orders.dlq" }, guard)).toBeUndefined();
    expect(protectedBy({ broker: "kafka", name: "kronos.router.requests.user.dlq" }, guard)).toBeUndefined();
    expect(protectedBy({ broker: "rabbitmq", name: "kronos.gateway.replies" }, guard)).toBeUndefined();
    expect(protectedBy({ broker: "kafka", name: "kronos.auth.events.retry.x" }, guard)).toBeUndefined();
  });
});
