import type { Message } from "amqplib";
import { amqpReplyCode, amqpReplyText, onThrowawayChannel, unexpectedReply } from "../admin/amqp-channel.js";
import { deadLetterExchangeName, deadLetterQueueName } from "../admin/queue-plan.js";
import type { RabbitManagementClient } from "../admin/rabbitmq-management.js";
import { ensureBinding, ensureExchange, ensureQueue } from "../admin/rabbitmq-queues.js";
import { TransportError } from "../errors.js";
import type { TransportLogger } from "../logger.js";
import type { AmqpConnectionManager } from "./connection-manager.js";
import {
  type DeadLetterCopyContext,
  type DeadLetterTarget,
  deadLetterCopy,
  type RetryCopyContext,
  retryCopy,
  retryQueueDeclaration,
} from "./consumer-message.js";
import { type AmqpMessage, type AmqpPublisher, createAmqpPublisher } from "./publisher.js";

/** Options of {@link createRetryPath}. */
export interface RetryPathOptions {
  /** The source queue. */
  readonly queue: string;
  /** Fixed dead-letter target; when absent it is resolved through `management` (see {@link RetryPath}). */
  readonly deadLetter?: { readonly exchange: string; readonly routingKey: string } | undefined;
  readonly management?: RabbitManagementClient | undefined;
  readonly logger: TransportLogger;
}

/**
 * Where one queue's failed messages go: copies published (confirmed, mandatory) to its delay queues and to its
 * dead letters. The caller acks the original only after these resolve, so a crash in between costs a duplicate,
 * never a loss.
 */
export interface RetryPath {
  /**
   * Publishes the retry copy of `message` (see `retryCopy`) to the delay queue `<queue>.retry.<tierMs>`, declared
   * first if this path has not seen it yet. Rejects with the publisher's {@link TransportError}s
   * (`RABBITMQ_UNAVAILABLE`, `TIMEOUT`, `NACKED`, ...) or the declaration's.
   */
  retry(message: Message, context: Omit<RetryCopyContext, "queue">): Promise<void>;
  /**
   * Publishes the dead letter of `message` (see `deadLetterCopy`) to the queue's dead-letter target, resolved on
   * the first call. Rejects with `UNROUTABLE` when no queue is bound there for its routing key,
   * `DESTINATION_NOT_FOUND` when the exchange does not exist, `MANAGEMENT_UNAVAILABLE` when the target could not
   * be looked up, or the publisher's other errors. A failed resolution is tried again on the next call. Resolves
   * with the exchange it went to.
   */
  deadLetter(message: Message, context: Omit<DeadLetterCopyContext, "queue">): Promise<string>;
  /** Waits for the publishes in flight and closes the publisher. Never rejects. */
  close(): Promise<void>;
}

/**
 * Creates the {@link RetryPath} of `options.queue`, with its own {@link AmqpPublisher}, created on the first copy (a
 * confirm channel apart from the consumer's channel, so a refused publish never closes the channel deliveries are
 * acked on).
 *
 * Delay queues are declared lazily on throwaway channels, once per tier (cached): a durable classic queue with the
 * arguments `planQueue` gives. A 406 (the queue exists with other arguments, e.g. declared as a quorum queue by
 * `declareQueue`) means it exists: it is used as it is. When a cached delay queue has been deleted since (the copy
 * comes back UNROUTABLE), it is declared again and the copy published once more.
 *
 * The dead-letter target is resolved once, lazily: `options.deadLetter` when given; else the queue's own
 * `x-dead-letter-exchange` (with its `x-dead-letter-routing-key`, or each message's original routing key) as the
 * management API reports it; else (no dead-lettering configured, or no management client) the layout
 * `declareQueue` makes, declared here if missing: a topic exchange `<queue>.dlx` and a queue `<queue>.dlq` bound
 * with the key `<queue>`, of the source queue's type when known.
 */
