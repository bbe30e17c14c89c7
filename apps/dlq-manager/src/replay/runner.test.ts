import { describe, expect, it } from "vitest";
import { batchSize, MAX_BATCH } from "./runner.js";

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
