import { describe, expect, it } from "vitest";
import { FixedWindowCounter, SharedWindowCounter } from "./fixed-window.js";

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe("FixedWindowCounter", () => {
  it("allows max hits per window, then says exceeded with the seconds until the window resets", () => {
    const time = clock();
    const counter = new FixedWindowCounter(3, 60_000, time.now);
    expect([1, 2, 3].map(() => counter.hit("a"))).toEqual([
      { max: 3, remaining: 2, exceeded: false, resetInSeconds: 60 },
      { max: 3, remaining: 1, exceeded: false, resetInSeconds: 60 },
      { max: 3, remaining: 0, exceeded: false, resetInSeconds: 60 },
    ]);
    time.advance(20_500);
    expect(counter.hit("a")).toEqual({ max: 3, remaining: 0, exceeded: true, resetInSeconds: 40 });
  });

  it("counts each key on its own", () => {
    const counter = new FixedWindowCounter(1, 60_000, clock().now);
    expect(counter.hit("a").exceeded).toBe(false);
    expect(counter.hit("a").exceeded).toBe(true);
    expect(counter.hit("b").exceeded).toBe(false);
  });

  it("starts a new window once the key's window ended", () => {
    const time = clock();
    const counter = new FixedWindowCounter(1, 60_000, time.now);
    counter.hit("a");
    expect(counter.hit("a").exceeded).toBe(true);
    time.advance(60_000);
    expect(counter.hit("a")).toEqual({ max: 1, remaining: 0, exceeded: false, resetInSeconds: 60 });
  });

  it("never says less than 1 second to wait", () => {
    const time = clock();
    const counter = new FixedWindowCounter(1, 60_000, time.now);
    counter.hit("a");
    time.advance(59_999);
    expect(counter.hit("a").resetInSeconds).toBe(1);
  });

  it("forgets keys whose window ended (memory follows the active keys)", () => {
    const time = clock();
    const counter = new FixedWindowCounter(5, 1_000, time.now);
    for (let i = 0; i < 100; i++) counter.hit(`key-${i}`);
    expect(counter.size).toBe(100);
    time.advance(1_000);
    counter.hit("fresh");
    expect(counter.size).toBe(1);
  });
});

describe("SharedWindowCounter while Redis is unreachable", () => {
  it("fails open to counting in this process, and says so once", async () => {
    const states: string[] = [];
    const counter = new SharedWindowCounter(3, 60_000, {
      redisUrl: "redis://127.0.0.1:1",
      syncMs: 10,
      onState: (state) => states.push(state),
    });
    try {
      const hits = [1, 2, 3, 4].map(() => counter.hit("p"));
      expect(hits.map((hit) => hit.exceeded)).toEqual([false, false, false, true]);
      expect(hits[3]).toMatchObject({ max: 3, remaining: 0 });
      await counter.sync();
      await counter.sync();
      expect(states).toEqual(["down"]);
      expect(counter.hit("p").exceeded).toBe(true);
      expect(counter.hit("q").exceeded).toBe(false);
    } finally {
      counter.close();
    }
  });
});
