import { randomUUID } from "node:crypto";
import { HttpError } from "@kronos/app-kit";
import type { FastifyBaseLogger } from "fastify";
import { Redis } from "ioredis";
import { Counter, type Registry } from "prom-client";
import type { SettleCommand, Settled } from "./settle.js";

/** Default `GATEWAY_FORWARD_TIMEOUT_MS`: longest wait for the instance holding a handle to answer a settlement. */
export const DEFAULT_FORWARD_TIMEOUT_MS = 5000;

/** Options of {@link SettleForwarder}. */
export interface SettleForwarderOptions {
  /** The Redis every gateway instance shares (`REDIS_URL`). */
  readonly redisUrl: string;
  /** This instance's id (the first part of its handles). */
  readonly instanceId: string;
  /** Longest wait for the owner's answer, in ms; past it, 404 `HANDLE_EXPIRED`. */
  readonly timeoutMs: number;
  readonly logger: FastifyBaseLogger;
  /**
   * Where `gateway_forwarded_settlements_total{result}` is registered: `answered` (the owner answered, whatever its
   * status), `no_instance`, `timeout`, `redis_unavailable` (forwarded by this instance), and `served` (another
   * instance's request settled here). Omitted: no metrics.
   */
  readonly registry?: Registry;
}

/** The `result` label of `gateway_forwarded_settlements_total`. */
type ForwardResult = "answered" | "no_instance" | "timeout" | "redis_unavailable" | "served";

/** What one instance asks another: a settlement of one handle, or a cumulative ack through one (`POST /ack-through`). */
export type ForwardedCommand = SettleCommand | { readonly handle: string; readonly action: "ack-through" };

/**
 * Runs a command on this instance (the owner's side of a forwarded settlement): resolves to what the local route
 * would answer ({@link Settled}, or the acked handles of an ack-through) or throws its {@link HttpError}.
 */
export type LocalSettle = (identity: string, command: ForwardedCommand) => Promise<unknown>;

interface ForwardRequest {
  readonly id: string;
  /** The instance waiting for the answer. */
  readonly replyTo: string;
  readonly identity: string;
  readonly command: ForwardedCommand;
}

type ForwardReply =
  | { readonly id: string; readonly ok: true; readonly result: unknown }
  | {
      readonly id: string;
      readonly ok: false;
      readonly status: number;
      readonly code: string;
      readonly message: string;
    };

interface Pending {
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: HttpError) => void;
  readonly timer: NodeJS.Timeout;
}

const CHANNEL = "kronos:gateway:settle:";
/** Longest a starting gateway waits for its Redis subscription. */
const START_WAIT_MS = 2000;
const REPLY_CHANNEL = "kronos:gateway:settled:";

/**
 * Settlement across gateway instances: a handle lives in the memory of the instance that delivered it, so a
 * settlement that reaches another instance (a load balancer that is not sticky) is sent to the owner over Redis,
 * which settles it with its own {@link Settler} — checking the caller's identity as for its own requests — and
 * answers; the caller gets exactly the owner's status, code and message.
 *
 * Redis pub/sub rather than streams: a handle exists only in its owner's memory, so a request kept for an owner that
 * is gone could never be served (its deliveries went back to the broker when it died) and durability buys nothing;
 * `PUBLISH` answers how many instances received the request, so a dead or unknown owner is known at once (0: 404
 * `UNKNOWN_HANDLE`) rather than after a timeout; and nothing is left in Redis to trim. Each instance listens on
 * `kronos:gateway:settle:<instance>` and gets its answers on `kronos:gateway:settled:<instance>`.
 *
 * Guarantee: the caller never waits past `timeoutMs` (then 404 `HANDLE_EXPIRED`: the owner did not answer, and if it
 * died its deliveries go back to the broker), and never gets a 5xx for an owner that is gone. A reply lost after the
 * owner settled is a settlement the caller believes expired: it sees at most a redelivery it did not get, never a
 * message settled that it did not ask for. Redis unreachable: 503 `SETTLE_FAILED` (the delivery is still held; try
 * again). Redis must be private to the gateways: whoever can publish there can settle any handle as any identity.
 */
export class SettleForwarder {
  readonly #options: SettleForwarderOptions;
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  readonly #pending = new Map<string, Pending>();
  readonly #count: (result: ForwardResult) => void;
  #serve: LocalSettle | undefined;
  #closed = false;

