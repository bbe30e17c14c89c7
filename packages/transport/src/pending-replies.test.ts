import { describe, expect, it, vi } from "vitest";
import { TransportError } from "./errors.js";
import { PendingReplies } from "./pending-replies.js";

const timeoutError = () => new TransportError("REPLY_TIMEOUT", "no reply");

describe("PendingReplies", () => {
  it("sends once registered and resolves with the reply; a late settle does nothing", async () => {
    const pending = new PendingReplies<string, { to: string }>();
    const context = { to: "q" };
    const send = vi.fn(() => expect(pending.context("c-1")).toBe(context));
    const reply = pending.wait("c-1", { context, timeoutMs: 10_000, timeoutError, send });
    expect(send).toHaveBeenCalledOnce();
    expect(pending.entries()).toEqual([["c-1", context]]);
    pending.resolve("c-1", "pong");
    await expect(reply).resolves.toBe("pong");
    expect(pending.has("c-1")).toBe(false);
    pending.reject("c-1", new Error("late"));
    pending.resolve("c-1", "late");
  });

  it("rejects a correlation id already waiting with INVALID_OPTIONS, without sending it", async () => {
    const pending = new PendingReplies<string>();
    const first = pending.wait("c-1", { context: undefined, timeoutMs: 10_000, timeoutError, send: () => {} });
    const send = vi.fn();
    await expect(
      pending.wait("c-1", { context: undefined, timeoutMs: 10_000, timeoutError, send }),
    ).rejects.toMatchObject({ code: "INVALID_OPTIONS", message: expect.stringContaining('"c-1"') });
    expect(send).not.toHaveBeenCalled();
    pending.resolve("c-1", "still the first");
    await expect(first).resolves.toBe("still the first");
  });

  it("rejects with the timeout error after timeoutMs, and every wait on rejectAll", async () => {
    const pending = new PendingReplies<string>();
    const timedOut = pending.wait("slow", { context: undefined, timeoutMs: 20, timeoutError, send: () => {} });
    await expect(timedOut).rejects.toMatchObject({ code: "REPLY_TIMEOUT" });
    expect(pending.has("slow")).toBe(false);

    const a = pending.wait("a", { context: undefined, timeoutMs: 10_000, timeoutError, send: () => {} });
    const b = pending.wait("b", { context: undefined, timeoutMs: 10_000, timeoutError, send: () => {} });
    pending.rejectAll(() => new TransportError("CLOSED", "closed"));
    await expect(a).rejects.toMatchObject({ code: "CLOSED" });
    await expect(b).rejects.toMatchObject({ code: "CLOSED" });
    expect(pending.entries()).toEqual([]);
  });
});
