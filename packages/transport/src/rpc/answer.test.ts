import { describe, expect, it, vi } from "vitest";
import { silentLogger } from "../logger.js";
import { answerRequest, incomingRequest } from "./answer.js";

const headers = { "event-type": "test.Ping", "correlation-id": "c-1", "reply-to": "replies", tenant: "acme" };

describe("incomingRequest", () => {
  it("reads event type, correlation id and reply-to from the headers as a Delivery names them", () => {
    const body = Buffer.from("ping");
    expect(incomingRequest(body, headers)).toEqual({
      body,
      headers,
      eventType: "test.Ping",
      correlationId: "c-1",
      replyTo: "replies",
    });
    expect(incomingRequest(body, {})).toMatchObject({
      eventType: undefined,
      correlationId: undefined,
      replyTo: undefined,
    });
  });
});

describe("answerRequest", () => {
  const request = incomingRequest(Buffer.from("ping"), headers);

  it("pairs the reply with the request: its correlation id, a new message id, the handler's type and headers", async () => {
    const answer = await answerRequest(
      request,
      async () => ({ content: Buffer.from("pong"), type: "test.Pong", contentType: "text/plain", headers: { a: "b" } }),
      silentLogger,
      {},
    );
    expect(answer).toEqual({
      outcome: "reply",
      replyTo: "replies",
      reply: {
        content: Buffer.from("pong"),
        messageId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        correlationId: "c-1",
        type: "test.Pong",
        contentType: "text/plain",
        headers: { a: "b" },
      },
    });
  });

  it("a handler answering null sends nothing", async () => {
    expect(await answerRequest(request, async () => null, silentLogger, {})).toEqual({ outcome: "no-reply" });
  });

  it("a reply to a request without reply-to is dropped with a warning naming where it came from", async () => {
    const logger = { ...silentLogger, warn: vi.fn() };
    const orphan = incomingRequest(Buffer.from("ping"), { "correlation-id": "c-2" });
    const answer = await answerRequest(orphan, async () => ({ content: Buffer.from("pong") }), logger, { queue: "q" });
    expect(answer).toEqual({ outcome: "no-reply" });
    expect(logger.warn).toHaveBeenCalledWith(
      { queue: "q", correlationId: "c-2" },
      "request without reply-to: the reply is dropped",
    );
  });

  it("a handler that throws or rejects is reported as failed with its error, never thrown", async () => {
    const error = new Error("boom");
    expect(await answerRequest(request, async () => Promise.reject(error), silentLogger, {})).toEqual({
      outcome: "failed",
      error,
    });
    const throwing = (() => {
      throw error;
    }) as unknown as () => Promise<null>;
    expect(await answerRequest(request, throwing, silentLogger, {})).toEqual({ outcome: "failed", error });
  });
});
