import { afterEach, describe, expect, it, vi } from "vitest";
import { RequestsInHand } from "./in-hand.js";

describe("RequestsInHand", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("finished() waits for the requests in hand, failed ones included", async () => {
    const inHand = new RequestsInHand();
    let finish: () => void = () => {};
    inHand.add(new Promise<void>((resolve) => (finish = resolve)));
    inHand.add(Promise.reject(new Error("a failed request still finishes")));
    let done = false;
    const waiting = inHand.finished(60_000).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    finish();
    await waiting;
    expect(done).toBe(true);
  });

  it("finished() gives up after its timeout on a request that never ends", async () => {
    vi.useFakeTimers();
    const inHand = new RequestsInHand();
    inHand.add(new Promise<void>(() => {}));
    let done = false;
    const waiting = inHand.finished(5000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(4999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
  });

  it("finished() resolves at once with nothing in hand", async () => {
    vi.useFakeTimers();
    await expect(new RequestsInHand().finished(5000)).resolves.toBeUndefined();
  });
});
