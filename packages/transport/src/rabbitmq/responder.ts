import type { Channel, ChannelModel, ConsumeMessage, Options } from "amqplib";
import { backoffDelay } from "../backoff.js";
import { describeError, TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { answerRequest, incomingRequest } from "../rpc/answer.js";
import type { IncomingRequest, RequestHandler } from "../rpc/types.js";
import type { AmqpConnectionManager } from "./connection-manager.js";
import { deliveryHeaders } from "./consumer-message.js";

/** A request served from a RabbitMQ queue. */
export interface AmqpIncomingRequest extends IncomingRequest {
  /** The routing key the request was published with. */
  readonly routingKey: string;
  /** True when RabbitMQ delivered it before (a responder stopped without settling it). */
  readonly redelivered: boolean;
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
    const request: AmqpIncomingRequest = {
      ...incomingRequest(message.content, deliveryHeaders(message.properties)),
      routingKey: message.fields.routingKey,
      redelivered: message.fields.redelivered,
    };
    const answer = await answerRequest(request, handler, logger, { queue });
    if (answer.outcome === "failed") {
      logger.error(
        { err: answer.error, queue, correlationId: request.correlationId, eventType: request.eventType },
        "request handler failed; the request is nacked without requeue",
      );
      settleQuietly(channel, message, false);
      return;
    }
    if (answer.outcome === "reply") {
      const { reply } = answer;
      const publishOptions: Options.Publish = { messageId: reply.messageId, headers: reply.headers };
      if (reply.correlationId !== undefined) publishOptions.correlationId = reply.correlationId;
      if (reply.type !== undefined) publishOptions.type = reply.type;
      if (reply.contentType !== undefined) publishOptions.contentType = reply.contentType;
      try {
        // Same channel as the ack below: RabbitMQ handles the publish before the ack.
        channel.publish("", answer.replyTo, reply.content, publishOptions);
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
