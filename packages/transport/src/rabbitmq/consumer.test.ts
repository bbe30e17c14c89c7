import { describe, expect, it } from "vitest";
import { AmqpConnectionManager } from "./connection-manager.js";
import {
  type AmqpSubscriptionOptions,
  createAmqpSubscription,
  DEFAULT_MAX_ATTEMPTS,
  subscriptionSettings,
} from "./consumer.js";

const base: AmqpSubscriptionOptions = { queue: "orders", prefetch: 10, consumerName: "gateway" };

describe("subscriptionSettings", () => {
  it("applies the defaults and sorts the tiers", () => {
    expect(subscriptionSettings(base)).toEqual({
      queue: "orders",
      prefetch: 10,
      consumerName: "gateway",
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      retryTiersMs: [1000, 5000, 30_000, 300_000],
      policy: { maxAttempts: DEFAULT_MAX_ATTEMPTS, retryTiersMs: [1000, 5000, 30_000, 300_000], leaseMs: undefined },
    });
    expect(subscriptionSettings({ ...base, retryTiersMs: [1000, 300] }).retryTiersMs).toEqual([300, 1000]);
    expect(subscriptionSettings({ ...base, deadLetter: "queue-policy" }).queue).toBe("orders");
  });

  it.each([
    [{ prefetch: 0 }, /prefetch must be an integer from 1 to 1000, got 0/],
    [{ prefetch: 1001 }, /prefetch/],
    [{ prefetch: 2.5 }, /prefetch/],
    [{ queue: "" }, /queue must be a non-empty string/],
    [{ consumerName: "" }, /consumerName/],
    [{ maxAttempts: 0 }, /maxAttempts must be an integer ≥ 1/],
    [{ retryTiersMs: [], maxAttempts: 2 }, /retryTiersMs \[\] allows no retries/],
    [{ retryTiersMs: [-5] }, /retryTiersMs each delay/],
    [{ deadLetter: { exchange: "dlx" } }, /deadLetter needs/],
    [{ deadLetter: "queue-default" }, /deadLetter needs .* or is "queue-policy"/],
  ])("refuses %j with INVALID_OPTIONS", (overrides, message) => {
    const options = { ...base, ...overrides } as AmqpSubscriptionOptions;
    expect(() => subscriptionSettings(options)).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    expect(() => subscriptionSettings(options)).toThrow(message);
  });
});

describe("createAmqpSubscription", () => {
  it("rejects ready with RABBITMQ_UNAVAILABLE when the manager is not connected, and is closed", async () => {
    // Never started: no connection is attempted.
    const manager = new AmqpConnectionManager({ url: "amqp://127.0.0.1:1", name: "consumer-unit-test" });
    const subscription = createAmqpSubscription(manager, base, () => {});
    await expect(subscription.ready).rejects.toMatchObject({ code: "RABBITMQ_UNAVAILABLE" });
    await expect(subscription.close()).resolves.toBeUndefined();
  });

  it("throws INVALID_OPTIONS at once", () => {
    const manager = new AmqpConnectionManager({ url: "amqp://127.0.0.1:1", name: "consumer-unit-test" });
    expect(() => createAmqpSubscription(manager, { ...base, prefetch: 0 }, () => {})).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS" }),
    );
  });
});
