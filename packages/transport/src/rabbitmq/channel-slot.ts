import type { ChannelModel } from "amqplib";
import type { AmqpConnectionManager } from "./connection-manager.js";

/** What a {@link ChannelSlot} needs to know of each channel it holds. */
export interface SlotChannel {
  readonly channel: { close(): Promise<void> };
  /** The connection the channel is on. */
  readonly connection: ChannelModel;
  /** Set by {@link ChannelSlot.markClosed} once the channel closed. */
  closed: boolean;
}

/**
 * Internal to @kronos/transport: the one channel a RabbitMQ publisher or requester keeps on its manager's current
 * connection. The channel is opened on demand, once for every caller waiting meanwhile, and replaced when it closed
 * or the manager reconnected.
 */
export class ChannelSlot<State extends SlotChannel> {
  readonly #manager: AmqpConnectionManager;
  readonly #open: (connection: ChannelModel) => Promise<State>;
  readonly #openFailure: (error: unknown) => Error;
  #current: State | undefined;
  #opening: Promise<State> | undefined;

  /**
   * `open` opens a channel on a connection (listeners included); `openFailure` turns what it rejected with into the
   * error callers get.
   */
  constructor(
    manager: AmqpConnectionManager,
    open: (connection: ChannelModel) => Promise<State>,
    openFailure: (error: unknown) => Error,
  ) {
    this.#manager = manager;
    this.#open = open;
    this.#openFailure = openFailure;
  }

  /**
   * The open channel on the manager's current connection; opens one when there is none. Rejects with what
   * `manager.connection()` throws (not connected, closed) or with `openFailure`'s error.
   */
  get(): Promise<State> {
    let connection: ChannelModel;
    try {
      connection = this.#manager.connection();
    } catch (error) {
      return Promise.reject(error);
    }
    const current = this.#current;
    if (current && !current.closed && current.connection === connection) return Promise.resolve(current);
    if (!this.#opening) {
      this.#opening = this.#open(connection)
        .then((state) => {
          this.#current = state;
          return state;
        })
        .catch((error: unknown) => {
          throw this.#openFailure(error);
        })
        .finally(() => {
          this.#opening = undefined;
        });
    }
    return this.#opening;
  }

  /**
   * Opens the channel as soon as (and whenever) the manager connects, so the first caller does not wait for it;
   * `onFailure` hears why it could not. Returns the function that stops this.
   */
  openWhenConnected(onFailure: (error: unknown) => void): () => void {
    return this.#manager.onConnect(() => {
      this.get().catch(onFailure);
    });
  }

  /** Marks `state` closed; the next {@link get} opens a new channel. */
  markClosed(state: State): void {
    state.closed = true;
    if (this.#current === state) this.#current = undefined;
  }

  /** Waits for an opening under way, then closes the channel held, if still open. Never rejects. */
  async close(): Promise<void> {
    await this.#opening?.catch(() => {});
    const state = this.#current;
    this.#current = undefined;
    if (state && !state.closed) await state.channel.close().catch(() => {});
  }
}
