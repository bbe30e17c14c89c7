import { backoffDelay } from "../backoff.js";
import type { Delivery, Subscription } from "../consume/delivery.js";
import { CONSUME_ERROR_CODES } from "../consume/policy.js";
import { describeError, TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import type { ConsumeMetrics } from "../metrics/consume.js";
import { answerRequest, incomingRequest, type OutgoingReply } from "../rpc/answer.js";
import { RequestsInHand } from "../rpc/in-hand.js";
import type { IncomingRequest, RequestHandler } from "../rpc/types.js";
import type { AmqpConnectionManager } from "./connection-manager.js";
import { createAmqpSubscription } from "./consumer.js";
import { type AmqpMessage, createAmqpPublisher } from "./publisher.js";

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
   * when the first attempt fails (`DESTINATION_NOT_FOUND`: no such queue; `RABBITMQ_UNAVAILABLE`;
   * `INVALID_OPTIONS`: a `prefetch` outside 1..1000, never tried again); the responder keeps trying in the
   * background (with backoff) until {@link close}. Waits while RabbitMQ is not connected.
   */
  readonly ready: Promise<void>;
  /**
   * Stops taking requests, waits (at most 5 s) for the handlers running (their replies are sent and their requests
   * settled), then closes the subscription: requests still unsettled go back to the queue. Idempotent; never
   * rejects.
   */
  close(): Promise<void>;
}

/** Options of {@link serveAmqpRequests}. */
export interface AmqpResponderOptions {
  /** The queue of requests to consume (it must exist). */
  readonly queue: string;
  /** Most requests handled at once (`basic.qos`, 1..1000). Default: 16. */
  readonly prefetch?: number;
  /** Where the responder's subscription records its consumer metrics (`createConsumeMetrics`). Default: none. */
  readonly metrics?: ConsumeMetrics;
  /** Where channel events and failed handlers are logged. Default: nowhere. */
  readonly logger?: TransportLogger;
}

const DEFAULT_PREFETCH = 16;
const CLOSE_WAIT_MS = 5000;
/** The responder's subscription: its consumer tag prefix and the group its metrics are labelled with. */
const CONSUMER_NAME = "kronos-responder";

/** The reply as an {@link AmqpMessage} to the default exchange, routing key = the request's `replyTo`. */
function replyMessage(replyTo: string, reply: OutgoingReply): AmqpMessage {
  return {
    exchange: "",
    routingKey: replyTo,
    content: reply.content,
    messageId: reply.messageId,
    headers: reply.headers,
    ...(reply.correlationId === undefined ? {} : { correlationId: reply.correlationId }),
    ...(reply.type === undefined ? {} : { type: reply.type }),
    ...(reply.contentType === undefined ? {} : { contentType: reply.contentType }),
  };
}

/**
 * Serves the requests of `options.queue` on a RabbitMQ subscription (`createAmqpSubscription`: manual acks,
 * `prefetch`, re-consuming after reconnections and after the server closed the channel or cancelled the consumer).
 * Each request is handed to `handler`; its reply is published (confirmed, on a publisher of the responder's own)
 * to the default exchange with routing key = the request's `replyTo` (a queue name or a direct reply-to address)
 * and the request's correlation id, then the request is acked. A handler answering `null`, or a request without
 * `replyTo`, gets no reply (still acked); a reply that cannot be published is logged and the request acked all
 * the same (its requester times out). A handler that throws: the request is nacked without requeue (the
 * subscription's `deadLetter: "queue-policy"`: dead-lettered by the queue's own dead-letter exchange when it has
 * one, else dropped), and the error logged; requests are never retried (no retry tiers). Never throws.
 */
export function serveAmqpRequests(
  manager: AmqpConnectionManager,
  options: AmqpResponderOptions,
  handler: RequestHandler<AmqpIncomingRequest>,
): AmqpResponder {
  const logger = options.logger ?? silentLogger;
  const { queue } = options;
  const prefetch = options.prefetch ?? DEFAULT_PREFETCH;
  const publisher = createAmqpPublisher(manager, { logger });
  const inHand = new RequestsInHand();
  let subscription: Subscription | undefined;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  let readyState: "waiting" | "done" = "waiting";
  let resolveReady: () => void = () => {};
  let rejectReady: (error: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A caller that never awaits `ready` must not get an unhandled rejection.
  ready.catch(() => {});
  const settleReady = (error?: Error): void => {
    if (readyState === "done") return;
    readyState = "done";
    if (error) rejectReady(error);
    else resolveReady();
  };

  const serve = async (delivery: Delivery): Promise<void> => {
    const request: AmqpIncomingRequest = {
      ...incomingRequest(delivery.body, delivery.headers),
      routingKey: delivery.key ?? "",
      redelivered: delivery.redelivered,
    };
    const answer = await answerRequest(request, handler, logger, { queue });
    if (answer.outcome === "failed") {
      logger.error(
        { err: answer.error, queue, correlationId: request.correlationId, eventType: request.eventType },
        "request handler failed; the request is nacked without requeue",
      );
      await delivery
        .deadLetter("rejected", { code: CONSUME_ERROR_CODES.handlerFailed, message: describeError(answer.error) })
        .catch((error: unknown) => logger.debug({ err: error, queue }, "the failed request was not nacked"));
      return;
    }
    if (answer.outcome === "reply") {
      try {
        await publisher.publish(replyMessage(answer.replyTo, answer.reply));
      } catch (error) {
        logger.warn({ err: error, queue, replyTo: answer.replyTo }, "could not publish the reply");
      }
    }
    // A no-op when the channel it came on is gone (RabbitMQ requeued the request).
    await delivery.ack().catch((error: unknown) => logger.debug({ err: error, queue }, "request not acked"));
  };

  const start = (): void => {
    if (closed || subscription || retryTimer) return;
    try {
      manager.connection();
    } catch {
      return; // Not connected: the manager's onConnect starts it.
    }
    let current: Subscription;
    try {
      current = createAmqpSubscription(
        manager,
        {
          queue,
          prefetch,
          consumerName: CONSUMER_NAME,
          retryTiersMs: [],
          deadLetter: "queue-policy",
          ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
          logger,
        },
        (delivery) => inHand.add(serve(delivery)),
      );
    } catch (error) {
      // INVALID_OPTIONS: trying again cannot help.
      settleReady(error as Error);
      return;
    }
    subscription = current;
    current.ready.then(
      () => {
        failures = 0;
        settleReady();
        logger.info({ queue, prefetch }, "serving RabbitMQ requests");
      },
      (error: unknown) => {
        // A subscription whose ready rejected is closed: a new one, with backoff.
        if (subscription === current) subscription = undefined;
        if (closed) return;
        const failure =
          error instanceof TransportError
            ? error
            : new TransportError("RABBITMQ_UNAVAILABLE", describeError(error), { cause: error });
        logger.warn({ err: failure, queue }, "RabbitMQ responder could not start; retrying");
        settleReady(failure);
        failures += 1;
        retryTimer = setTimeout(
          () => {
            retryTimer = undefined;
            start();
          },
          backoffDelay(failures, { initialDelayMs: 500, maxDelayMs: 10_000 }),
        );
        retryTimer.unref();
      },
    );
  };

  const unsubscribe = manager.onConnect(() => start());

  return {
    ready,
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      clearTimeout(retryTimer);
      const current = subscription;
      subscription = undefined;
      // Hold back what RabbitMQ sends meanwhile (requeued on close), let the handlers running finish and settle.
      current?.pause();
      await inHand.finished(CLOSE_WAIT_MS);
      await current?.close();
      await publisher.close();
    },
  };
}
