import { describe, expect, it } from "vitest";
import { validateTopicOptions } from "./kafka-topics.js";
import { planManifestQueue, planQueue } from "./queue-plan.js";
import { toQueueInfo } from "./rabbitmq-management.js";

function invalidMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toMatchObject({ name: "TransportError", code: "INVALID_OPTIONS", retriable: false });
    return (error as Error).message;
  }
  throw new Error("expected INVALID_OPTIONS");
}

describe("planQueue", () => {
  it("gives a durable classic queue by default", () => {
    expect(planQueue("orders", {})).toEqual({
      queue: { name: "orders", durable: true, arguments: { "x-queue-type": "classic" } },
      deadLetter: null,
      retryQueues: [],
      bindings: [],
    });
  });

  it("maps every option to its x- argument", () => {
    const plan = planQueue("orders", { maxPriority: 10, messageTtlMs: 60_000, maxLength: 1000 });
    expect(plan.queue.arguments).toEqual({
      "x-queue-type": "classic",
      "x-max-priority": 10,
      "x-message-ttl": 60_000,
      "x-max-length": 1000,
    });
    expect(planQueue("jobs", { type: "quorum", deliveryLimit: 5 }).queue.arguments).toEqual({
      "x-queue-type": "quorum",
      "x-delivery-limit": 5,
    });
  });

  it("names the DLX, DLQ and retry queues after the queue", () => {
    const plan = planQueue("orders", { type: "quorum", deadLetter: { retryDelaysMs: [1000, 30_000] } });
    expect(plan.queue.arguments).toMatchObject({
      "x-dead-letter-exchange": "orders.dlx",
      "x-dead-letter-routing-key": "orders",
    });
    expect(plan.deadLetter).toEqual({
      exchange: "orders.dlx",
      queue: { name: "orders.dlq", durable: true, arguments: { "x-queue-type": "quorum" } },
      bindingKey: "orders",
    });
    expect(plan.retryQueues).toEqual([
      {
        name: "orders.retry.1000",
        durable: true,
        arguments: {
          "x-queue-type": "quorum",
          "x-message-ttl": 1000,
          "x-dead-letter-exchange": "",
          "x-dead-letter-routing-key": "orders",
        },
      },
      expect.objectContaining({ name: "orders.retry.30000" }),
    ]);
    const custom = planQueue("orders", { deadLetter: { exchange: "shared.dlx", queue: "all.dlq" } });
    expect(custom.deadLetter).toMatchObject({ exchange: "shared.dlx", queue: { name: "all.dlq" } });
  });

  it("refuses options that cannot work, naming the queue and the option", () => {
    expect(invalidMessage(() => planQueue("q1", { type: "quorum", maxPriority: 5 }))).toBe(
      'queue "q1": maxPriority is only supported by classic queues, not quorum queues',
    );
    expect(invalidMessage(() => planQueue("q1", { deliveryLimit: 3 }))).toMatch(/q1.*deliveryLimit.*quorum/);
    expect(invalidMessage(() => planQueue("q1", { type: "quorum", durable: false }))).toMatch(/always durable/);
    expect(invalidMessage(() => planQueue("q1", { maxPriority: 256 }))).toMatch(/maxPriority must be .* 1 to 255/);
    expect(invalidMessage(() => planQueue("q1", { messageTtlMs: -1 }))).toMatch(/messageTtlMs/);
    expect(invalidMessage(() => planQueue("q1", { maxLength: 1.5 }))).toMatch(/maxLength/);
    expect(invalidMessage(() => planQueue("q1", { deadLetter: { retryDelaysMs: [0] } }))).toMatch(/retry delay/);
    expect(invalidMessage(() => planQueue("q1", { deadLetter: { retryDelaysMs: [5, 5] } }))).toMatch(/duplicate/);
    expect(invalidMessage(() => planQueue("q1", { deadLetter: { queue: "q1" } }))).toMatch(/itself/);
    expect(invalidMessage(() => planQueue("q1", { type: "stream" as "quorum" }))).toMatch(/type must be/);
    expect(invalidMessage(() => planQueue("amq.mine", {}))).toMatch(/"amq.mine" is not a valid name/);
    expect(invalidMessage(() => planQueue("a#b", {}))).toMatch(/not a valid name/);
    expect(invalidMessage(() => planQueue("x".repeat(256), {}))).toMatch(/longer than 255/);
    expect(invalidMessage(() => planQueue("q1", { bindings: [{ exchange: "", routingKey: "k" }] }))).toMatch(/binding/);
  });
});

