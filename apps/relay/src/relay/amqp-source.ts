import type { AmqpConnectionManager } from "@kronos/transport";
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import type { FastifyBaseLogger } from "fastify";
import { type Envelope, fromAmqp } from "./envelope.js";
import type { Outcome } from "./runner.js";

/** Options of {@link AmqpSource}. */
export interface AmqpSourceOptions {
  readonly manager: AmqpConnectionManager;
  readonly queue: string;
  /** Unacked messages in flight at most (all relayed at once, confirms pipelined). */
  readonly prefetch: number;
  readonly log: FastifyBaseLogger;
  /** Declares the queue and its bindings (idempotent): before each consume, so a deleted queue comes back. */
  readonly declare: () => Promise<unknown>;
  readonly handle: (envelope: Envelope, message: ConsumeMessage) => Promise<Outcome>;
  readonly onRetry: (reason: string) => void;
}

/**
 * Consumes a queue with manual acks, on a channel of the manager's connection opened again after every
 * reconnection. A message is acked once its outcome is known (relayed: only after the destination confirmed it) and
 * given back (`nack`, requeue) when it must be tried again. Competing consumers share the queue across instances.
 *
 * amqplib is used here, not `createAmqpSubscription`, because a transport `Delivery` has headers as text only.
 */
export class AmqpSource {
  readonly #options: AmqpSourceOptions;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  #paused = false;
  #closed = false;
  #opening = false;
  #unsubscribe: (() => void) | undefined;

  constructor(options: AmqpSourceOptions) {
    this.#options = options;
  }

  /** Starts consuming on every (re)connection. */
  start(): void {
    this.#unsubscribe = this.#options.manager.onConnect((connection) => void this.#open(connection));
  }

  async #open(connection: ChannelModel): Promise<void> {
    if (this.#closed || this.#opening || this.#channel) return;
    this.#opening = true;
    try {
      const channel = await connection.createChannel();
      channel.on("error", (error: Error) =>
        this.#options.log.warn({ queue: this.#options.queue, error: error.message }, "source channel error"),
      );
      channel.on("close", () => {
        if (this.#channel !== channel) return;
        this.#channel = undefined;
        this.#consumerTag = undefined;
        // Closed by the server (e.g. the queue was deleted) while the connection lives on: open a new one soon.
        // After a lost connection the manager's onConnect does it.
        setTimeout(() => this.#reopen(), 1000);
      });
      await this.#options.declare();
      await channel.prefetch(this.#options.prefetch);
      this.#channel = channel;
      if (!this.#paused) await this.#consume(channel);
    } catch (error) {
      this.#options.log.warn(
        { queue: this.#options.queue, error: String(error) },
        "could not consume the source queue",
      );
      setTimeout(() => this.#reopen(), 5000);
    } finally {
      this.#opening = false;
    }
  }

  #reopen(): void {
    if (this.#closed || this.#channel) return;
    try {
      void this.#open(this.#options.manager.connection());
    } catch {
      // Not connected: the manager's onConnect opens the channel once it is.
    }
  }

  async #consume(channel: Channel): Promise<void> {
    const { consumerTag } = await channel.consume(this.#options.queue, (message) => {
      if (message) {
        void this.#deliver(channel, message);
        return;
      }
      // Cancelled by the server (the queue was deleted): a new channel declares it again and consumes.
      this.#options.log.warn({ queue: this.#options.queue }, "source queue consumer cancelled by RabbitMQ");
      void channel.close().catch(() => {});
    });
    this.#consumerTag = consumerTag;
  }

  async #deliver(channel: Channel, message: ConsumeMessage): Promise<void> {
    const outcome = await this.#options.handle(fromAmqp(message), message);
    try {
      if (typeof outcome === "object") {
        this.#options.onRetry(outcome.retry);
        channel.nack(message, false, true);
      } else channel.ack(message);
    } catch {
      // The channel is gone: RabbitMQ requeues what was unacked on it.
    }
  }

  /** Stops taking messages (cancels the consumer; those in hand are still settled). */
  pause(): void {
    this.#paused = true;
    const channel = this.#channel;
    const tag = this.#consumerTag;
    this.#consumerTag = undefined;
    if (channel && tag) void channel.cancel(tag).catch(() => {});
  }

  resume(): void {
    this.#paused = false;
    const channel = this.#channel;
    if (channel && this.#consumerTag === undefined) {
      void this.#consume(channel).catch((error: unknown) =>
        this.#options.log.warn(
          { queue: this.#options.queue, error: String(error) },
          "could not resume the source queue",
        ),
      );
    }
  }

  /** Closes the channel; unacked messages go back to the queue. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    await this.#channel?.close().catch(() => {});
  }
}
