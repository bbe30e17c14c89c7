import { describe, expect, it } from "vitest";
import { type Envelope, headerText, RELAY_HEADERS } from "./envelope.js";
import { hopVerdict, stampHops } from "./hops.js";

const envelope = (): Envelope => ({
  value: Buffer.alloc(0),
  key: null,
  headers: new Map(),
  timestampMs: undefined,
  routingKey: undefined,
});

describe("hop headers", () => {
  it("let a message cross once and stop it on its way back (A → B → A)", () => {
    const message = envelope();
    expect(hopVerdict(message, "kafka:a", "rabbitmq:b", 4)).toEqual({ relay: true });
    stampHops(message, { source: "kafka:a", target: "rabbitmq:b", route: "ab", instance: "i1" });
    expect(headerText(message, RELAY_HEADERS.origin)).toBe("kafka:a");
    expect(headerText(message, RELAY_HEADERS.visited)).toBe("kafka:a,rabbitmq:b");
    expect(headerText(message, RELAY_HEADERS.hops)).toBe("1");
    expect(headerText(message, RELAY_HEADERS.instance)).toBe("i1");
    expect(hopVerdict(message, "rabbitmq:b", "kafka:a", 4)).toEqual({ relay: false, why: "visited" });
    expect(hopVerdict(message, "rabbitmq:b", "kafka:c", 4)).toEqual({ relay: true });
  });

  it("stop a message at the hop limit", () => {
    const message = envelope();
    stampHops(message, { source: "kafka:a", target: "rabbitmq:b", route: "ab", instance: "i1" });
    stampHops(message, { source: "rabbitmq:b", target: "kafka:c", route: "bc", instance: "i1" });
    expect(headerText(message, RELAY_HEADERS.origin)).toBe("kafka:a");
    expect(headerText(message, RELAY_HEADERS.visited)).toBe("kafka:a,rabbitmq:b,kafka:c");
    expect(hopVerdict(message, "kafka:c", "rabbitmq:d", 2)).toEqual({ relay: false, why: "hop-limit" });
    expect(hopVerdict(message, "kafka:c", "rabbitmq:d", 3)).toEqual({ relay: true });
  });
});
