import { randomUUID } from "node:crypto";
import type { Channel, ChannelModel, ConsumeMessage, Options } from "amqplib";
import { backoffDelay } from "../backoff.js";
import { describeError, TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { PendingReplies } from "../pending-replies.js";
import { ChannelSlot } from "./channel-slot.js";
import type { AmqpConnectionManager } from "./connection-manager.js";
import { deliveryHeaders } from "./consumer-message.js";
import { type AmqpMessage, amqpPublishOptions, missingExchange } from "./publisher.js";

/** RabbitMQ's direct reply-to pseudo queue: replies go straight to the requesting channel's consumer. */
export const DIRECT_REPLY_TO = "amq.rabbitmq.reply-to";

/**
 * A request to send over RabbitMQ: an {@link AmqpMessage} whose `replyTo` the requester sets. `correlationId`
 * pairs the reply with the request; a new UUID when absent.
 */
export type AmqpRequest = Omit<AmqpMessage, "replyTo">;

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

/** A reply received over RabbitMQ. */
export type AmqpReply = RequestReply;

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

/** A request served from a RabbitMQ queue. */
export interface AmqpIncomingRequest extends IncomingRequest {
  /** The routing key the request was published with. */
  readonly routingKey: string;
  /** True when RabbitMQ delivered it before (a responder stopped without settling it). */
  readonly redelivered: boolean;
}

/** Sends requests over RabbitMQ and waits for their replies (direct reply-to). */
export interface AmqpRequester {
  /**
   * Publishes `message` (mandatory, with `replyTo` = direct reply-to and its correlation id) and resolves with the
   * first reply carrying the same correlation id. The request expires in its queue after `timeoutMs` (AMQP
   * `expiration`), so a request nobody took in time is not answered later. Rejects with a {@link TransportError}:
   * `REPLY_TIMEOUT` when no reply came within `timeoutMs`, `UNROUTABLE` at once when RabbitMQ returned the request
   * (no queue bound for its routing key), `DESTINATION_NOT_FOUND` when the exchange does not exist,
   * `INVALID_OPTIONS` when `correlationId` is already waiting for a reply, `PUBLISH_REJECTED` when amqplib cannot
   * encode the message, `RABBITMQ_UNAVAILABLE` when not connected or the connection dropped before the reply,
   * `CLOSED` after {@link close}.
   */
  request(message: AmqpRequest, options: RequestOptions): Promise<AmqpReply>;
  /** Fails the requests still waiting with `CLOSED` and closes the channel. Idempotent; never rejects. */
  close(): Promise<void>;
}

/** Options of {@link createAmqpRequester}. */
export interface AmqpRequesterOptions {
  /** Where channel events are logged. Default: nowhere. */
  readonly logger?: TransportLogger;
}

/** Runs a responder until closed. */
export interface AmqpResponder {
  /**
   * Resolves when the queue is being consumed (the first `basic.consume` ok). Rejects with a {@link TransportError}
   * when the first attempt fails (`DESTINATION_NOT_FOUND`: no such queue; `RABBITMQ_UNAVAILABLE`); the responder
   * keeps trying in the background (with backoff) until {@link close}. Waits while RabbitMQ is not connected.
   */
  readonly ready: Promise<void>;
  /**
   * Stops consuming, waits (at most 5 s) for the handlers running, then closes the channel: requests still
   * unsettled go back to the queue. Idempotent; never rejects.
   */
  close(): Promise<void>;
}

/** Options of {@link serveAmqpRequests}. */
export interface AmqpResponderOptions {
  /** The queue of requests to consume (it must exist). */
  readonly queue: string;
  /** Most requests handled at once (`basic.qos`). Default: 16. */
  readonly prefetch?: number;
  /** Where channel events and failed handlers are logged. Default: nowhere. */
  readonly logger?: TransportLogger;
}

const DEFAULT_PREFETCH = 16;
const CLOSE_WAIT_MS = 5000;

/** What the requester keeps of a request waiting for its reply. */
interface PendingRequest {
  readonly message: AmqpRequest;
  /** The channel it was published on (undefined while waiting for one). */
  state: ChannelState | undefined;
}

interface ChannelState {
  readonly channel: Channel;
  readonly connection: ChannelModel;
  closed: boolean;
  closeError: (Error & { code?: number }) | undefined;
}

/**
 * Creates an {@link AmqpRequester} on `manager`'s connection. It keeps one channel that consumes direct reply-to
 * (no-ack) and publishes every request, as RabbitMQ requires both to happen on the same channel; the channel is
 * opened when the manager connects and re-opened after a reconnection or a channel error. A request to an exchange
 * not seen before on this connection checks the exchange first on a throwaway channel, so that one request to a
 * missing exchange (a 404 closes the channel) cannot fail the others waiting for their replies. Never throws.
 */
export function createAmqpRequester(manager: AmqpConnectionManager, options: AmqpRequesterOptions = {}): AmqpRequester {
  const logger = options.logger ?? silentLogger;
  const pending = new PendingReplies<AmqpReply, PendingRequest>();
  const knownExchanges = new WeakMap<ChannelModel, Set<string>>();
  const checking = new Map<string, Promise<void>>();
  let closed = false;

  const where = (message: AmqpRequest) => `exchange "${message.exchange}" (routing key "${message.routingKey}")`;

  const onChannelClosed = (state: ChannelState): void => {
    slot.markClosed(state);
    const error = state.closeError;
    const exchange = error?.code === 404 ? missingExchange(error.message) : undefined;
    for (const [correlationId, entry] of pending.entries()) {
      if (entry.state !== state) continue;
      // A reply can only come back on the channel that published the request: every request on it is lost.
      const failure =
        exchange !== undefined && entry.message.exchange === exchange
          ? new TransportError("DESTINATION_NOT_FOUND", `RabbitMQ exchange "${exchange}" does not exist`)
          : new TransportError(
              "RABBITMQ_UNAVAILABLE",
              `the RabbitMQ channel closed before the reply to the request for ${where(entry.message)} came` +
                (error ? `: ${error.message}` : " (connection lost)"),
              { cause: error },
            );
      pending.reject(correlationId, failure);
    }
  };

  const onReply = (state: ChannelState, reply: ConsumeMessage | null): void => {
    if (reply === null) {
      logger.warn({}, "RabbitMQ cancelled the direct reply-to consumer; re-opening the channel");
      state.channel.close().catch(() => {});
      return;
    }
    const correlationId: unknown = reply.properties.correlationId;
    if (typeof correlationId !== "string" || !pending.has(correlationId)) {
      // A reply after its request timed out, or to a request of another requester: nobody waits for it.
      logger.debug({ correlationId }, "RabbitMQ reply nobody waits for; dropped");
      return;
    }
    pending.resolve(correlationId, { body: reply.content, headers: deliveryHeaders(reply.properties) });
  };

  const openChannel = async (connection: ChannelModel): Promise<ChannelState> => {
    const channel = await connection.createChannel();
    const state: ChannelState = { channel, connection, closed: false, closeError: undefined };
    channel.on("error", (error: Error & { code?: number }) => {
      state.closeError = error;
      logger.warn({ err: error }, "RabbitMQ closed the requester channel");
    });
    channel.on("close", () => onChannelClosed(state));
    channel.on("return", (returned: ConsumeMessage) => {
      const correlationId: unknown = returned.properties.correlationId;
      const entry = typeof correlationId === "string" ? pending.context(correlationId) : undefined;
      if (!entry || typeof correlationId !== "string") return;
      const { replyCode, replyText } = returned.fields as unknown as { replyCode: number; replyText: string };
      pending.reject(
        correlationId,
        new TransportError(
          "UNROUTABLE",
          `RabbitMQ returned the request: no queue is bound to ${where(entry.message)} (${replyCode} ${replyText})`,
        ),
      );
    });
    // Direct reply-to: the consumer must exist before the first publish that names amq.rabbitmq.reply-to.
    await channel.consume(DIRECT_REPLY_TO, (reply) => onReply(state, reply), { noAck: true });
    return state;
  };

  const unavailable = (what: string, error: unknown) =>
    error instanceof TransportError
      ? error
      : new TransportError("RABBITMQ_UNAVAILABLE", `${what} on ${manager.redactedUrl}: ${describeError(error)}`, {
          cause: error,
        });

  const slot = new ChannelSlot(manager, openChannel, (error) =>
    unavailable("could not open the RabbitMQ requester channel", error),
  );

  /** Resolves once `exchange` is known to exist on the current connection; rejects `DESTINATION_NOT_FOUND`. */
  const checkExchange = (exchange: string): Promise<void> => {
    if (exchange === "") return Promise.resolve();
    let connection: ChannelModel;
    try {
      connection = manager.connection();
    } catch (error) {
      return Promise.reject(error);
    }
    let known = knownExchanges.get(connection);
    if (!known) {
      known = new Set();
      knownExchanges.set(connection, known);
    }
    if (known.has(exchange)) return Promise.resolve();
    let check = checking.get(exchange);
    if (!check) {
      const seen = known;
      check = (async () => {
        const probe = await connection.createChannel();
        // A missing exchange closes the probe channel with an 'error' event; the rejected call below reports it.
        probe.on("error", () => {});
        try {
          await probe.checkExchange(exchange);
          seen.add(exchange);
        } finally {
          await probe.close().catch(() => {});
        }
      })()
        .catch((error: unknown) => {
          if ((error as { code?: number }).code === 404) {
            throw new TransportError("DESTINATION_NOT_FOUND", `RabbitMQ exchange "${exchange}" does not exist`, {
              cause: error,
            });
          }
          throw unavailable(`could not check RabbitMQ exchange "${exchange}"`, error);
        })
        .finally(() => checking.delete(exchange));
      checking.set(exchange, check);
    }
    return check;
  };

  const publish = (correlationId: string, entry: PendingRequest, state: ChannelState, timeoutMs: number): void => {
    const { message } = entry;
    const publishOptions: Options.Publish = {
      ...amqpPublishOptions(message),
      // The reply channel does not survive a broker restart, so neither need the requests.
      persistent: false,
      correlationId,
      replyTo: DIRECT_REPLY_TO,
      // RabbitMQ takes whole milliseconds only (a fraction closes the channel with 406).
      expiration: String(Math.max(1, Math.ceil(timeoutMs))),
    };
    entry.state = state;
    try {
      state.channel.publish(message.exchange, message.routingKey, message.content, publishOptions);
    } catch (error) {
      const closing = (error as Error).name === "IllegalOperationError";
      pending.reject(
        correlationId,
        closing
          ? new TransportError("RABBITMQ_UNAVAILABLE", `the RabbitMQ requester channel was closing: try again`, {
              cause: error,
            })
          : new TransportError("PUBLISH_REJECTED", `invalid request for ${where(message)}: ${describeError(error)}`, {
              cause: error,
            }),
      );
    }
  };

  // Open the channel as soon as (and whenever) the manager is connected, so the first request does not wait for it.
  const unsubscribe = slot.openWhenConnected((error) =>
    logger.debug({ err: error }, "RabbitMQ requester channel not opened yet"),
  );

  return {
    request(message, requestOptions) {
      if (closed) return Promise.reject(new TransportError("CLOSED", "the RabbitMQ requester is closed"));
      const correlationId = message.correlationId ?? randomUUID();
      const { timeoutMs } = requestOptions;
      const entry: PendingRequest = { message, state: undefined };
      return pending.wait(correlationId, {
        context: entry,
        timeoutMs,
        timeoutError: () =>
          new TransportError(
            "REPLY_TIMEOUT",
            `no reply to the request for ${where(message)} within ${Math.round(timeoutMs)} ms`,
          ),
        send: () => {
          Promise.all([slot.get(), checkExchange(message.exchange)]).then(
            ([state]) => {
              if (pending.context(correlationId) !== entry) return;
              if (state.closed) {
                pending.reject(
                  correlationId,
                  new TransportError("RABBITMQ_UNAVAILABLE", "the RabbitMQ requester channel closed; try again"),
                );
                return;
              }
              publish(correlationId, entry, state, timeoutMs);
            },
            (error: unknown) => pending.reject(correlationId, unavailable("RabbitMQ request failed", error)),
          );
        },
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      pending.rejectAll(() => new TransportError("CLOSED", "the RabbitMQ requester was closed"));
      await slot.close();
    },
  };
}

/**
 * Serves the requests of `options.queue`: each request is handed to `handler`; its reply is published to the
 * default exchange with routing key = the request's `replyTo` (a queue name or a direct reply-to address) and the
 * request's correlation id, then the request is acked. A handler answering `null`, or a request without `replyTo`,
 * gets no reply (still acked). A handler that throws: the request is nacked without requeue (dead-lettered when the
 * queue has a dead-letter exchange, else dropped) and the error logged. Up to `prefetch` requests are handled at
 * once. The channel is re-opened after a reconnection, and after the server closed it or cancelled the consumer
 * (e.g. the queue was deleted), with backoff. Never throws.
 */
export function serveAmqpRequests(
  manager: AmqpConnectionManager,
  options: AmqpResponderOptions,
  handler: RequestHandler<AmqpIncomingRequest>,
): AmqpResponder {
  const logger = options.logger ?? silentLogger;
  const { queue } = options;
  const prefetch = options.prefetch ?? DEFAULT_PREFETCH;
  let current: { channel: Channel; connection: ChannelModel; consumerTag: string } | undefined;
  let starting: Promise<void> | undefined;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const running = new Set<Promise<void>>();

  let readyState: "waiting" | "done" = "waiting";
  let resolveReady: () => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A caller that never awaits `ready` must not get an unhandled rejection.
  ready.catch(() => {});

  const settleQuietly = (channel: Channel, message: ConsumeMessage, ack: boolean): void => {
    try {
      if (ack) channel.ack(message);
      else channel.nack(message, false, false);
    } catch (error) {
      // The channel closed meanwhile: RabbitMQ requeues the request by itself.
      logger.debug({ err: error }, "RabbitMQ responder channel closed before the request was settled");
    }
  };

  const serve = async (channel: Channel, message: ConsumeMessage): Promise<void> => {
    const properties = message.properties;
    const headers = deliveryHeaders(properties);
    const request: AmqpIncomingRequest = {
      body: message.content,
      headers,
      eventType: headers["event-type"],
      correlationId: headers["correlation-id"],
      replyTo: headers["reply-to"],
      routingKey: message.fields.routingKey,
      redelivered: message.fields.redelivered,
    };
    let reply: ReplyContent | null;
    try {
      reply = await handler(request);
    } catch (error) {
      logger.error(
        { err: error, queue, correlationId: request.correlationId, eventType: request.eventType },
        "request handler failed; the request is nacked without requeue",
      );
      settleQuietly(channel, message, false);
      return;
    }
    if (reply && request.replyTo === undefined) {
      logger.warn({ queue, correlationId: request.correlationId }, "request without reply-to: the reply is dropped");
    } else if (reply && request.replyTo !== undefined) {
      const publishOptions: Options.Publish = { messageId: randomUUID() };
      if (request.correlationId !== undefined) publishOptions.correlationId = request.correlationId;
      if (reply.type !== undefined) publishOptions.type = reply.type;
      if (reply.contentType !== undefined) publishOptions.contentType = reply.contentType;
      if (reply.headers) publishOptions.headers = { ...reply.headers };
      try {
        // Same channel as the ack below: RabbitMQ handles the publish before the ack.
        channel.publish("", request.replyTo, reply.content, publishOptions);
      } catch (error) {
        logger.warn({ err: error, queue }, "RabbitMQ responder channel closed before the reply was published");
        return;
      }
    }
    settleQuietly(channel, message, true);
  };

  const scheduleRetry = (): void => {
    if (closed || retryTimer) return;
    failures += 1;
    const delay = backoffDelay(failures, { initialDelayMs: 500, maxDelayMs: 10_000 });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      let connection: ChannelModel;
      try {
        connection = manager.connection();
      } catch {
        return; // not connected: onConnect starts it again.
      }
      start(connection);
    }, delay);
    retryTimer.unref();
  };

  const open = async (connection: ChannelModel): Promise<void> => {
    const channel = await connection.createChannel();
    channel.on("error", (error: Error) => logger.warn({ err: error, queue }, "RabbitMQ closed the responder channel"));
    channel.on("close", () => {
      if (current?.channel === channel) current = undefined;
      if (closed) return;
      // Not a lost connection (onConnect handles that): the server closed the channel or cancelled the consumer.
      if (manager.state === "connected") scheduleRetry();
    });
    try {
      await channel.prefetch(prefetch);
      const { consumerTag } = await channel.consume(
        queue,
        (message) => {
          if (message === null) {
            logger.warn({ queue }, "RabbitMQ cancelled the responder's consumer (queue deleted?); re-opening");
            channel.close().catch(() => {});
            return;
          }
          const task = serve(channel, message);
          running.add(task);
          void task.finally(() => running.delete(task));
        },
        { noAck: false },
      );
      current = { channel, connection, consumerTag };
    } catch (error) {
      await channel.close().catch(() => {});
      throw error;
    }
  };

  const start = (connection: ChannelModel): void => {
    if (closed || starting || (current && current.connection === connection)) return;
    starting = open(connection)
      .then(() => {
        failures = 0;
        if (readyState === "waiting") {
          readyState = "done";
          resolveReady();
        }
        logger.info({ queue, prefetch }, "serving RabbitMQ requests");
      })
      .catch((error: unknown) => {
        const failure =
          (error as { code?: number }).code === 404
            ? new TransportError("DESTINATION_NOT_FOUND", `RabbitMQ queue "${queue}" does not exist`, { cause: error })
            : new TransportError(
                "RABBITMQ_UNAVAILABLE",
                `could not consume RabbitMQ queue "${queue}": ${describeError(error)}`,
                { cause: error },
              );
        logger.warn({ err: failure, queue }, "RabbitMQ responder could not start; retrying");
        if (manager.state === "connected") scheduleRetry();
        if (readyState === "waiting") {
          readyState = "done";
          rejectReady(failure);
        }
      })
      .finally(() => {
        starting = undefined;
      });
  };

  const unsubscribe = manager.onConnect((connection) => start(connection));

  return {
    ready,
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearTimeout(retryTimer);
      await starting;
      const state = current;
      current = undefined;
      if (!state) return;
      await state.channel.cancel(state.consumerTag).catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, CLOSE_WAIT_MS);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      await state.channel.close().catch(() => {});
    },
  };
}
