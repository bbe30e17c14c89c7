import { Registry } from "prom-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { TransportError } from "../errors.js";
import { silentLogger } from "../logger.js";
import { CONSUME_METRIC_NAMES, createConsumeMetrics } from "../metrics/consume.js";
import type { DeadLetterReason } from "./dead-letter.js";
import type { DeadLetterError, Delivery } from "./delivery.js";
import { consumePolicy } from "./policy.js";
import {
  type BrokerSettlement,
  retryFailedDelivery,
  Settlement,
  type SettlementContext,
  SettlementLedger,
} from "./settlement.js";

/** A broker half that records what it was asked; `failCopies` makes copies reject; `gone` refuses like RabbitMQ. */
function fakeBroker(options: { failCopies?: boolean; gone?: boolean; closed?: boolean } = {}) {
  const calls: string[] = [];
  const broker: BrokerSettlement = {
    check(operation) {
      if (options.closed) return new TransportError("CLOSED", `cannot ${operation}: closed`);
      if (!options.gone) return undefined;
      return operation === "ack" || operation === "release"
        ? "noop"
        : new TransportError("RABBITMQ_UNAVAILABLE", "channel closed");
    },
    ack: () => void calls.push("ack"),
    release: () => void calls.push("release"),
    async writeRetry(tierMs: number, error: DeadLetterError) {
      if (options.failCopies) throw new TransportError("TIMEOUT", "no confirm");
      calls.push(`retry ${tierMs} ${error.code} ${error.message}`);
    },
    async writeDeadLetter(reason: DeadLetterReason, error: DeadLetterError) {
      if (options.failCopies) throw new TransportError("TIMEOUT", "no confirm");
      calls.push(`dead-letter ${reason} ${error.code} ${error.message}`);
      return "orders.dlq";
    },
  };
  return { broker, calls, options };
}