describe("planManifestQueue", () => {
  it("follows the manifest's dead-letter target and binding keys", () => {
    const plan = planManifestQueue("kronos.router", {
      name: "kronos.router.requests.auth",
      type: "classic",
      durable: true,
      bindingKeys: ["request.auth"],
      maxPriority: 10,
      deliveryLimit: null,
      deadLetter: { exchange: "kronos.router.dlx", routingKey: "request.auth", queue: "kronos.router.requests.dlq" },
    });
    expect(plan.queue.arguments).toEqual({
      "x-queue-type": "classic",
      "x-max-priority": 10,
      "x-dead-letter-exchange": "kronos.router.dlx",
      "x-dead-letter-routing-key": "request.auth",
    });
    expect(plan.deadLetter).toMatchObject({ exchange: "kronos.router.dlx", bindingKey: "request.auth" });
    expect(plan.bindings).toEqual([{ exchange: "kronos.router", routingKey: "request.auth" }]);
  });

  it("binds fanout queues with an empty key and keeps original keys with #", () => {
    const plan = planManifestQueue("fan", {
      name: "q",
      type: "quorum",
      durable: true,
      bindingKeys: [],
      maxPriority: null,
      deliveryLimit: 5,
      deadLetter: { exchange: "fan.dlx", routingKey: null, queue: "q.dlq" },
    });
    expect(plan.queue.arguments).toEqual({
      "x-queue-type": "quorum",
      "x-delivery-limit": 5,
      "x-dead-letter-exchange": "fan.dlx",
    });
    expect(plan.deadLetter?.bindingKey).toBe("#");
    expect(plan.bindings).toEqual([{ exchange: "fan", routingKey: "" }]);
  });
});

describe("validateTopicOptions", () => {
  it("accepts valid options and refuses invalid ones by name", () => {
    expect(() =>
      validateTopicOptions("kronos.log.entries", { partitions: 3, retentionMs: -1, cleanupPolicy: "compact,delete" }),
    ).not.toThrow();
    expect(invalidMessage(() => validateTopicOptions("t1", { partitions: 0 }))).toBe(
      'topic "t1": partitions must be an integer ≥ 1, got 0',
    );
    expect(invalidMessage(() => validateTopicOptions("t1", { replicationFactor: 0 }))).toMatch(/replicationFactor/);
    expect(invalidMessage(() => validateTopicOptions("t1", { retentionMs: -2 }))).toMatch(/retentionMs/);
    expect(invalidMessage(() => validateTopicOptions("t1", { cleanupPolicy: "keep" as "delete" }))).toMatch(
      /cleanupPolicy/,
    );
    expect(invalidMessage(() => validateTopicOptions("bad topic", {}))).toMatch(/"bad topic" is not a valid name/);
  });
});

describe("toQueueInfo", () => {
  it("reads the management API's queue JSON", () => {
    expect(
      toQueueInfo({
        name: "q",
        vhost: "/",
        type: "classic",
        durable: true,
        messages_ready: 3,
        messages_unacknowledged: 2,
        consumers: 1,
        arguments: { "x-max-priority": 10, "x-dead-letter-exchange": "q.dlx", "x-dead-letter-routing-key": "q" },
      }),
    ).toEqual({
      name: "q",
      vhost: "/",
      type: "classic",
      durable: true,
      messagesReady: 3,
      messagesUnacknowledged: 2,
      consumers: 1,
      maxPriority: 10,
      deadLetterExchange: "q.dlx",
      deadLetterRoutingKey: "q",
      arguments: { "x-max-priority": 10, "x-dead-letter-exchange": "q.dlx", "x-dead-letter-routing-key": "q" },
    });
    expect(toQueueInfo({ name: "fresh", vhost: "/", arguments: {} })).toMatchObject({
      messagesReady: 0,
      consumers: 0,
      maxPriority: null,
      deadLetterExchange: null,
    });
  });
});
