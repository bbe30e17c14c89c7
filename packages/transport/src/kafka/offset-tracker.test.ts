import { describe, expect, it } from "vitest";
import { OffsetTracker } from "./offset-tracker.js";

function tracker(start = "0", committed: string | undefined = "0"): OffsetTracker {
  const t = new OffsetTracker();
  t.assign("t", 0, start, committed);
  return t;
}

function hand(t: OffsetTracker, ...offsets: number[]): void {
  for (const offset of offsets) expect(t.hand("t", 0, String(offset))).toBe(true);
}

describe("OffsetTracker", () => {
  it("commits nothing past an unsettled offset: ack 3 and 2 before 1", () => {
    const t = tracker();
    hand(t, 0, 1, 2);
    expect(t.settle("t", 0, "2")).toBe(false);
    expect(t.settle("t", 0, "1")).toBe(false);
    expect(t.committable("t", 0)).toBe("0");
    expect(t.dueCommits()).toEqual([]);
    expect(t.settle("t", 0, "0")).toBe(true);
    expect(t.committable("t", 0)).toBe("3");
    expect(t.dueCommits()).toEqual([{ topic: "t", partition: 0, offset: "3" }]);
  });

  it("moves to the next unsettled offset when the lowest is settled", () => {
    const t = tracker();
    hand(t, 0, 1, 2, 3);
    t.settle("t", 0, "2");
    expect(t.settle("t", 0, "0")).toBe(true);
    expect(t.committable("t", 0)).toBe("1");
    expect(t.settle("t", 0, "1")).toBe(true);
    expect(t.committable("t", 0)).toBe("3");
  });

  it("skips gaps in the offsets (compaction, transaction markers)", () => {
    const t = tracker("10", "10");
    hand(t, 10, 14, 20);
    t.settle("t", 0, "10");
    t.settle("t", 0, "14");
    expect(t.committable("t", 0)).toBe("20");
    t.settle("t", 0, "20");
    expect(t.committable("t", 0)).toBe("21");
  });

  it("marks commits done and reports only partitions whose committable offset differs", () => {
    const t = new OffsetTracker();
    t.assign("t", 0, "5", "5");
    t.assign("t", 1, "0", undefined);
    t.assign("t.retry.1000", 0, "7", "3");
    expect(t.dueCommits()).toEqual([
      { topic: "t", partition: 1, offset: "0" },
      { topic: "t.retry.1000", partition: 0, offset: "7" },
    ]);
    t.committed("t", 1, "0");
    t.committed("t.retry.1000", 0, "7");
    expect(t.dueCommits()).toEqual([]);
    t.hand("t", 0, "5");
    expect(t.dueCommits()).toEqual([]);
    t.settle("t", 0, "5");
    expect(t.dueCommits()).toEqual([{ topic: "t", partition: 0, offset: "6" }]);
  });

  it("classifies fetched records: new, seen before (a re-fetch after a rejoin), or of an unassigned partition", () => {
    const t = tracker("3");
    expect(t.classify("t", 0, "3")).toBe("new");
    hand(t, 3, 4);
    expect(t.classify("t", 0, "2")).toBe("seen");
    expect(t.classify("t", 0, "4")).toBe("seen");
    expect(t.classify("t", 0, "5")).toBe("new");
    expect(t.classify("t", 1, "0")).toBe("unassigned");
    expect(t.hand("t", 0, "4")).toBe(false);
    expect(t.position("t", 0)).toBe("5");
  });

  it("forgets a revoked partition: late settlements change nothing and nothing is committed for it", () => {
    const t = tracker();
    hand(t, 0, 1);
    t.revoke("t", 0);
    expect(t.isAssigned("t", 0)).toBe(false);
    expect(t.settle("t", 0, "0")).toBe(false);
    expect(t.isUnsettled("t", 0, "1")).toBe(false);
    expect(t.dueCommits()).toEqual([]);
    expect(t.committable("t", 0)).toBeUndefined();
    expect(t.assigned()).toEqual([]);
  });

  it("starts a re-assigned partition afresh", () => {
    const t = tracker();
    hand(t, 0, 1);
    t.assign("t", 0, "1", "1");
    expect(t.isUnsettled("t", 0, "0")).toBe(false);
    expect(t.unsettledCount()).toBe(0);
    expect(t.classify("t", 0, "1")).toBe("new");
  });

  it("counts unsettled offsets and answers whether one is unsettled", () => {
    const t = new OffsetTracker();
    t.assign("a", 0, "0", "0");
    t.assign("b", 2, "0", "0");
    t.hand("a", 0, "0");
    t.hand("a", 0, "1");
    t.hand("b", 2, "0");
    expect(t.unsettledCount()).toBe(3);
    expect(t.isUnsettled("a", 0, "1")).toBe(true);
    t.settle("a", 0, "1");
    expect(t.isUnsettled("a", 0, "1")).toBe(false);
    expect(t.settle("a", 0, "1")).toBe(false);
    expect(t.unsettledCount()).toBe(2);
  });

  it("keeps 64-bit offsets exact", () => {
    const t = tracker("9007199254740993", "9007199254740993");
    t.hand("t", 0, "9007199254740993");
    t.settle("t", 0, "9007199254740993");
    expect(t.committable("t", 0)).toBe("9007199254740994");
  });

  it("refuses what is not an offset", () => {
    const t = tracker();
    expect(() => t.hand("t", 0, "-1")).toThrow(RangeError);
    expect(() => t.assign("t", 0, "1.5", undefined)).toThrow(RangeError);
  });

  it("settles thousands of offsets in random order and commits only ever the lowest unsettled", () => {
    const t = tracker();
    const count = 2000;
    for (let i = 0; i < count; i++) t.hand("t", 0, String(i));
    const order = Array.from({ length: count }, (_, i) => i);
    let seed = 42;
    for (let i = order.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const settled = new Set<number>();
    for (const offset of order) {
      t.settle("t", 0, String(offset));
      settled.add(offset);
      let lowest = 0;
      while (settled.has(lowest)) lowest++;
      expect(t.committable("t", 0)).toBe(String(lowest));
    }
    expect(t.committable("t", 0)).toBe(String(count));
  });
});
