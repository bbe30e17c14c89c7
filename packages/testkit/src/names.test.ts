import { describe, expect, it } from "vitest";
import { uniqueName } from "./names.js";

describe("uniqueName", () => {
  it("keeps the prefix and only uses characters Kafka allows in topic names", () => {
    const name = uniqueName("orders.v1");
    expect(name).toMatch(/^orders\.v1-[0-9a-f]{8}$/);
  });

  it("never repeats within a run", () => {
    const names = new Set(Array.from({ length: 1000 }, () => uniqueName("t")));
    expect(names.size).toBe(1000);
  });
});