function setup(policyOptions: Parameters<typeof consumePolicy>[0] = { maxAttempts: 3, retryTiersMs: [300, 1000] }) {
  const registry = new Registry();
  const metrics = createConsumeMetrics(registry);
  const recorder = metrics.forSubscription({ broker: "kafka", source: "orders", group: "billing" });
  const tracked: Promise<unknown>[] = [];
  const context: SettlementContext = {
    policy: consumePolicy(policyOptions, (m) => new TransportError("INVALID_OPTIONS", m)),
    recorder,
    track: (operation) => void tracked.push(operation),
  };
  const value = async (name: string, labels: Record<string, string> = {}) => {
    const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
    const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
    return values
      .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { registry, recorder, context, tracked, value };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("Settlement: the settle state machine", () => {
  it("ack: acks once; a second settle of any kind rejects with ALREADY_SETTLED and changes nothing", async () => {
    const { context, value } = setup();
    const { broker, calls } = fakeBroker();
    const settlement = new Settlement(broker, context, 1, "the delivery orders[0]@1");
    settlement.handedOver();
    expect(await value(CONSUME_METRIC_NAMES.inFlight)).toBe(1);
    await settlement.ack();
    for (const again of [
      () => settlement.ack(),
      () => settlement.release(),
      () => settlement.retry({ delayMs: 0 }),
      () => settlement.deadLetter("rejected", { code: "REJECTED", message: "no" }),
    ]) {
      await expect(again()).rejects.toMatchObject({
        code: "ALREADY_SETTLED",
        message: expect.stringContaining("the delivery orders[0]@1 was acked already"),
      });
    }
    expect(calls).toEqual(["ack"]);
    expect(await value(CONSUME_METRIC_NAMES.deliveries)).toBe(1);
    expect(await value(CONSUME_METRIC_NAMES.settlements, { outcome: "ack" })).toBe(1);
    expect(await value(CONSUME_METRIC_NAMES.settlements)).toBe(1);
    expect(await value(CONSUME_METRIC_NAMES.inFlight)).toBe(0);
  });

  it("retry: writes the copy in the tier, then acks; counts a retry; at maxAttempts dead-letters instead", async () => {
    const { context, value } = setup();
    const first = fakeBroker();
    await expect(new Settlement(first.broker, context, 1, "d1").retry({ delayMs: 301, reason: "busy" })).resolves.toBe(
      "retried",
    );
    expect(first.calls).toEqual(["retry 1000 CLIENT_RETRY busy", "ack"]);
    const last = fakeBroker();
    await expect(
      new Settlement(last.broker, context, 3, "d3").retry({ delayMs: 0, reason: "still busy" }),
    ).resolves.toBe("dead-lettered");
    expect(last.calls).toEqual(["dead-letter max-attempts CLIENT_RETRY still busy", "ack"]);
    expect(await value(CONSUME_METRIC_NAMES.retries)).toBe(1);
    expect(await value(CONSUME_METRIC_NAMES.settlements, { outcome: "retry" })).toBe(1);
    expect(await value(CONSUME_METRIC_NAMES.settlements, { outcome: "dead_letter" })).toBe(1);
    expect(
      await value(CONSUME_METRIC_NAMES.deadLetters, {
        broker: "kafka",
        destination: "orders.dlq",
        reason: "max-attempts",
      }),
    ).toBe(1);
    expect(await value(CONSUME_METRIC_NAMES.inFlight)).toBe(0);
  });

  it("a copy that fails leaves the delivery pending (nothing acked): it may be settled again", async () => {
    const { context, value, tracked } = setup();
    const fake = fakeBroker({ failCopies: true });
    const settlement = new Settlement(fake.broker, context, 1, "d");
    const attempt = settlement.deadLetter("decode-failed", { code: "DECODE_FAILED", message: "bad frame" });
    // While the copy is written, another settle is refused.
    await expect(settlement.ack()).rejects.toMatchObject({ code: "ALREADY_SETTLED", message: /is being settled/ });
    await expect(attempt).rejects.toMatchObject({ code: "TIMEOUT" });
    expect(tracked).toHaveLength(1);
    expect(settlement.open).toBe(true);
    fake.options.failCopies = false;
    await settlement.deadLetter("decode-failed", { code: "DECODE_FAILED", message: "bad frame" });
    expect(fake.calls).toEqual(["dead-letter decode-failed DECODE_FAILED bad frame", "ack"]);
    expect(await value(CONSUME_METRIC_NAMES.deadLetters, { reason: "decode-failed" })).toBe(1);
  });

  it("an invalid retry delay rejects with INVALID_OPTIONS and leaves the delivery pending", async () => {
    const { context } = setup();
    const fake = fakeBroker();
    const settlement = new Settlement(fake.broker, context, 1, "d");
    await expect(settlement.retry({ delayMs: -1 })).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await settlement.ack();
    expect(fake.calls).toEqual(["ack"]);
  });

  it("lease expiry releases a pending delivery once; settling it afterwards says its lease expired", async () => {
    vi.useFakeTimers();
    const { context, value } = setup({ leaseMs: 500 });
    const fake = fakeBroker();
    const settlement = new Settlement(fake.broker, context, 1, "d");
    settlement.handedOver();
    vi.advanceTimersByTime(499);
    expect(fake.calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fake.calls).toEqual(["release"]);
    await expect(settlement.ack()).rejects.toMatchObject({ code: "ALREADY_SETTLED", message: /its lease expired/ });
    vi.advanceTimersByTime(10_000);
    expect(fake.calls).toEqual(["release"]);
    expect(await value(CONSUME_METRIC_NAMES.settlements, { outcome: "released" })).toBe(1);
    // A delivery settled in time never expires.
    const inTime = fakeBroker();
    const settled = new Settlement(inTime.broker, context, 1, "d2");
    settled.handedOver();
    await settled.ack();
    vi.advanceTimersByTime(1000);
    expect(inTime.calls).toEqual(["ack"]);
  });

  it("abandoned (the broker took it back): counted as released; ack and release are no-ops where the broker allows", async () => {
    const { context, value } = setup();
    const ledger = new SettlementLedger();
    const fake = fakeBroker();
    const a = new Settlement(fake.broker, context, 1, "a", ledger);
    const b = new Settlement(fake.broker, context, 1, "b", ledger);
    await b.ack();
    expect(ledger.size).toBe(1);
    ledger.abandonAll();
    expect(ledger.size).toBe(0);
    expect(await value(CONSUME_METRIC_NAMES.settlements, { outcome: "released" })).toBe(1);
    expect(await value(CONSUME_METRIC_NAMES.inFlight)).toBe(0);
    fake.options.gone = true;
    await expect(a.ack()).resolves.toBeUndefined();
    const c = new Settlement(fake.broker, context, 1, "c");
    await expect(c.retry({ delayMs: 0 })).rejects.toMatchObject({ code: "RABBITMQ_UNAVAILABLE" });
    await expect(c.release()).resolves.toBeUndefined();
    expect(fake.calls).toEqual(["ack"]);
    expect(await value(CONSUME_METRIC_NAMES.settlements, { outcome: "released" })).toBe(2);
  });

  it("a closed subscription refuses every settle with its own error (Kafka: CLOSED)", async () => {
    const { context } = setup();
    const fake = fakeBroker({ closed: true });
    const settlement = new Settlement(fake.broker, context, 1, "d");
    await expect(settlement.ack()).rejects.toMatchObject({ code: "CLOSED" });
    await expect(settlement.retry({ delayMs: 0 })).rejects.toMatchObject({ code: "CLOSED" });
    expect(fake.calls).toEqual([]);
  });

  it("records nothing for a recorder's subscription once it is closed: the gauge goes back to 0", async () => {
    const { context, recorder, value } = setup();
    new Settlement(fakeBroker().broker, context, 1, "d");
    expect(await value(CONSUME_METRIC_NAMES.inFlight, { source: "orders", group: "billing" })).toBe(1);
    recorder.close();
    expect(await value(CONSUME_METRIC_NAMES.inFlight)).toBe(0);
  });
});

describe("retryFailedDelivery", () => {
  it("retries with HANDLER_FAILED at the shortest tier; a settled delivery stays as it was", async () => {
    const { context } = setup();
    const fake = fakeBroker();
    const settlement = new Settlement(fake.broker, context, 1, "d");
    const delivery = {
      attempt: 1,
      retry: (options: Parameters<Delivery["retry"]>[0]) => settlement.retry(options),
      release: () => settlement.release(),
    } as Delivery;
    retryFailedDelivery(delivery, new Error("boom"), silentLogger, {});
    await vi.waitFor(() => expect(fake.calls).toEqual(["retry 300 HANDLER_FAILED handler failed: boom", "ack"]));
    retryFailedDelivery(delivery, new Error("again"), silentLogger, {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fake.calls).toHaveLength(2);
  });
});

describe("createConsumeMetrics", () => {
  it("registers exactly the documented names, and a second call on the same registry adds to the same series", async () => {
    const registry = new Registry();
    const one = createConsumeMetrics(registry).forSubscription({ broker: "rabbitmq", source: "q", group: "g" });
    const two = createConsumeMetrics(registry).forSubscription({ broker: "rabbitmq", source: "q", group: "g" });
    one.delivered();
    two.delivered();
    one.deadLettered("q.dlx", "rejected");
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      "kronos_consumer_deliveries_total",
      "kronos_consumer_in_flight",
      "kronos_consumer_retries_total",
      "kronos_consumer_settlements_total",
      "kronos_dead_letters_total",
    ]);
    const text = await registry.metrics();
    expect(text).toContain('kronos_consumer_deliveries_total{broker="rabbitmq",source="q",group="g"} 2');
    expect(text).toContain('kronos_dead_letters_total{broker="rabbitmq",destination="q.dlx",reason="rejected"} 1');
  });
});
