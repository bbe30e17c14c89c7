// A small Server-Sent Events client for the tests and the battery, on node:http, so a test can also stop reading (backpressure)
// and see comment lines (heartbeats), which EventSource hides.
import { type ClientRequest, type IncomingMessage, request } from "node:http";

/** One event of the stream. */
export interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

/** The message events' data, as the gateway writes it. */
export interface MessageData {
  messageId: string | null;
  event: string;
  key: string | null;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
  redelivered: boolean;
  attempt: number;
  partition?: number;
  offset?: string;
}

/** An open stream, or the error answer the gateway gave instead. */
export class SseClient {
  readonly status: number;
  readonly headers: IncomingMessage["headers"];
  /** The answer's body when it was not a stream (status ≠ 200). */
  readonly errorBody: string;
  /** Comment lines seen (heartbeats and notices), in order. */
  readonly comments: string[] = [];
  readonly #request: ClientRequest;
  readonly #response: IncomingMessage;
  readonly #events: SseEvent[] = [];
  readonly #waiters = new Set<() => void>();
  #buffer = "";
  #ended = false;

  private constructor(req: ClientRequest, res: IncomingMessage, errorBody: string) {
    this.#request = req;
    this.#response = res;
    this.status = res.statusCode ?? 0;
    this.headers = res.headers;
    this.errorBody = errorBody;
    if (this.status !== 200) return;
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => this.#feed(chunk));
    res.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
  }

  /** Opens `url` with `headers`. Resolves once the answer's head arrived (an error answer is read whole). */
  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
        if (res.statusCode === 200) {
          resolve(new SseClient(req, res, ""));
          return;
        }
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve(new SseClient(req, res, body)));
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** True once the server ended the stream. */
  get ended(): boolean {
    return this.#ended;
  }

  /** The next `message` event's id and data. */
  async nextMessage(timeoutMs = 15_000): Promise<{ id: string; data: MessageData }> {
    for (;;) {
      const event = await this.next(timeoutMs);
      if (event.event === "message") return { id: event.id, data: JSON.parse(event.data) as MessageData };
    }
  }

  /** The next `count` message events. */
  async messages(count: number, timeoutMs = 15_000): Promise<Array<{ id: string; data: MessageData }>> {
    const result = [];
    for (let i = 0; i < count; i++) result.push(await this.nextMessage(timeoutMs));
    return result;
  }

  /** The next event, or a rejection after `timeoutMs` (or when the stream ended). */
  async next(timeoutMs = 15_000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.#events.shift();
      if (event) return event;
      if (this.#ended) throw new Error("the stream ended");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  /** Events received and not taken yet. */
  get pending(): number {
    return this.#events.length;
  }

  /** Stops reading from the socket (the server's writes back up). */
  pause(): void {
    this.#response.pause();
  }

  /** Reads again. */
  resume(): void {
    this.#response.resume();
  }

  /** Closes the connection (the client goes away). */
  close(): void {
    this.#request.destroy();
    this.#response.destroy();
  }

  #feed(chunk: string): void {
    this.#buffer += chunk;
    for (let end = this.#buffer.indexOf("\n\n"); end >= 0; end = this.#buffer.indexOf("\n\n")) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let id = "";
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments.push(line.slice(1).trim());
        else if (line.startsWith("id: ")) id = line.slice(4);
        else if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length > 0) this.#events.push({ id, event, data: data.join("\n") });
    }
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
    this.#waiters.clear();
  }
}
