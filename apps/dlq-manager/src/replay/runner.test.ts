import { amqpTableToJson } from "@kronos/transport";
import { describe, expect, it } from "vitest";
import type { PendingItem } from "./jobs.js";
import { batchSize, MAX_BATCH, replayAmqpHeaders } from "./runner.js";

const item = (overrides: Partial<PendingItem>): PendingItem => ({
  position: 0,
  deadLetterId: "17",
  replayCount: 1,
  sourceBroker: "rabbitmq",
  originalBroker: "rabbitmq",
  destination: "",
  routingKey: "orders",
  key: null,
  body: Buffer.from("body"),
  headers: [],
  amqpHeaders: null,
  schemaId: null,
  ...overrides,
});

describe("replayAmqpHeaders", () => {
  it("sends the original AMQP table with its types, without the failure bookkeeping, with the marker", () => {
    const original = {
      signature: Buffer.from([0xff, 0x00]),
      priority: 7,
      when: { "!": "timestamp", value: 1_700_000_000 },
      trace: { hops: [1, 2], id: "t-1" },
      "x-death": [{ count: 1, reason: "rejected", queue: "orders" }],
      "x-kronos-dl-reason": "max-attempts",
      "x-kronos-replay-count": "1",
    };
    const headers = replayAmqpHeaders(
      item({ amqpHeaders: JSON.parse(JSON.stringify(amqpTableToJson(original))) }),
      "9",
    );
    expect(headers).toEqual({
      signature: Buffer.from([0xff, 0x00]),
      priority: 7,
      when: { "!": "timestamp", value: 1_700_000_000 },
      trace: { hops: [1, 2], id: "t-1" },
      "x-kronos-replay-job-id": "9",
      "x-kronos-replay-count": "2",
      "x-kronos-replay-dead-letter-id": "17",
    });
    expect(Buffer.isBuffer(headers.signature)).toBe(true);
  });

  it("sends the headers as text, without those that are AMQP properties, when no typed table was stored", () => {
    const headers = replayAmqpHeaders(
      item({
        headers: [
          ["message-id", Buffer.from("m-1")],
          ["priority", Buffer.from("7")],
          ["x-kronos-dl-reason", Buffer.from("max-attempts")],
        ],
      }),
      "9",
    );
    expect(headers).toEqual({
      priority: "7",
      "x-kronos-replay-job-id": "9",
      "x-kronos-replay-count": "2",
      "x-kronos-replay-dead-letter-id": "17",
    });
  });

  it("names the header of a stored table it cannot read", () => {
    const broken = [["odd", { type: "float128" }]] as unknown as PendingItem["amqpHeaders"];
    expect(() => replayAmqpHeaders(item({ amqpHeaders: broken }), "9")).toThrow(/AMQP header odd/);
  });
});

describe("batchSize", () => {
  it("sends one at a time at low rates, so pausing stops after the send in flight", () => {
    expect(batchSize(1)).toBe(1);
    expect(batchSize(2)).toBe(1);
    expect(batchSize(19)).toBe(1);
  });

  it("sends a tenth of a second's worth at once, at most MAX_BATCH", () => {
    expect(batchSize(1000)).toBe(100);
    expect(batchSize(100_000)).toBe(MAX_BATCH);
  });
});
