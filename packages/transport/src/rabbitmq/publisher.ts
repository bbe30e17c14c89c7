import type { ChannelModel, ConfirmChannel, ConsumeMessage, Options } from "amqplib";
import { describeError, TransportError, type TransportErrorCode } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { ChannelSlot } from "./channel-slot.js";
import type { AmqpConnectionManager } from "./connection-manager.js";

/** One message to publish to RabbitMQ. Always sent persistent and mandatory. */
export interface AmqpMessage {
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  /** Identifies the message; also how a returned (unroutable) message is matched to its publish. */
  readonly messageId: string;
  /**
   * AMQP headers. Usually text; any value amqplib can encode is accepted (numbers, booleans, Buffers, arrays,
   * tables, `{ "!": "timestamp", value }`), so a consumer can republish a delivery's headers as it received them.
   */
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly contentType?: string;
  readonly correlationId?: string;
  readonly replyTo?: string;
  /** 0–255; only queues declared with `x-max-priority` honour it. */
  readonly priority?: number;
  /** Seconds since the epoch (AMQP's unit). */
  readonly timestamp?: number;
  readonly type?: string;
}

/** Options of one {@link AmqpPublisher.publish} or {@link AmqpPublisher.publishMany} call. */
export interface AmqpPublishOptions {
  /** Upper bound of the whole call (channel opening, publishing, confirmation), in ms. Default: 10000. */
  readonly timeoutMs?: number;
}

/**
 * Publishes to RabbitMQ on one confirm channel, confirms pipelined: every publish goes out at once with its own
 * confirm callback, never waiting for the previous confirm. Survives channels closed by the server and lost
 * connections (a new channel is opened on the manager's current connection).
 */
export interface AmqpPublisher {
  /**
   * Resolves only after RabbitMQ confirmed the message (confirm channel, `persistent`, `mandatory`). Rejects with
   * a {@link TransportError}: `UNROUTABLE` when RabbitMQ returned it (no queue bound for the routing key),
   * `DESTINATION_NOT_FOUND` when the exchange does not exist, `NACKED` when RabbitMQ nacked it,
   * `PUBLISH_REJECTED` when RabbitMQ closed the channel over it (403, 406: e.g. too large),
   * `RABBITMQ_UNAVAILABLE` when not connected or the connection was lost before the confirm, `TIMEOUT` after
   * `timeoutMs` (default 10000; the message may still be delivered), `CLOSED` after {@link close}.
   * Messages that were in flight on a channel closed because of another message are published again on the new
   * channel (at least once: a duplicate, with the same `messageId`, is possible).
   */
  publish(message: AmqpMessage, options?: AmqpPublishOptions): Promise<void>;
  /** Publishes every message (pipelined) and resolves when all are confirmed, or rejects with the first error. */
  publishMany(messages: readonly AmqpMessage[], options?: AmqpPublishOptions): Promise<void>;
  /** Waits for the publishes in flight (each bounded by its timeout), then closes the channel. Never rejects. */
  close(): Promise<void>;
}

/** Options of {@link createAmqpPublisher}. */
export interface AmqpPublisherOptions {
  /** Where channel events are logged. Default: nowhere. */
  readonly logger?: TransportLogger;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** How many times a message is published again after its channel was closed because of another message. */
const MAX_REPUBLISH = 3;

interface Entry {
  readonly message: AmqpMessage;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  settled: boolean;
  /** basic.return seen for this publish (the ack that follows must reject it). */
  returned: { replyCode: number; replyText: string } | undefined;
  attempts: number;
}

interface ChannelState {
  readonly channel: ConfirmChannel;
  readonly connection: ChannelModel;
  /** Unconfirmed publishes, in publish order. */
  readonly entries: Set<Entry>;
  /** Unconfirmed publishes by messageId, oldest first, to match basic.return. */
  readonly byId: Map<string, Entry[]>;
  closed: boolean;
  closeError: (Error & { code?: number }) | undefined;
}

/** The {@link TransportError} code for the AMQP reply code a server closed a channel with. */
export function amqpCloseCode(replyCode: number | undefined): TransportErrorCode {
  if (replyCode === 404) return "DESTINATION_NOT_FOUND";
  if (replyCode === 403 || replyCode === 406) return "PUBLISH_REJECTED";
  return "RABBITMQ_UNAVAILABLE";
}

/** The exchange a RabbitMQ 404 names (`NOT_FOUND - no exchange 'x' in vhost '/'`), or undefined. */
export function missingExchange(closeMessage: string): string | undefined {
  return /no exchange '((?:[^']|'(?! in vhost))*)' in vhost/.exec(closeMessage)?.[1];
}

