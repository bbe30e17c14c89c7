import { readFileSync } from "node:fs";
import { Agent, fetch } from "undici";
import { describeError, TransportError } from "../errors.js";

/** A RabbitMQ queue as the management API reports it (figures lag the broker by a few seconds). */
export interface QueueInfo {
  name: string;
  vhost: string;
  /** "classic", "quorum" or "stream". */
  type: string;
  durable: boolean;
  messagesReady: number;
  messagesUnacknowledged: number;
  consumers: number;
  /** `x-max-priority`, or null when the queue has no priorities. */
  maxPriority: number | null;
  /** `x-dead-letter-exchange` ("" is the default exchange), or null when the queue does not dead-letter. */
  deadLetterExchange: string | null;
  /** `x-dead-letter-routing-key`, or null when dead letters keep their routing key. */
  deadLetterRoutingKey: string | null;
  /** Every `x-` argument the queue was declared with. */
  arguments: Record<string, unknown>;
}

/** Options of {@link RabbitManagementClient}. */
export interface RabbitManagementOptions {
  /** Base URL of the management API with credentials, e.g. `http://guest:guest@127.0.0.1:15672`. */
  url: string;
  /** Time limit of one request, in ms. Default: 5000. */
  timeoutMs?: number;
  /**
   * CA bundle (PEM file) an `https:` URL's certificate must chain to, read once here. Default: Node's public CAs.
   * The certificate must name the URL's host; there is no switch to skip that check.
   */
  caFile?: string | undefined;
}

interface RawQueue {
  name: string;
  vhost: string;
  type?: string;
  durable?: boolean;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  arguments?: Record<string, unknown>;
}

const COLUMNS = "name,vhost,type,durable,messages_ready,messages_unacknowledged,consumers,arguments";

/** Converts one queue of the management API's JSON into a {@link QueueInfo}. Missing figures count as 0. */
export function toQueueInfo(raw: RawQueue): QueueInfo {
  const args = raw.arguments ?? {};
  const text = (key: string) => (typeof args[key] === "string" ? (args[key] as string) : null);
  return {
    name: raw.name,
    vhost: raw.vhost,
    type: raw.type ?? (typeof args["x-queue-type"] === "string" ? (args["x-queue-type"] as string) : "classic"),
    durable: raw.durable ?? false,
    messagesReady: raw.messages_ready ?? 0,
    messagesUnacknowledged: raw.messages_unacknowledged ?? 0,
    consumers: raw.consumers ?? 0,
    maxPriority: typeof args["x-max-priority"] === "number" ? args["x-max-priority"] : null,
    deadLetterExchange: text("x-dead-letter-exchange"),
    deadLetterRoutingKey: text("x-dead-letter-routing-key"),
    arguments: args,
  };
}

/**
 * A small client of the RabbitMQ management HTTP API, for the live figures AMQP does not give (unacknowledged
 * messages, queue type and arguments of every queue). Errors are {@link TransportError}s:
 * `MANAGEMENT_UNAVAILABLE` (retriable) when the API does not answer, times out or fails with a 5xx,
 * `MANAGEMENT_UNAUTHORIZED` when it refuses the credentials. Passwords never appear in messages.
 */
export class RabbitManagementClient {
  readonly #base: string;
  readonly #redacted: string;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #dispatcher: Agent | undefined;

  /**
   * Throws a TypeError when `options.url` is not a valid URL, the file system's error when `options.caFile` cannot
   * be read. Sends nothing until the first call.
   */
  constructor(options: RabbitManagementOptions) {
    const url = new URL(options.url);
    this.#authorization = url.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString("base64")}`
      : undefined;
    url.username = "";
    url.password = "";
    this.#base = `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
    this.#redacted = this.#base;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    // undici's own fetch and Agent (Node's global fetch takes no CA): the Agent carries the CA bundle.
    this.#dispatcher =
      options.caFile === undefined ? undefined : new Agent({ connect: { ca: readFileSync(options.caFile) } });
  }

  /** Every queue of `vhost` (every vhost when omitted), sorted by vhost and name. */
  async listQueues(vhost?: string): Promise<QueueInfo[]> {
    const path = vhost === undefined ? "/api/queues" : `/api/queues/${encodeURIComponent(vhost)}`;
    const raw = (await this.#get(`${path}?columns=${COLUMNS}`)) as RawQueue[] | undefined;
    return (raw ?? []).map(toQueueInfo).sort((a, b) => a.vhost.localeCompare(b.vhost) || a.name.localeCompare(b.name));
  }

  /** Queue `name` of `vhost` (default "/"), or undefined when it does not exist. */
  async getQueue(name: string, vhost = "/"): Promise<QueueInfo | undefined> {
    const raw = (await this.#get(
      `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(name)}?columns=${COLUMNS}`,
    )) as RawQueue | undefined;
    return raw === undefined ? undefined : toQueueInfo(raw);
  }

  /** GETs `path`: the parsed JSON, or undefined on 404. */
  async #get(path: string): Promise<unknown> {
    const what = `RabbitMQ management API GET ${this.#redacted}${path.split("?")[0]}`;
    let response: Awaited<ReturnType<typeof fetch>>;
    try {
      response = await fetch(`${this.#base}${path}`, {
        headers: this.#authorization ? { authorization: this.#authorization } : {},
        signal: AbortSignal.timeout(this.#timeoutMs),
        ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
      });
    } catch (error) {
      const timedOut = (error as { name?: string } | null)?.name === "TimeoutError";
      const reason = timedOut ? `timed out after ${this.#timeoutMs} ms` : `failed: ${describeError(error)}`;
      const cause = (error as { cause?: unknown } | null)?.cause;
      const detail = cause === undefined || timedOut ? "" : ` (${describeError(cause)})`;
      throw new TransportError("MANAGEMENT_UNAVAILABLE", `${what} ${reason}${detail}`, { cause: error });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new TransportError("MANAGEMENT_UNAUTHORIZED", `${what} refused the credentials (${response.status})`);
    }
    if (!response.ok) {
      const body = (await response.text().catch(() => "")).slice(0, 200);
      throw new TransportError("MANAGEMENT_UNAVAILABLE", `${what} answered ${response.status}: ${body}`);
    }
    try {
      return await response.json();
    } catch (error) {
      throw new TransportError("MANAGEMENT_UNAVAILABLE", `${what} answered invalid JSON`, { cause: error });
    }
  }
}
