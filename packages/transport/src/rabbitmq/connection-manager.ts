import { type ChannelModel, connect } from "amqplib";
import { type BackoffOptions, backoffDelay } from "../backoff.js";
import { describeError, TransportError } from "../errors.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { withTimeout } from "../timeout.js";
import {
  type AmqpConnectFailure,
  type AmqpCredentials,
  type AmqpTlsOptions,
  amqpSocketOptions,
  classifyAmqpConnectError,
} from "./amqp-security.js";

/** Options of {@link AmqpConnectionManager}. */
export interface AmqpConnectionOptions {
  /** `amqp://user:password@host:port/vhost` (or `amqps://`). */
  readonly url: string;
  /** Connection name shown in the RabbitMQ management UI (use the app's name). */
  readonly name: string;
  /** Where connection events are logged. Default: nowhere. */
  readonly logger?: TransportLogger;
  /** Heartbeat interval in seconds, unless the URL sets `heartbeat`. Default: 10 (a dead peer is noticed in ~20 s). */
  readonly heartbeatSeconds?: number;
  /** TCP + AMQP handshake timeout of one connection attempt, in ms. Default: 5000. */
  readonly connectTimeoutMs?: number;
  /** Backoff between reconnection attempts. Defaults: see {@link BackoffOptions}. */
  readonly reconnect?: BackoffOptions;
  /** CA bundle and client certificate of an `amqps:` URL (see {@link AmqpTlsOptions}). Default: Node's public CAs. */
  readonly tls?: AmqpTlsOptions;
  /** The login, instead of the URL's userinfo. Default: the URL's (amqplib's default: guest). */
  readonly credentials?: AmqpCredentials;
  /**
   * Says what to fix for a failed connection attempt (e.g. "check RABBITMQ_PASSWORD"): appended to the attempt's
   * log line and to the `RABBITMQ_UNAVAILABLE` errors while not connected. Default: the failure's own message only.
   */
  readonly explain?: (failure: AmqpConnectFailure) => string | undefined;
}

/** Where an {@link AmqpConnectionManager} is: `idle` before `start()`, `closed` after `close()`. */
export type AmqpState = "idle" | "connecting" | "connected" | "reconnecting" | "closed";

/** The URL with its password replaced by `***`, for logs and error messages. */
export function redactAmqpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "<invalid AMQP URL>";
  }
}

/**
 * Keeps one AMQP connection to RabbitMQ open for an app. amqplib does not reconnect by itself (the 2.x `recovery`
 * option exists, but readiness needs to know exactly when the connection is down, so the loop is ours), and an
 * unhandled 'error' event would crash the process. This manager:
 * - connects with `noDelay: true` (amqplib leaves Nagle on otherwise, which stalls publisher confirms ~40 ms);
 * - listens for 'error', 'close', 'blocked' and 'unblocked' on the connection, logs them and never lets them throw;
 * - on a lost connection or failed attempt, retries with exponential backoff and jitter until {@link close};
 * - tells listeners registered with {@link onConnect} about every (re)connection, so later channel owners can
 *   re-create their channels.
 */
export class AmqpConnectionManager {
  readonly #options: AmqpConnectionOptions;
  readonly #logger: TransportLogger;
  readonly #url: string;
  readonly #redactedUrl: string;
  readonly #listeners = new Set<(connection: ChannelModel) => void>();
  #state: AmqpState = "idle";
  #connection: ChannelModel | undefined;
  #lastError: Error | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** Throws a TypeError when `options.url` is not a valid URL. Does not connect: call {@link start}. */
  constructor(options: AmqpConnectionOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    const url = new URL(options.url);
    if (!url.searchParams.has("heartbeat")) url.searchParams.set("heartbeat", String(options.heartbeatSeconds ?? 10));
    this.#url = url.toString();
    this.#redactedUrl = redactAmqpUrl(options.url);
  }

  /** Current state. */
  get state(): AmqpState {
    return this.#state;
  }

  /** The last connection error seen (cleared on a successful connection). */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** The broker URL with its password hidden. */
  get redactedUrl(): string {
    return this.#redactedUrl;
  }

