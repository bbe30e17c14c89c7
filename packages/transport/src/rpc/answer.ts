import { randomUUID } from "node:crypto";
import type { TransportLogger } from "../logger.js";
import type { IncomingRequest, ReplyContent, RequestHandler } from "./types.js";

/**
 * A reply ready to send, the same on both brokers: the handler's content plus what pairs it with its request.
 * RabbitMQ sends `messageId`, `correlationId`, `type` and `contentType` as message properties; Kafka as the
 * headers `message-id`, `correlation-id`, `event-type` and `content-type` (the names a `Delivery` reads them by).
 */
export interface OutgoingReply {
  readonly content: Buffer;
  /** A new UUID per reply. */
  readonly messageId: string;
  /** The request's correlation id, when it had one. */
  readonly correlationId: string | undefined;
  readonly type: string | undefined;
  readonly contentType: string | undefined;
  /** The handler's own headers. */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a responder does with one request, as {@link answerRequest} decides it. */
export type Answer =
  /** The handler threw: the responder refuses the request its broker's way (the error is not logged yet). */
  | { readonly outcome: "failed"; readonly error: unknown }
  /** Nothing to send: the handler answered `null`, or the request has no `reply-to` (logged). */
  | { readonly outcome: "no-reply" }
  /** Send `reply` to `replyTo`, then settle the request. */
  | { readonly outcome: "reply"; readonly replyTo: string; readonly reply: OutgoingReply };

/** The fields every {@link IncomingRequest} reads from its headers (as text, named as a `Delivery`'s). */
export function incomingRequest(body: Buffer, headers: Readonly<Record<string, string>>): IncomingRequest {
  return {
    body,
    headers,
    eventType: headers["event-type"],
    correlationId: headers["correlation-id"],
    replyTo: headers["reply-to"],
  };
}

/** The reply to `request` made of the handler's `content`. */
export function outgoingReply(request: IncomingRequest, content: ReplyContent): OutgoingReply {
  return {
    content: content.content,
    messageId: randomUUID(),
    correlationId: request.correlationId,
    type: content.type,
    contentType: content.contentType,
    headers: { ...content.headers },
  };
}

/**
 * Runs `handler` on `request` and says what to send: never throws. A reply to a request without `reply-to` is
 * dropped with a warning on `logger` (with `fields`, which name where the request came from).
 */
export async function answerRequest<R extends IncomingRequest>(
  request: R,
  handler: RequestHandler<R>,
  logger: TransportLogger,
  fields: Record<string, unknown>,
): Promise<Answer> {
  let content: ReplyContent | null;
  try {
    content = await handler(request);
  } catch (error) {
    return { outcome: "failed", error };
  }
  if (!content) return { outcome: "no-reply" };
  if (request.replyTo === undefined) {
    logger.warn({ ...fields, correlationId: request.correlationId }, "request without reply-to: the reply is dropped");
    return { outcome: "no-reply" };
  }
  return { outcome: "reply", replyTo: request.replyTo, reply: outgoingReply(request, content) };
}
