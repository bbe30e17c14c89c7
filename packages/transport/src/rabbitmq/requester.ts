import { randomUUID } from "node:crypto";
import type { Channel, ChannelModel, ConsumeMessage, Options } from "amqplib";
import { describeError, TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { PendingReplies } from "../pending-replies.js";
import type { RequestOptions, RequestReply } from "../rpc/types.js";
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

/** A reply received over RabbitMQ. */
export type AmqpReply = RequestReply;

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
