import { describe, expect, it } from "vitest";
import { Destinations, defaultKey } from "./destinations.js";
import { eventsByName } from "./events.js";

const destinations = new Destinations(eventsByName.values());
const code = (fn: () => unknown) => {
  try {
    fn();
    return "none";
  } catch (error) {
    return (error as { code: string }).code;
  }
};

describe("Destinations", () => {
  it("knows every manifest topic and exchange with its events and max priority", () => {
    const list = destinations.list().map((d) => `${d.broker}:${d.name}`);
    expect(list).toEqual(
      expect.arrayContaining(["kafka:kronos.gaia.alerts", "rabbitmq:kronos.gaia.critical", "rabbitmq:kronos.router"]),
    );
    expect(
      destinations.resolve({ topic: "kronos.router", event: "kronos.router.AsyncRequest" }).destination.maxPriority,
    ).toBe(10);
  });

  it("resolves the single event of a destination, and refuses what cannot be routed", () => {
    expect(destinations.resolve({ topic: "kronos.gaia.alerts" }).route.event.name).toBe("kronos.gaia.CriticalAlert");
    expect(code(() => destinations.resolve({ topic: "nope" }))).toBe("UNKNOWN_TOPIC");
    expect(code(() => destinations.resolve({ topic: "kronos.auth.events" }))).toBe("EVENT_REQUIRED");
    expect(code(() => destinations.resolve({ topic: "kronos.messaging.dead-letters" }))).toBe("AMBIGUOUS_TOPIC");
    expect(destinations.resolve({ topic: "kronos.messaging.dead-letters", broker: "rabbitmq" }).route.broker).toBe(
      "rabbitmq",
    );
    expect(code(() => destinations.resolve({ topic: "kronos.gaia.alerts", priority: 1 }))).toBe(
      "PRIORITY_NOT_SUPPORTED",
    );
    expect(code(() => destinations.resolve({ topic: "kronos.gaia.critical", priority: 1 }))).toBe(
      "PRIORITY_NOT_SUPPORTED",
    );
    expect(
      code(() => destinations.resolve({ topic: "kronos.router", event: "kronos.router.AsyncRequest", priority: 11 })),
    ).toBe("PRIORITY_OUT_OF_RANGE");
  });

  it("defaults the key to the manifest's key field or routing-key template", () => {
    const kafka = destinations.resolve({ topic: "kronos.gaia.alerts" }).route;
    const rabbit = destinations.resolve({ topic: "kronos.gaia.critical" }).route;
    const value = { fingerprint: "fp-1", severity: "MAJOR", sourceService: "auth" };
    expect(defaultKey(kafka, value)).toBe("fp-1");
    expect(defaultKey(rabbit, value)).toBe("alert.MAJOR.auth");
    expect(code(() => defaultKey(rabbit, { severity: "MAJOR" }))).toBe("ROUTING_KEY_UNRESOLVED");
    const fanout = destinations.resolve({ topic: "kronos.cache", event: "kronos.cache.CacheEntryUpdated" }).route;
    expect(defaultKey(fanout, {})).toBe("");
  });
});
