// What the relay and DLQ benchmarks share: messages counted at a destination by id, preloads that become visible
// all at once (a Kafka transaction), an open-loop producer, confirmed AMQP publishes, and timed ABAB legs.
import type { ConfirmChannel, Options } from "amqplib";
import type { Kafka, Message, Producer } from "kafkajs";
import { median } from "./measure.js";

/**
 * Arrivals at a destination, counted by message id. An id is `<tag>:<n>`: each leg of a run has its own tag, so a
 * leg waits for its own N and a late duplicate of another leg changes nothing. An id seen twice counts once.
 */
export class Arrivals {
  readonly #seen = new Map<string, Set<string>>();
  readonly #waiters = new Map<string, { count: number; resolve: (at: number) => void }>();
  /** When each id arrived (`performance.now()`), for the tags being timed one message at a time. */
  readonly arrivedAt = new Map<string, number>();
  #timed: string | undefined;

  /** Records the arrival of message `id` (ids without a tag are ignored). */
  arrive(id: string | undefined): void {
    if (id === undefined) return;
    const cut = id.indexOf(":");
    if (cut < 0) return;
    const tag = id.slice(0, cut);
    let ids = this.#seen.get(tag);
    if (ids === undefined) {
      ids = new Set();
      this.#seen.set(tag, ids);
    }
    if (ids.has(id)) return;
    ids.add(id);
    if (tag === this.#timed) this.arrivedAt.set(id, performance.now());
    const waiter = this.#waiters.get(tag);
    if (waiter !== undefined && ids.size >= waiter.count) {
      this.#waiters.delete(tag);
      waiter.resolve(performance.now());
    }
  }

  /** Keeps the arrival time of every message of `tag` (latency legs). */
  time(tag: string): void {
    this.#timed = tag;
  }

  /** Distinct messages of `tag` arrived so far. */
  count(tag: string): number {
    return this.#seen.get(tag)?.size ?? 0;
  }

  /**
   * Resolves with the `performance.now()` time at which the `count`-th distinct message of `tag` arrived; rejects
   * after `timeoutMs` naming how many did.
   */
  waitFor(tag: string, count: number, timeoutMs: number): Promise<number> {
    if (this.count(tag) >= count) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(tag);
        reject(new Error(`${tag}: ${this.count(tag)} of ${count} messages arrived within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.#waiters.set(tag, {
        count,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }
}

/** Milliseconds since the epoch with sub-millisecond precision (the clock Kafka timestamps are on). */
export const wallMs = () => performance.timeOrigin + performance.now();

/**
 * A producer whose preloads stay invisible to read-committed consumers (kafkajs' default, the relay's and custody's)
 * until {@link commit}: the whole of N becomes readable at one instant, so a leg is timed from there without pausing
 * the app under test. One transaction at a time.
 */
export class TransactionalPreloader {
  readonly #producer: Producer;
  #open: Awaited<ReturnType<Producer["transaction"]>> | undefined;

  constructor(kafka: Kafka, transactionalId: string) {
    this.#producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  /** Writes `messages` to `topic` inside a new transaction (not visible yet). */
  async load(topic: string, messages: readonly Message[]): Promise<void> {
    if (this.#open !== undefined) throw new Error("a preload is already open");
    this.#open = await this.#producer.transaction();
    for (let from = 0; from < messages.length; from += 1000) {
      await this.#open.send({ topic, acks: -1, messages: messages.slice(from, from + 1000) });
    }
  }

  /** Commits the open preload: its messages become visible. */
  async commit(): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    await open?.commit();
  }

  async disconnect(): Promise<void> {
    await this.#open?.abort().catch(() => {});
    await this.#producer.disconnect();
  }
}

/**
 * Publishes on a confirm channel; resolves once RabbitMQ confirmed it, rejects when it nacked it or (mandatory)
 * returned it as unroutable. The channel must have a 'return' listener that calls {@link rejectReturned}.
 */
export function publishConfirmed(
  channel: ConfirmChannel,
  exchange: string,
  routingKey: string,
  content: Buffer,
  options: Options.Publish,
  returned: Set<string>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.publish(exchange, routingKey, content, options, (error) => {
      const id = options.messageId;
      if (error) reject(new Error(`nacked: ${String(error)}`));
      else if (id !== undefined && returned.delete(id)) reject(new Error(`unroutable: ${id}`));
      else resolve();
    });
  });
}

/** Remembers the ids RabbitMQ returned as unroutable on `channel` (a return comes before its confirm). */
export function trackReturns(channel: ConfirmChannel): Set<string> {
  const returned = new Set<string>();
  channel.on("return", (message: { properties: { messageId?: string } }) => {
    if (message.properties.messageId !== undefined) returned.add(message.properties.messageId);
  });
  return returned;
}

/**
 * Sends `total` messages open-loop at `ratePerSecond`: every 5 ms, `send(n, dueMs)` for each message now due
 * (`dueMs`: when it should have left, wall clock), whatever the answers so far; resolves when all were sent.
 * Latency measured from `dueMs` is not hidden by a slow destination (no coordinated omission).
 */
export async function openLoop(
  total: number,
  ratePerSecond: number,
  send: (first: number, count: number, dueMs: number) => void,
): Promise<void> {
  const start = wallMs();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((wallMs() - start) * ratePerSecond) / 1000) + 1);
    if (due > sent) {
      send(sent, due - sent, start + (sent * 1000) / ratePerSecond);
      sent = due;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The `p`-th percentile (0–100) of `xs`, nearest rank; NaN when empty. */
export function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

/** One contender of {@link alternateLegs}: moves `count` messages tagged `tag`, resolving with its elapsed ms. */
export interface Leg {
  readonly name: string;
  run(tag: string, count: number): Promise<number>;
}

/**
 * Runs each leg once with `warmup` messages, then `rounds` times with `count` in the same order every round (A B A
 * B ...), printing each result. Resolves with each leg's messages/s per measured round, by name.
 */
export async function alternateLegs(
  prefix: string,
  legs: readonly Leg[],
  options: { rounds: number; count: number; warmup: number },
): Promise<Map<string, number[]>> {
  const rates = new Map<string, number[]>(legs.map((leg) => [leg.name, []]));
  for (const [index, leg] of legs.entries()) {
    const ms = await leg.run(`${prefix}w${index}`, options.warmup);
    console.log(`  warm-up  ${leg.name.padEnd(40)} ${rateText(options.warmup, ms)}`);
  }
  for (let round = 1; round <= options.rounds; round++) {
    for (const [index, leg] of legs.entries()) {
      const ms = await leg.run(`${prefix}r${round}l${index}`, options.count);
      rates.get(leg.name)?.push((options.count * 1000) / ms);
      console.log(`  round ${round}  ${leg.name.padEnd(40)} ${rateText(options.count, ms)}`);
    }
  }
  return rates;
}

function rateText(count: number, ms: number): string {
  return `${count} in ${(ms / 1000).toFixed(2)} s = ${Math.round((count * 1000) / ms).toLocaleString("en-US")}/s`;
}

/** The median of a leg's rates (messages/s), rounded. */
export function medianRate(rates: Map<string, number[]>, name: string): number {
  return Math.round(median(rates.get(name) ?? []));
}