/** amqplib's publish options for `message`: always persistent and mandatory. */
export function amqpPublishOptions(message: AmqpMessage): Options.Publish {
  const options: Options.Publish = { persistent: true, mandatory: true, messageId: message.messageId };
  if (message.headers) options.headers = { ...message.headers };
  if (message.contentType !== undefined) options.contentType = message.contentType;
  if (message.correlationId !== undefined) options.correlationId = message.correlationId;
  if (message.replyTo !== undefined) options.replyTo = message.replyTo;
  if (message.priority !== undefined) options.priority = message.priority;
  if (message.timestamp !== undefined) options.timestamp = message.timestamp;
  if (message.type !== undefined) options.type = message.type;
  return options;
}

/**
 * Creates an {@link AmqpPublisher} on `manager`'s connection. The confirm channel is opened on the first publish
 * (and after each reconnection, when the manager reports one), replaced whenever the server or a lost connection
 * closes it. Every channel 'error' is handled, so a channel error never crashes the process. Never throws.
 */
export function createAmqpPublisher(manager: AmqpConnectionManager, options: AmqpPublisherOptions = {}): AmqpPublisher {
  const logger = options.logger ?? silentLogger;
  let closed = false;
  const pending = new Set<Promise<void>>();

  const settle = (entry: Entry, error?: Error): void => {
    if (entry.settled) return;
    entry.settled = true;
    clearTimeout(entry.timer);
    if (error) entry.reject(error);
    else entry.resolve();
  };

  const forget = (state: ChannelState, entry: Entry): void => {
    state.entries.delete(entry);
    const list = state.byId.get(entry.message.messageId);
    if (!list) return;
    const index = list.indexOf(entry);
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) state.byId.delete(entry.message.messageId);
  };

  const where = (message: AmqpMessage) => `exchange "${message.exchange}" (routing key "${message.routingKey}")`;

  const onChannelClosed = (state: ChannelState): void => {
    slot.markClosed(state);
    const orphans = [...state.entries];
    state.entries.clear();
    state.byId.clear();
    if (orphans.length === 0) return;
    const error = state.closeError;
    if (!error) {
      for (const entry of orphans) {
        settle(
          entry,
          new TransportError(
            "RABBITMQ_UNAVAILABLE",
            `the RabbitMQ connection was lost before ${where(entry.message)} confirmed the message`,
          ),
        );
      }
      return;
    }
    const code = amqpCloseCode(error.code);
    const exchange = error.code === 404 ? missingExchange(error.message) : undefined;
    // A 404 names its exchange: only the messages for it are at fault; the others go out on a new channel.
    const innocent = new Set(orphans.filter((entry) => exchange !== undefined && entry.message.exchange !== exchange));
    logger.info(
      { failed: orphans.length - innocent.size, republished: innocent.size, replyCode: error.code },
      "RabbitMQ publisher channel closed with unconfirmed messages",
    );
    for (const entry of orphans) {
      if (innocent.has(entry)) {
        republish(entry);
        continue;
      }
      const text =
        code === "DESTINATION_NOT_FOUND"
          ? `RabbitMQ exchange "${entry.message.exchange}" does not exist`
          : `RabbitMQ closed the channel while publishing to ${where(entry.message)}`;
      settle(entry, new TransportError(code, `${text}: ${error.message}`, { cause: error }));
    }
  };

  const openChannel = async (connection: ChannelModel): Promise<ChannelState> => {
    const channel = await connection.createConfirmChannel();
    const state: ChannelState = {
      channel,
      connection,
      entries: new Set(),
      byId: new Map(),
      closed: false,
      closeError: undefined,
    };
    channel.on("error", (error: Error & { code?: number }) => {
      state.closeError = error;
      logger.warn({ err: error }, "RabbitMQ closed the publisher channel");
    });
    channel.on("close", () => onChannelClosed(state));
    channel.on("return", (returned: ConsumeMessage) => {
      const messageId: unknown = returned.properties.messageId;
      const list = typeof messageId === "string" ? state.byId.get(messageId) : undefined;
      const entry = list?.find((candidate) => !candidate.returned);
      if (!entry) {
        logger.warn({ messageId }, "RabbitMQ returned a message this publisher does not know");
        return;
      }
      const { replyCode, replyText } = returned.fields as unknown as { replyCode: number; replyText: string };
      entry.returned = { replyCode, replyText };
    });
    return state;
  };

  const slot = new ChannelSlot(
    manager,
    openChannel,
    (error) =>
      new TransportError(
        "RABBITMQ_UNAVAILABLE",
        `could not open a RabbitMQ confirm channel on ${manager.redactedUrl}: ${describeError(error)}`,
        { cause: error },
      ),
  );

  const publishOn = (state: ChannelState, entry: Entry): void => {
    const { message } = entry;
    state.entries.add(entry);
    const list = state.byId.get(message.messageId);
    if (list) list.push(entry);
    else state.byId.set(message.messageId, [entry]);
    try {
      state.channel.publish(
        message.exchange,
        message.routingKey,
        message.content,
        amqpPublishOptions(message),
        (error: unknown) => {
          // A closed channel calls back with an error for every unconfirmed message; its 'close' handler
          // (which runs next) decides what each of them gets, knowing why the channel closed.
          if (error && (error as Error).message !== "message nacked") return;
          forget(state, entry);
          if (error) {
            settle(entry, new TransportError("NACKED", `RabbitMQ nacked the message for ${where(message)}`));
          } else if (entry.returned) {
            settle(
              entry,
              new TransportError(
                "UNROUTABLE",
                `RabbitMQ returned the message: no queue is bound to ${where(message)} ` +
                  `(${entry.returned.replyCode} ${entry.returned.replyText})`,
              ),
            );
          } else {
            settle(entry);
          }
        },
      );
    } catch (error) {
      forget(state, entry);
      if ((error as Error).name !== "IllegalOperationError") {
        // amqplib could not encode the message (e.g. a priority above 255): the message is at fault.
        settle(
          entry,
          new TransportError("PUBLISH_REJECTED", `invalid message for ${where(message)}: ${describeError(error)}`, {
            cause: error,
          }),
        );
        return;
      }
      // The channel was closing (amqplib throws synchronously): try again on a new one.
      slot.markClosed(state);
      logger.debug({ err: error }, "RabbitMQ publisher channel was closing; publishing on a new one");
      republish(entry);
    }
  };

  const send = (entry: Entry): void => {
    if (entry.settled) return;
    slot.get().then(
      (state) => {
        if (!entry.settled) publishOn(state, entry);
      },
      (error: unknown) =>
        settle(
          entry,
          error instanceof TransportError
            ? error
            : new TransportError("RABBITMQ_UNAVAILABLE", describeError(error), { cause: error }),
        ),
    );
  };

  const republish = (entry: Entry): void => {
    entry.attempts += 1;
    entry.returned = undefined;
    if (entry.attempts > MAX_REPUBLISH) {
      settle(
        entry,
        new TransportError(
          "RABBITMQ_UNAVAILABLE",
          `RabbitMQ channel kept closing while publishing to ${where(entry.message)}`,
        ),
      );
      return;
    }
    send(entry);
  };

  const publish = (message: AmqpMessage, timeoutMs: number): Promise<void> => {
    if (closed) return Promise.reject(new TransportError("CLOSED", "the RabbitMQ publisher is closed"));
    const promise = new Promise<void>((resolve, reject) => {
      const entry: Entry = {
        message,
        resolve,
        reject,
        settled: false,
        returned: undefined,
        attempts: 0,
        timer: setTimeout(() => {
          settle(
            entry,
            new TransportError(
              "TIMEOUT",
              `RabbitMQ did not confirm the message for ${where(message)} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      };
      entry.timer.unref();
      send(entry);
    });
    pending.add(promise);
    const done = () => pending.delete(promise);
    promise.then(done, done);
    return promise;
  };

  // Open the channel as soon as (and whenever) the manager is connected, so the first publish does not wait for it.
  const unsubscribe = slot.openWhenConnected((error) =>
    logger.debug({ err: error }, "RabbitMQ publisher channel not opened yet"),
  );

  return {
    publish(message, publishOptions = {}) {
      return publish(message, publishOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    },
    async publishMany(messages, publishOptions = {}) {
      const timeoutMs = publishOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      await Promise.all(messages.map((message) => publish(message, timeoutMs)));
    },
    async close() {
      if (closed) return;
      closed = true;
      unsubscribe();
      await Promise.allSettled([...pending]);
      await slot.close();
    },
  };
}
