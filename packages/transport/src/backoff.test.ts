import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff.js";
import { RETRIABLE, TransportError } from "./errors.js";
import { withTimeout } from "./timeout.js";

describe("backoffDelay", () => {
  it("grows exponentially from the initial delay", () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, { initialDelayMs: 100 }, mid))).toEqual([100, 200, 400, 800]);
  });

  it("spreads by the jitter and never exceeds the cap", () => {
    expect(backoffDelay(1, { initialDelayMs: 100, jitter: 0.2 }, () => 0)).toBe(80);
    expect(backoffDelay(1, { initialDelayMs: 100, jitter: 0.2 }, () => 1)).toBe(120);
    expect(backoffDelay(30, { maxDelayMs: 5000 }, () => 1)).toBe(5000);
  });
});

describe("withTimeout", () => {
  it("rejects with a retriable TIMEOUT naming the operation", async () => {
    const error = await withTimeout(new Promise(() => {}), 20, "the probe").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: "TIMEOUT", retriable: true, message: "the probe timed out after 20 ms" });
  });

  it("passes the result through", async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, "x")).resolves.toBe(7);
  });
});

describe("TransportError", () => {
  it("takes retriable from the table", () => {
    expect(new TransportError("CLOSED", "x").retriable).toBe(false);
    expect(RETRIABLE.KAFKA_UNAVAILABLE).toBe(true);
  });
});
