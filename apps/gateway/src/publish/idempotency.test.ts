import { describe, expect, it } from "vitest";
import { fingerprintOf, MemoryIdempotencyStore } from "./idempotency.js";

describe("MemoryIdempotencyStore", () => {
  it("gives a key to one caller, replays its answer, and frees it when released or expired", async () => {
    const store = new MemoryIdempotencyStore();
    const first = await store.begin("k", "f", 10);
    expect(first.state).toBe("acquired");
    expect(await store.begin("k", "f", 10)).toEqual({ state: "in-flight", fingerprint: "f" });
    if (first.state !== "acquired") throw new Error("unreachable");
    await store.complete("k", first.token, "f", { statusCode: 202, body: { ok: 1 } }, 60);
    expect(await store.begin("k", "f", 10)).toEqual({
      state: "done",
      fingerprint: "f",
      response: { statusCode: 202, body: { ok: 1 } },
    });

    const other = await store.begin("k2", "f", 10);
    if (other.state !== "acquired") throw new Error("unreachable");
    await store.release("k2", "wrong token");
    expect((await store.begin("k2", "f", 10)).state).toBe("in-flight");
    await store.release("k2", other.token);
    expect((await store.begin("k2", "f", 10)).state).toBe("acquired");

    const short = await store.begin("k3", "f", 0.01);
    expect(short.state).toBe("acquired");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await store.begin("k3", "f", 10)).state).toBe("acquired");
  });
});

describe("fingerprintOf", () => {
  it("is the same for the same request whatever the key order, different otherwise", () => {
    expect(fingerprintOf("/publish", { a: 1, b: { c: 2, d: 3 } })).toBe(
      fingerprintOf("/publish", { b: { d: 3, c: 2 }, a: 1 }),
    );
    expect(fingerprintOf("/publish", { a: 1 })).not.toBe(fingerprintOf("/publish", { a: 2 }));
    expect(fingerprintOf("/publish", { a: 1 })).not.toBe(fingerprintOf("/publish/batch", { a: 1 }));
  });
});
