import { describe, expect, it } from "vitest";
import { createKafkaConnection } from "./connection.js";
import { createKafkaSubscription, type KafkaSubscriptionOptions, validateSubscriptionOptions } from "./consumer.js";

const valid: KafkaSubscriptionOptions = { topic: "orders", maxInFlight: 10, consumerName: "gateway" };

describe("validateSubscriptionOptions", () => {
  it("accepts valid options", () => {
    expect(() => validateSubscriptionOptions(valid)).not.toThrow();
    expect(() =>
      validateSubscriptionOptions({
        ...valid,
        groupId: "billing",
        from: "earliest",
        startOffsets: new Map([[0, "12"]]),
        maxAttempts: 1,
        retryTiersMs: [300],
      }),
    ).not.toThrow();
  });

  it.each([
    ["a topic name Kafka refuses", { topic: "no spaces" }],
    ["maxInFlight 0", { maxInFlight: 0 }],
    ["a fractional maxInFlight", { maxInFlight: 1.5 }],
    ["maxAttempts 0", { maxAttempts: 0 }],
    ["an empty groupId", { groupId: "" }],
    ["an unknown from", { from: "middle" as "latest" }],
    ["a negative start offset", { startOffsets: new Map([[0, "-1"]]) }],
    ["a negative start partition", { startOffsets: new Map([[-1, "0"]]) }],
    ["no retry tiers with maxAttempts 3", { retryTiersMs: [], maxAttempts: 3 }],
    ["a fractional retry tier", { retryTiersMs: [1000, 1.5] }],
  ])("refuses %s with INVALID_OPTIONS", (_, change) => {
    expect(() => validateSubscriptionOptions({ ...valid, ...change })).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
  });

  it("takes retry tiers in any order, as RabbitMQ does: sorted, without duplicates (one consume policy)", () => {
    expect(validateSubscriptionOptions({ ...valid, retryTiersMs: [5000, 1000, 5000] }).retryTiersMs).toEqual([
      1000, 5000,
    ]);
    expect(() => validateSubscriptionOptions({ ...valid, retryTiersMs: [], maxAttempts: 2 })).toThrow(
      /Kafka subscription to "orders": retryTiersMs \[\] allows no retries/,
    );
    expect(validateSubscriptionOptions({ ...valid, retryTiersMs: [] })).toMatchObject({
      maxAttempts: 1,
      retryTiersMs: [],
    });
  });

  it("makes createKafkaSubscription throw at once, before touching Kafka", () => {
    const connection = createKafkaConnection({ brokers: ["127.0.0.1:1"], clientId: "unit" });
    expect(() => createKafkaSubscription(connection, { ...valid, maxInFlight: 0 }, () => {})).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
  });
});
