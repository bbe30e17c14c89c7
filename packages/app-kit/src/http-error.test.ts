import { describe, expect, it } from "vitest";
import { HttpError, toClientError } from "./http-error.js";

describe("HttpError", () => {
  it("carries no stack frames for a 4xx (an answer, not a bug), and leaves Error.stackTraceLimit as it was", () => {
    const limit = Error.stackTraceLimit;
    const error = new HttpError(404, "NOT_FOUND", "no such queue");
    expect(error.stack).toBe("HttpError: no such queue");
    expect(Error.stackTraceLimit).toBe(limit);
    expect(new Error("plain").stack).toMatch(/\n\s+at /);
  });

  it("keeps its stack for a 5xx (logged), and a cause keeps its own", () => {
    const cause = new Error("broker down");
    const error = new HttpError(503, "UNAVAILABLE", "try again", { cause });
    expect(error.stack).toMatch(/^HttpError: try again\n\s+at /);
    expect(new HttpError(400, "BAD", "x", { cause }).cause).toBe(cause);
  });

  it("still reaches the client as status, code and message", () => {
    expect(toClientError(new HttpError(429, "RATE_LIMITED", "slow down"))).toEqual({
      statusCode: 429,
      body: { code: "RATE_LIMITED", message: "slow down" },
    });
  });
});
