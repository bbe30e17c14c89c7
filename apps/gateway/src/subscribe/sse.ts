import type { ServerResponse } from "node:http";

/** Options of {@link SseStream}. */
export interface SseStreamOptions {
  /** Interval of the comment heartbeats that keep an idle stream open through proxies, in ms. */
  readonly heartbeatMs: number;
  /** The reconnection delay the client's EventSource should use, in ms (the `retry:` field). */
  readonly reconnectMs: number;
  /** Extra response headers (security headers, correlation id). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A Server-Sent Events stream on a raw Node response (the route hijacks Fastify's reply). It writes the
 * `text/event-stream` head, events (`id`, `event`, `data`; one `data:` line, since JSON has no raw newlines) and
 * comment heartbeats. {@link send} returns false when the socket's buffer is full: the caller pauses its source
 * and waits for {@link onDrain}, so a client that reads nothing makes the gateway stop taking messages instead of
 * buffering them.
 */
export class SseStream {
  readonly #response: ServerResponse;
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;
  #corked = false;

  constructor(response: ServerResponse, options: SseStreamOptions) {
    this.#response = response;
    response.writeHead(200, {
      ...options.headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx and similar proxies buffer responses unless told not to.
      "x-accel-buffering": "no",
    });
    response.write(`retry: ${options.reconnectMs}\n: connected\n\n`);
    this.#heartbeat = setInterval(() => this.comment("heartbeat"), options.heartbeatMs);
    this.#heartbeat.unref();
    response.on("close", () => this.#stop());
  }

  /** False once the client went away or {@link close} was called. */
  get open(): boolean {
    return !this.#closed;
  }

  /** Writes one event. Returns false when the stream's buffer is full (wait for {@link onDrain}) or it is closed. */
  send(id: string, event: string, data: string): boolean {
    if (this.#closed) return false;
    const response = this.#response;
    if (!this.#corked) {
      // A broker delivers in bursts: the events of one burst (handed over in the same tick) leave in one write
      // instead of one system call each, which was the largest single cost of a delivery.
      this.#corked = true;
      response.cork();
      process.nextTick(() => {
        this.#corked = false;
        response.uncork();
      });
    }
    return response.write(`id: ${id}\nevent: ${event}\ndata: ${data}\n\n`);
  }

  /** Writes a comment line (ignored by EventSource; keeps proxies from timing the stream out). */
  comment(text: string): void {
    if (!this.#closed) this.#response.write(`: ${text}\n\n`);
  }

  /** Calls `listener` once the buffered data has been handed to the socket. */
  onDrain(listener: () => void): void {
    this.#response.once("drain", listener);
  }

  /** Calls `listener` once when the client goes away (or {@link close} ends the stream). */
  onClose(listener: () => void): void {
    if (this.#closed) listener();
    else this.#response.once("close", listener);
  }

  /** Ends the stream, with a last event when given (e.g. the reason the subscription stopped). */
  close(last?: { event: string; data: string }): void {
    if (this.#closed) return;
    if (last) this.#response.write(`event: ${last.event}\ndata: ${last.data}\n\n`);
    this.#stop();
    this.#response.end();
  }

  #stop(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
  }
}
