import { describe, expect, it } from "vitest";
import { formatQueueId, parseQueueId } from "./managed.js";

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
