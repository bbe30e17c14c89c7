import { TransportError } from "./errors.js";

/** How {@link PendingReplies.wait} registers one request. */
export interface PendingRequestOptions<Context> {
  /** What the requester keeps about the request while it waits (e.g. the message, the channel it went out on). */
  readonly context: Context;
  /** How long to wait for the reply, in ms. */
  readonly timeoutMs: number;
  /** The error the wait rejects with once `timeoutMs` passed (a `REPLY_TIMEOUT` naming the destination). */
  readonly timeoutError: () => Error;
  /** Sends the request; called once it is registered (never for a correlation id already waiting). */
  readonly send: () => void;
}

interface Waiting<Reply, Context> {
  readonly context: Context;
  readonly resolve: (reply: Reply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Internal to @kronos/transport: the requests of a requester (either broker) waiting for their replies, by
 * correlation id. Each wait ends once: with its reply, its error, or its timeout, whichever comes first; settling a
 * correlation id nobody waits for (any more) does nothing, so a late reply is simply dropped.
 */
export class PendingReplies<Reply, Context = undefined> {
  readonly #waiting = new Map<string, Waiting<Reply, Context>>();

  /**
   * Registers the request `correlationId`, then sends it (`options.send`), and resolves with its reply. Rejects
   * with what {@link reject} or {@link rejectAll} gives it, with `options.timeoutError()` after `options.timeoutMs`
   * (the timer never keeps the process alive), or at once with a {@link TransportError} `INVALID_OPTIONS` when a
   * request with the same correlation id is still waiting (nothing is sent then).
   */
  wait(correlationId: string, options: PendingRequestOptions<Context>): Promise<Reply> {
    if (this.#waiting.has(correlationId)) {
      return Promise.reject(
        new TransportError("INVALID_OPTIONS", `correlation id "${correlationId}" is already waiting for a reply`),
      );
    }
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => this.reject(correlationId, options.timeoutError()), options.timeoutMs);
      timer.unref();
      this.#waiting.set(correlationId, { context: options.context, resolve, reject, timer });
      options.send();
    });
  }

  /** Whether a request with this correlation id is waiting. */
  has(correlationId: string): boolean {
    return this.#waiting.has(correlationId);
  }

  /** The context of the request waiting under `correlationId`, or undefined when none is. */
  context(correlationId: string): Context | undefined {
    return this.#waiting.get(correlationId)?.context;
  }

  /** The waiting requests (a snapshot: settling them meanwhile is safe). */
  entries(): Array<[correlationId: string, context: Context]> {
    return [...this.#waiting].map(([correlationId, waiting]) => [correlationId, waiting.context]);
  }

  /** Ends the wait of `correlationId` with `reply`; does nothing when nobody waits for it. */
  resolve(correlationId: string, reply: Reply): void {
    this.#take(correlationId)?.resolve(reply);
  }

  /** Ends the wait of `correlationId` with `error`; does nothing when nobody waits for it. */
  reject(correlationId: string, error: Error): void {
    this.#take(correlationId)?.reject(error);
  }

  /** Ends every wait with an error of its own from `error` (e.g. `CLOSED` when the requester closes). */
  rejectAll(error: () => Error): void {
    for (const correlationId of [...this.#waiting.keys()]) this.reject(correlationId, error());
  }

  #take(correlationId: string): Waiting<Reply, Context> | undefined {
    const waiting = this.#waiting.get(correlationId);
    if (!waiting) return undefined;
    this.#waiting.delete(correlationId);
    clearTimeout(waiting.timer);
    return waiting;
  }
}