  /** Starts connecting in the background (retrying until it succeeds or {@link close} is called). Idempotent. */
  start(): void {
    if (this.#state !== "idle") return;
    this.#runLoop("connecting");
  }

  /**
   * Resolves true once connected, or false when `timeoutMs` passes first (or the manager is closed). Never rejects;
   * does not start connecting by itself.
   */
  waitForConnection(timeoutMs: number): Promise<boolean> {
    if (this.#connection) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        unsubscribe();
        resolve(false);
      }, timeoutMs);
      timer.unref();
      const unsubscribe = this.onConnect(() => {
        clearTimeout(timer);
        unsubscribe();
        resolve(true);
      });
    });
  }

  /**
   * Registers `listener` for every successful (re)connection; called at once if connected now. Returns a function
   * that unregisters it. A listener that throws is logged, never propagated.
   */
  onConnect(listener: (connection: ChannelModel) => void): () => void {
    this.#listeners.add(listener);
    if (this.#connection) this.#notify(listener, this.#connection);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The open connection. Throws a {@link TransportError} `RABBITMQ_UNAVAILABLE` (retriable) when there is none
   * right now, or `CLOSED` after {@link close}.
   */
  connection(): ChannelModel {
    if (this.#state === "closed") throw new TransportError("CLOSED", "the RabbitMQ connection manager is closed");
    if (!this.#connection) throw this.#unavailable();
    return this.#connection;
  }

  /**
   * Proves the connection works: opens a throwaway channel and runs `checkExchange("amq.direct")` on it. Rejects
   * with a {@link TransportError}: `RABBITMQ_UNAVAILABLE` when not connected or the operation fails, `TIMEOUT` after
   * `timeoutMs` (default 2000), `CLOSED` after {@link close}.
   */
  async checkHealth(timeoutMs = 2000): Promise<void> {
    const connection = this.connection();
    try {
      await withTimeout(this.#probe(connection), timeoutMs, `RabbitMQ channel check on ${this.#redactedUrl}`);
    } catch (error) {
      if (error instanceof TransportError) throw error;
      throw new TransportError("RABBITMQ_UNAVAILABLE", `RabbitMQ channel check failed: ${describeError(error)}`, {
        cause: error,
      });
    }
  }

  /** Stops reconnecting and closes the connection. Idempotent; never rejects. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection) {
      await connection.close().catch((error: unknown) => {
        this.#logger.debug({ err: error }, "RabbitMQ connection close failed (already closed)");
      });
    }
  }

  async #probe(connection: ChannelModel): Promise<void> {
    const channel = await connection.createChannel();
    // A failed channel operation closes the channel and emits 'error'; the rejected call below reports it.
    channel.on("error", () => {});
    try {
      await channel.checkExchange("amq.direct");
    } finally {
      await channel.close().catch(() => {});
    }
  }

  #unavailable(): TransportError {
    const reason = this.#lastError ? `: ${this.#describe(this.#lastError)}` : "";
    return new TransportError(
      "RABBITMQ_UNAVAILABLE",
      `RabbitMQ at ${this.#redactedUrl} is not connected (${this.#state}${reason})`,
      { cause: this.#lastError },
    );
  }

  #runLoop(state: "connecting" | "reconnecting"): void {
    this.#state = state;
    this.#loop = this.#connectUntilOpen().catch((error: unknown) => {
      this.#logger.error({ err: error }, "RabbitMQ connection loop failed");
    });
  }

  async #connectUntilOpen(): Promise<void> {
    for (let attempt = 1; this.#state !== "closed"; attempt++) {
      try {
        const base = {
          noDelay: true,
          timeout: this.#options.connectTimeoutMs ?? 5000,
          clientProperties: { connection_name: this.#options.name },
        };
        const connection = await connect(
          this.#url,
          amqpSocketOptions(base, this.#options.tls, this.#options.credentials),
        );
        if (this.#isClosed()) {
          await connection.close().catch(() => {});
          return;
        }
        this.#adopt(connection);
        return;
      } catch (error) {
        this.#lastError = error instanceof Error ? error : new Error(String(error));
        if (this.#isClosed()) return;
        const delay = backoffDelay(attempt, this.#options.reconnect);
        this.#logger.warn(
          { err: this.#lastError, attempt, retryInMs: delay, url: this.#redactedUrl },
          `RabbitMQ connection attempt failed: ${this.#describe(this.#lastError)}`,
        );
        await this.#sleep(delay);
      }
    }
  }

  /** The error's message, followed by what to fix when {@link AmqpConnectionOptions.explain} knows. */
  #describe(error: Error): string {
    const failure = classifyAmqpConnectError(error);
    const hint = this.#options.explain?.(failure);
    return hint ? `${hint} (${failure.detail})` : failure.detail;
  }

  // A method so TypeScript does not narrow #state across the awaits above.
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  #adopt(connection: ChannelModel): void {
    connection.on("error", (error: Error) => {
      this.#lastError = error;
      this.#logger.warn({ err: error }, "RabbitMQ connection error");
    });
    connection.on("close", (error?: Error) => this.#onClose(connection, error));
    connection.on("blocked", (reason: string) => this.#logger.warn({ reason }, "RabbitMQ blocked the connection"));
    connection.on("unblocked", () => this.#logger.info({}, "RabbitMQ unblocked the connection"));
    this.#connection = connection;
    this.#lastError = undefined;
    this.#state = "connected";
    this.#logger.info({ url: this.#redactedUrl }, "RabbitMQ connected");
    for (const listener of this.#listeners) this.#notify(listener, connection);
  }

  #onClose(connection: ChannelModel, error: Error | undefined): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    if (this.#isClosed()) return;
    this.#lastError = error ?? new Error("connection closed by the broker");
    this.#logger.warn({ err: this.#lastError, url: this.#redactedUrl }, "RabbitMQ connection lost; reconnecting");
    this.#runLoop("reconnecting");
  }

  #notify(listener: (connection: ChannelModel) => void, connection: ChannelModel): void {
    try {
      listener(connection);
    } catch (error) {
      this.#logger.error({ err: error }, "RabbitMQ onConnect listener threw");
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(resolve, ms);
    });
  }
}