export function createRetryPath(manager: AmqpConnectionManager, options: RetryPathOptions): RetryPath {
  const { queue, logger } = options;
  // Created on the first copy: a subscription that never retries nor dead-letters holds no second channel.
  let publisher: AmqpPublisher | undefined;
  let closed = false;
  const publish = (copy: AmqpMessage): Promise<void> => {
    if (closed) return Promise.reject(new TransportError("CLOSED", `the retry path of queue "${queue}" is closed`));
    publisher ??= createAmqpPublisher(manager, { logger });
    return publisher.publish(copy);
  };
  const retryQueues = new Map<number, Promise<void>>();
  let target: Promise<DeadLetterTarget> | undefined;

  const declareRetryQueue = (tierMs: number): Promise<void> => {
    const cached = retryQueues.get(tierMs);
    if (cached) return cached;
    const declaration = retryQueueDeclaration(queue, tierMs);
    const what = `RabbitMQ declaration of retry queue "${declaration.name}"`;
    const declared = onThrowawayChannel(manager, what, (channel) =>
      channel.assertQueue(declaration.name, { durable: declaration.durable, arguments: { ...declaration.arguments } }),
    ).then(
      () => undefined,
      (error: unknown) => {
        if (amqpReplyCode(error) === 406) {
          logger.debug({ queue: declaration.name, reason: amqpReplyText(error) }, "retry queue exists as declared");
          return;
        }
        retryQueues.delete(tierMs);
        throw unexpectedReply(error, what);
      },
    );
    retryQueues.set(tierMs, declared);
    return declared;
  };

  const resolveTarget = async (): Promise<DeadLetterTarget> => {
    if (options.deadLetter) return { exchange: options.deadLetter.exchange, routingKey: options.deadLetter.routingKey };
    const info = options.management ? await options.management.getQueue(queue) : undefined;
    if (info && info.deadLetterExchange !== null) {
      return { exchange: info.deadLetterExchange, routingKey: info.deadLetterRoutingKey ?? undefined };
    }
    const exchange = deadLetterExchangeName(queue);
    const dlq = deadLetterQueueName(queue);
    const type = info?.type === "quorum" ? "quorum" : "classic";
    await existingIsFine(ensureExchange(manager, exchange, "topic"));
    await existingIsFine(ensureQueue(manager, { name: dlq, durable: true, arguments: { "x-queue-type": type } }));
    await ensureBinding(manager, dlq, exchange, queue);
    logger.info({ queue, exchange, deadLetterQueue: dlq }, "dead letters go to the default dead-letter layout");
    return { exchange, routingKey: queue };
  };

  // A DLX or DLQ that exists with other settings (type, arguments) still takes dead letters; the mandatory publish
  // finds out whether it routes.
  const existingIsFine = async (declaration: Promise<unknown>): Promise<void> => {
    try {
      await declaration;
    } catch (error) {
      if (!(error instanceof TransportError && error.code === "QUEUE_CONFLICT")) throw error;
      logger.warn({ err: error, queue }, "dead-letter object exists with other settings; using it as it is");
    }
  };

  const deadLetterTarget = (): Promise<DeadLetterTarget> => {
    if (!target) {
      target = resolveTarget().catch((error: unknown) => {
        target = undefined;
        throw error;
      });
    }
    return target;
  };

  const publishRetry = async (copy: AmqpMessage, tierMs: number): Promise<void> => {
    await declareRetryQueue(tierMs);
    try {
      await publish(copy);
    } catch (error) {
      if (!(error instanceof TransportError && error.code === "UNROUTABLE")) throw error;
      // The cached delay queue was deleted since: declare it again and send the copy once more.
      logger.warn({ queue, tierMs }, "retry queue vanished; declaring it again");
      retryQueues.delete(tierMs);
      await declareRetryQueue(tierMs);
      await publish(copy);
    }
  };

  return {
    retry(message, context) {
      return publishRetry(retryCopy(message, { ...context, queue }), context.tierMs);
    },
    async deadLetter(message, context) {
      const resolved = await deadLetterTarget();
      await publish(deadLetterCopy(message, resolved, { ...context, queue }));
      return resolved.exchange;
    },
    async close() {
      closed = true;
      await publisher?.close();
    },
  };
}
