import { HttpError } from "@kronos/app-kit";
import { TransportError } from "@kronos/transport";
import type { FastifyReply } from "fastify";
import { describe, expect, it } from "vitest";
import { unavailableMessage } from "../errors.js";
import { RETRY_AFTER_SECONDS, toHttpError } from "./errors.js";

function fakeReply(): { reply: FastifyReply; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  const reply = {
    header(name: string, value: string) {
      headers[name] = value;
      return reply;
    },
  };
  return { reply: reply as unknown as FastifyReply, headers };
}

describe("TransportError → HTTP", () => {
  const cases = [
    ["INVALID_OPTIONS", 400],
    ["QUEUE_CONFLICT", 409],
    ["TOPIC_CONFLICT", 409],
    ["QUEUE_NOT_EMPTY", 409],
    ["MANAGEMENT_UNAUTHORIZED", 502],
    ["ACCESS_REFUSED", 403],
    ["MANAGEMENT_UNAVAILABLE", 503],
    ["KAFKA_UNAVAILABLE", 503],
    ["RABBITMQ_UNAVAILABLE", 503],
    ["TIMEOUT", 503],
  ] as const;
  for (const [code, status] of cases) {
    it(`${code} → ${status} with the code, ${status === 503 ? "the product's message and Retry-After" : "its message"}`, () => {
      const { reply, headers } = fakeReply();
      const error = new TransportError(code, `about "q": ${code}`);
      const mapped = toHttpError(error, reply);
      expect(mapped).toBeInstanceOf(HttpError);
      // A 503 never carries the library's text (it stays in the cause, for the log).
      const message = status === 503 ? unavailableMessage(code) : `about "q": ${code}`;
      expect(mapped).toMatchObject({ statusCode: status, code, message, cause: error });
      expect(headers["retry-after"]).toBe(status === 503 ? String(RETRY_AFTER_SECONDS) : undefined);
    });
  }

  it("leaves other errors (and publish-only codes) to the error handler: a generic 500", () => {
    const { reply } = fakeReply();
    const plain = new Error("boom");
    expect(toHttpError(plain, reply)).toBe(plain);
    const nacked = new TransportError("NACKED", "nacked");
    expect(toHttpError(new TransportError("UNROUTABLE", "x"), reply)).not.toBeInstanceOf(HttpError);
    expect(toHttpError(nacked, reply)).toBe(nacked);
  });
});