  constructor(options: SettleForwarderOptions) {
    this.#options = options;
    const counter =
      options.registry === undefined
        ? undefined
        : new Counter({
            name: "gateway_forwarded_settlements_total",
            help: "Settlements of another gateway instance's handles: forwarded (by result) or served here.",
            labelNames: ["result"] as const,
            registers: [options.registry],
          });
    this.#count = (result) => counter?.inc({ result });
    const redisOptions = {
      lazyConnect: false,
      // Fail at once while Redis is unreachable (never queue a settlement for later): the caller answers 503.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(100 * 2 ** times, 2000),
    };
    this.#publisher = new Redis(options.redisUrl, redisOptions);
    // The subscriber keeps its subscriptions across reconnects (ioredis resubscribes), so it may queue offline.
    this.#subscriber = new Redis(options.redisUrl, { ...redisOptions, enableOfflineQueue: true });
    let down = false;
    const onError = (error: Error) => {
      if (down) return;
      down = true;
      options.logger.warn({ err: error }, "Redis unreachable: settlements of other instances' handles fail (503)");
    };
    this.#publisher.on("error", onError);
    this.#subscriber.on("error", onError);
    this.#publisher.on("ready", () => {
      if (down) options.logger.info("Redis reachable again: settlements are forwarded between instances");
      down = false;
    });
    this.#subscriber.on("messageBuffer", (channel: Buffer, message: Buffer) =>
      this.#onMessage(String(channel), message),
    );
  }

  /**
   * Listens for this instance's requests (settled with `serve`) and answers. Waits for the subscription at most
   * {@link START_WAIT_MS}: a gateway whose Redis is down still starts (it subscribes once Redis is back).
   */
  async start(serve: LocalSettle): Promise<void> {
    this.#serve = serve;
    const { instanceId, logger } = this.#options;
    const subscribed = this.#subscriber.subscribe(CHANNEL + instanceId, REPLY_CHANNEL + instanceId).then(
      () => true,
      (error: unknown) => {
        logger.warn({ err: error }, "could not listen for forwarded settlements on Redis");
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), START_WAIT_MS);
    });
    const ok = await Promise.race([subscribed, late]);
    clearTimeout(timer);
    if (!ok) logger.warn("Redis is not answering: this instance serves other instances' settlements once it does");
  }

  /**
   * Has `owner` run `command` for `identity`; resolves to the owner's result (a {@link Settled} for a settlement)
   * or throws the owner's
   * {@link HttpError}. Throws 404 `UNKNOWN_HANDLE` at once when no instance `owner` listens, 404 `HANDLE_EXPIRED`
   * after `timeoutMs` without an answer, 503 `SETTLE_FAILED` when Redis is unreachable.
   */
  async forward(owner: string, identity: string, command: ForwardedCommand): Promise<unknown> {
    if (this.#closed) throw new HttpError(503, "SETTLE_FAILED", "this gateway is shutting down; try again");
    const id = randomUUID();
    const request: ForwardRequest = { id, replyTo: this.#options.instanceId, identity, command };
    const answer = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        this.#count("timeout");
        reject(
          new HttpError(
            404,
            "HANDLE_EXPIRED",
            `delivery "${command.handle}" belongs to gateway instance "${owner}", which did not answer within ${this.#options.timeoutMs} ms: if it stopped, the message went back to the broker and will be delivered again`,
          ),
        );
      }, this.#options.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
    let receivers: number;
    try {
      receivers = await this.#publisher.publish(CHANNEL + owner, JSON.stringify(request));
    } catch (error) {
      this.#take(id);
      this.#count("redis_unavailable");
      this.#options.logger.warn({ err: error, handle: command.handle, owner }, "could not forward a settlement");
      throw new HttpError(
        503,
        "SETTLE_FAILED",
        `could not ${command.action} delivery "${command.handle}" right now: gateway instance "${owner}" holds it and Redis, which connects the instances, is unreachable; try again`,
      );
    }
    if (receivers === 0) {
      this.#take(id);
      this.#count("no_instance");
      throw new HttpError(
        404,
        "UNKNOWN_HANDLE",
        `delivery "${command.handle}" belongs to gateway instance "${owner}", which is not running (no gateway of that id is connected to Redis): its deliveries went back to the broker`,
      );
    }
    return answer;
  }

  /** Stops listening; waiting forwards end with 503 `SETTLE_FAILED`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [id] of this.#pending) {
      this.#take(id)?.reject(new HttpError(503, "SETTLE_FAILED", "this gateway is shutting down; try again"));
    }
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }

  /** Stops waiting for the answer to request `id` (its promise then never settles unless the caller does). */
  #take(id: string): Pending | undefined {
    const pending = this.#pending.get(id);
    if (pending === undefined) return undefined;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  #onMessage(channel: string, message: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.toString("utf8"));
    } catch {
      this.#options.logger.warn({ channel }, "ignored a message on a gateway channel that is not JSON");
      return;
    }
    if (channel.startsWith(REPLY_CHANNEL)) {
      const reply = parsed as ForwardReply;
      const pending = this.#take(reply.id);
      if (pending !== undefined) this.#count("answered");
      if (reply.ok) pending?.resolve(reply.result);
      else pending?.reject(new HttpError(reply.status, reply.code, reply.message));
      return;
    }
    void this.#answer(parsed as ForwardRequest);
  }

  async #answer(request: ForwardRequest): Promise<void> {
    this.#count("served");
    let reply: ForwardReply;
    try {
      if (this.#serve === undefined) throw new Error("not started");
      reply = { id: request.id, ok: true, result: await this.#serve(request.identity, request.command) };
    } catch (error) {
      reply =
        error instanceof HttpError
          ? { id: request.id, ok: false, status: error.statusCode, code: error.code, message: error.message }
          : {
              id: request.id,
              ok: false,
              status: 503,
              code: "SETTLE_FAILED",
              message: `could not ${request.command.action} delivery "${request.command.handle}" right now; try again`,
            };
      if (!(error instanceof HttpError)) {
        this.#options.logger.error({ err: error, handle: request.command.handle }, "a forwarded settlement failed");
      }
    }
    await this.#publisher.publish(REPLY_CHANNEL + request.replyTo, JSON.stringify(reply)).catch((error: unknown) => {
      this.#options.logger.warn(
        { err: error, handle: request.command.handle },
        "could not answer a forwarded settlement",
      );
    });
  }
}
