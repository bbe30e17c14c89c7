import { describe, expect, it } from "vitest";
import { Arrivals, percentile } from "./flow.js";

describe("Arrivals", () => {
  it("counts each id of a tag once, and resolves a wait once the tag's count is reached", async () => {
    const arrivals = new Arrivals();
    const waiting = arrivals.waitFor("a", 2, 1000);
    arrivals.arrive("a:1");
    arrivals.arrive("a:1");
    arrivals.arrive("b:1");
    arrivals.arrive(undefined);
    arrivals.arrive("untagged");
    expect(arrivals.count("a")).toBe(1);
    arrivals.arrive("a:2");
    await expect(waiting).resolves.toBeTypeOf("number");
    expect(arrivals.count("b")).toBe(1);
  });

  it("rejects a wait that is not met in time, saying how many arrived", async () => {
    const arrivals = new Arrivals();
    arrivals.arrive("a:1");
    await expect(arrivals.waitFor("a", 2, 20)).rejects.toThrow("a: 1 of 2 messages arrived");
  });

  it("keeps arrival times only for the tag being timed", () => {
    const arrivals = new Arrivals();
    arrivals.time("t");
    arrivals.arrive("t:1");
    arrivals.arrive("u:1");
    expect([...arrivals.arrivedAt.keys()]).toEqual(["t:1"]);
  });
});

describe("percentile", () => {
  it("takes the nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
  });
});
