import { describe, expect, it } from "vitest";
import { TransportError } from "../errors.js";
import {
  CONSUME_ERROR_CODES,
  consumePolicy,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_TIERS_MS,
  decideRetry,
  normalizeRetryTiers,
  retryTier,
} from "./policy.js";

const invalid = (message: string) => new TransportError("INVALID_OPTIONS", `subscription to "t": ${message}`);

describe("retry tiers (one meaning for both brokers)", () => {
  it("rounds a delay up to the nearest tier, and caps it at the longest", () => {
    const tiers = [1000, 5000, 30_000, 300_000];
    expect(retryTier(0, tiers)).toBe(1000);
    expect(retryTier(1000, tiers)).toBe(1000);
    expect(retryTier(1001, tiers)).toBe(5000);
    expect(retryTier(29_999, tiers)).toBe(30_000);
    expect(retryTier(3_600_000, tiers)).toBe(300_000);
    expect(retryTier(3_600_000, [1000, 5000, 30_000])).toBe(30_000);
  });

  it("sorts and dedupes tiers (order carries no meaning), takes none (no retries), refuses non-positive ones", () => {
    expect(normalizeRetryTiers([5000, 1000, 5000])).toEqual({ tiers: [1000, 5000], problem: undefined });
    expect(normalizeRetryTiers([300, 1000]).tiers).toEqual([300, 1000]);
    expect(normalizeRetryTiers([1000, 300]).tiers).toEqual([300, 1000]);
    expect(normalizeRetryTiers([300, 300]).tiers).toEqual([300]);
    expect(normalizeRetryTiers([])).toEqual({ tiers: [], problem: undefined });
    expect(normalizeRetryTiers("1000" as unknown as number[]).problem).toMatch(/must be an array/);
    expect(normalizeRetryTiers([0]).problem).toMatch(/integer from 1/);
    expect(normalizeRetryTiers([1.5]).problem).toMatch(/integer from 1/);
    expect(normalizeRetryTiers([-1]).problem).toMatch(/integer from 1/);
    expect(normalizeRetryTiers([2 ** 32]).problem).toMatch(/integer from 1 to 4294967295 ms/);
  });
});

describe("consumePolicy", () => {
  it("applies the defaults", () => {
    expect(consumePolicy({}, invalid)).toEqual({
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      retryTiersMs: DEFAULT_RETRY_TIERS_MS,
      leaseMs: undefined,
    });
    expect(DEFAULT_MAX_ATTEMPTS).toBe(5);
    expect(DEFAULT_RETRY_TIERS_MS).toEqual([1000, 5000, 30_000, 300_000]);
  });

  it.each([
    [{ maxAttempts: 0 }, /subscription to "t": maxAttempts must be an integer ≥ 1, got 0/],
    [{ maxAttempts: 1.5 }, /maxAttempts/],
    [{ retryTiersMs: [], maxAttempts: 3 }, /retryTiersMs \[\] allows no retries, so maxAttempts must be 1.*got 3/],
    [{ retryTiersMs: [-5] }, /retryTiersMs each delay/],
    [{ leaseMs: 0 }, /leaseMs must be an integer ≥ 1 ms, got 0/],
  ])("refuses %j with INVALID_OPTIONS naming the setting", (options, message) => {
    expect(() => consumePolicy(options, invalid)).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    expect(() => consumePolicy(options, invalid)).toThrow(message);
  });
});

describe("no retry tiers: no retries", () => {
  it("means one attempt: maxAttempts defaults to 1, and every retry dead-letters with reason max-attempts", () => {
    const policy = consumePolicy({ retryTiersMs: [] }, invalid);
    expect(policy).toEqual({ maxAttempts: 1, retryTiersMs: [], leaseMs: undefined });
    expect(consumePolicy({ retryTiersMs: [], maxAttempts: 1 }, invalid).maxAttempts).toBe(1);
    expect(decideRetry(policy, 1, { delayMs: 0, code: "HANDLER_FAILED", reason: "boom" })).toEqual({
      action: "dead-letter",
      reason: "max-attempts",
      error: { code: "HANDLER_FAILED", message: "boom" },
    });
  });
});

describe("decideRetry: retry or dead letter", () => {
  const policy = consumePolicy({ maxAttempts: 3, retryTiersMs: [300, 1000] }, invalid);

  it.each([
    // attempt, options, decision
    [
      1,
      { delayMs: 0 },
      { action: "retry", tierMs: 300, error: { code: "CLIENT_RETRY", message: "retry requested at attempt 1" } },
    ],
    [
      2,
      { delayMs: 500, reason: "busy" },
      { action: "retry", tierMs: 1000, error: { code: "CLIENT_RETRY", message: "busy" } },
    ],
    [
      2,
      { delayMs: 60_000, reason: "x", code: "HANDLER_FAILED" },
      { action: "retry", tierMs: 1000, error: { code: "HANDLER_FAILED", message: "x" } },
    ],
    [
      3,
      { delayMs: 0, reason: "busy" },
      { action: "dead-letter", reason: "max-attempts", error: { code: "CLIENT_RETRY", message: "busy" } },
    ],
    [
      7,
      { delayMs: 0 },
      {
        action: "dead-letter",
        reason: "max-attempts",
        error: { code: "CLIENT_RETRY", message: "retry requested at attempt 7" },
      },
    ],
  ] as const)("attempt %i with %j", (attempt, options, decision) => {
    expect(decideRetry(policy, attempt, options)).toEqual(decision);
  });

  it("refuses a delay that is not a number ≥ 0", () => {
    for (const delayMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, "5" as unknown as number]) {
      expect(() => decideRetry(policy, 1, { delayMs })).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    }
  });

  it("names the codes it writes", () => {
    expect(CONSUME_ERROR_CODES).toEqual({ retry: "CLIENT_RETRY", handlerFailed: "HANDLER_FAILED" });
  });
});
