/**
 * Request/reply as both brokers offer it: what a requester is given back and what a responder's handler sees and
 * answers. The broker adapters (`rabbitmq/requester.ts`, `rabbitmq/responder.ts`, `kafka/rpc.ts`) extend these
 * with what only their broker has (routing key, Kafka key and position).
 */

/** Options of one request (either broker). */
export interface RequestOptions {
  /** How long to wait for the reply, in ms (the publish included). */
  readonly timeoutMs: number;
}

/** A reply as the requester hands it over (either broker). */
export interface RequestReply {
  /** The reply's body, byte for byte. */
  readonly body: Buffer;
  /**
   * Headers as text, named as a `Delivery`'s are: AMQP properties under `message-id`, `correlation-id`,
   * `event-type`, `content-type`, `reply-to`; Kafka header bytes as UTF-8.
   */
  readonly headers: Readonly<Record<string, string>>;
}

/** A request as a responder's handler sees it (either broker). */
export interface IncomingRequest {
  /** The request's body, byte for byte. */
  readonly body: Buffer;
  /** Headers as text (see {@link RequestReply.headers}). */
  readonly headers: Readonly<Record<string, string>>;
  /** `event-type` (AMQP `type` property or Kafka header): the full name of the request's event. */
  readonly eventType: string | undefined;
  /** What the reply must carry; undefined when the requester set none. */
  readonly correlationId: string | undefined;
  /** Where the reply goes (RabbitMQ: a queue or direct reply-to name; Kafka: a topic); undefined: no reply. */
  readonly replyTo: string | undefined;
}

/** What a responder's handler answers: the reply's body and, optionally, its event type and headers. */
export interface ReplyContent {
  readonly content: Buffer;
  /** Full name of the reply's event (AMQP `type` property, Kafka `event-type` header). */
  readonly type?: string;
  /** Media type of `content` (AMQP `contentType` property, Kafka `content-type` header). */
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

/** Answers one request; `null` sends no reply. A handler that throws refuses the request (see the responders). */
export type RequestHandler<R extends IncomingRequest = IncomingRequest> = (request: R) => Promise<ReplyContent | null>;
