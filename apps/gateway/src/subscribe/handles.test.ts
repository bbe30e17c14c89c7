import type { Delivery } from "@kronos/transport";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HandleRegistry, handleInstance, INSTANCE_ID_PATTERN, newInstanceId, newSubscriptionId } from "./handles.js";

function fakeDelivery(): Delivery & { released: number } {
  const delivery = {
    released: 0,
    broker: "rabbitmq",
    release: async () => {
      delivery.released++;
    },
  };
  return delivery as unknown as Delivery & { released: number };
}

describe("HandleRegistry", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("gives a held delivery to its principal once, then answers 409 ALREADY_ACKED", () => {
    const registry = new HandleRegistry();
    registry.hold("s.1", "s", "alice", fakeDelivery(), 30_000);
    expect(() => registry.take("s.1", "bob")).toThrow(expect.objectContaining({ statusCode: 403 }));
    const held = registry.take("s.1", "alice");
    expect(held.handle).toBe("s.1");
    expect(() => registry.take("s.1", "alice")).toThrow(expect.objectContaining({ statusCode: 404 }));
    registry.ended("s.1", "acked");
    expect(() => registry.take("s.1", "alice")).toThrow(
      expect.objectContaining({ statusCode: 409, code: "ALREADY_ACKED" }),
    );
    expect(() => registry.take("nope", "alice")).toThrow(
      expect.objectContaining({ statusCode: 404, code: "UNKNOWN_HANDLE" }),
    );
  });

  it("gives the delivery back when its lease expires, and the handle answers 404 HANDLE_EXPIRED", async () => {
    vi.useFakeTimers();
    const expired: string[] = [];
    const registry = new HandleRegistry({ onExpired: (held) => expired.push(held.handle) });
    const delivery = fakeDelivery();
    registry.hold("s.1", "s", "alice", delivery, 1000);
    await vi.advanceTimersByTimeAsync(999);
    expect(delivery.released).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(delivery.released).toBe(1);
    expect(expired).toEqual(["s.1"]);
    expect(() => registry.take("s.1", "alice")).toThrow(
      expect.objectContaining({ statusCode: 404, code: "HANDLE_EXPIRED" }),
    );
  });

  it("stops the lease of a taken delivery and restarts it when the settle failed", async () => {
    vi.useFakeTimers();
    const registry = new HandleRegistry();
    const delivery = fakeDelivery();
    registry.hold("s.1", "s", "alice", delivery, 1000);
    const held = registry.take("s.1", "alice");
    await vi.advanceTimersByTimeAsync(5000);
    expect(delivery.released).toBe(0);
    registry.restore(held);
    expect(registry.size).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(delivery.released).toBe(1);
  });

  it("drops a closed subscription's handles (404 HANDLE_EXPIRED) and keeps the others", () => {
    const registry = new HandleRegistry();
    registry.hold("a.1", "a", "alice", fakeDelivery(), 30_000);
    registry.hold("a.2", "a", "alice", fakeDelivery(), 30_000);
    registry.hold("b.1", "b", "alice", fakeDelivery(), 30_000);
    expect(registry.dropSubscription("a")).toBe(2);
    expect(registry.size).toBe(1);
    expect(() => registry.take("a.1", "alice")).toThrow(expect.objectContaining({ code: "HANDLE_EXPIRED" }));
    expect(registry.take("b.1", "alice").handle).toBe("b.1");
  });

  it("remembers at most rememberMax ended handles", () => {
    const registry = new HandleRegistry({ rememberMax: 2 });
    for (const handle of ["h1", "h2", "h3"]) registry.ended(handle, "acked");
    expect(() => registry.take("h1", "x")).toThrow(expect.objectContaining({ code: "UNKNOWN_HANDLE" }));
    expect(() => registry.take("h3", "x")).toThrow(expect.objectContaining({ code: "ALREADY_ACKED" }));
  });
});

describe("handle format", () => {
  it("names the instance before the first dot; a cursor after ~ does not change it", () => {
    const id = newSubscriptionId("k3Jx9_aQ");
    expect(id).toMatch(/^k3Jx9_aQ\.[0-9a-f]{16}$/);
    expect(handleInstance(`${id}.42`)).toBe("k3Jx9_aQ");
    expect(handleInstance(`${id}.42~0-17_1-3`)).toBe("k3Jx9_aQ");
    expect(newInstanceId()).toMatch(INSTANCE_ID_PATTERN);
  });

  it("finds no instance in a handle no gateway issued", () => {
    for (const handle of ["nope.1", "abc", ".x.1", "a~b.c.1", "bad!id.0123.1"]) {
      expect(handleInstance(handle)).toBeUndefined();
    }
  });

  it("without shared instances, another instance's handle is 404 UNKNOWN_HANDLE naming it and REDIS_URL", () => {
    const registry = new HandleRegistry({ instanceId: "here", shared: false });
    expect(() => registry.check("there.0123456789abcdef.1", "me")).toThrow(
      expect.objectContaining({
        statusCode: 404,
        code: "UNKNOWN_HANDLE",
        message: expect.stringMatching(/gateway instance "there", not this one \("here"\).*REDIS_URL/),
      }),
    );
  });
});
