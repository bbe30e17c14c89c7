import { TransportError } from "../errors.js";
import type { TopologyQueue } from "./topology-model.js";

/** RabbitMQ queue types {@link declareQueue} creates. */
export type QueueKind = "classic" | "quorum";

/** Options of {@link declareQueue}. Every field is optional; the defaults give a durable classic queue. */
export interface QueueOptions {
  /** Queue type (`x-queue-type`). Default "classic". */
  type?: QueueKind;
  /** Survives a broker restart. Default true; quorum queues are always durable (false is refused). */
  durable?: boolean;
  /** `x-max-priority`, 1..255: per-message priorities. Classic queues only (refused on quorum queues). */
  maxPriority?: number;
  /** `x-message-ttl` in ms (≥ 0): messages older than this expire (and are dead-lettered when `deadLetter` is set). */
  messageTtlMs?: number;
  /** `x-max-length` (≥ 0): the oldest messages are dropped (or dead-lettered) beyond it. */
  maxLength?: number;
  /** `x-delivery-limit` (≥ 0): redeliveries before a message is dead-lettered. Quorum queues only. */
  deliveryLimit?: number;
  /** Bindings to existing exchanges (the exchange must exist: a missing one is `INVALID_OPTIONS`). */
  bindings?: Array<{ exchange: string; routingKey: string }>;
  /**
   * Dead letters and the retry path. `true` or an object creates a topic exchange `<name>.dlx` and a queue
   * `<name>.dlq` bound to it with the key `<name>`, and sets `x-dead-letter-exchange: <name>.dlx` and
   * `x-dead-letter-routing-key: <name>` on the queue, so rejected (requeue=false), expired, overflowed and
   * over-delivered messages land in the DLQ. `exchange` and `queue` rename the DLX and the DLQ (a shared DLX works:
   * each queue dead-letters with its own name as routing key). `retryDelaysMs` adds one queue
   * `<name>.retry.<ms>` per delay, with `x-message-ttl: <ms>`, dead-lettering through the default exchange back
   * to `<name>`: a consumer that publishes a failed message to `<name>.retry.<ms>` (default exchange, routing key
   * = that queue's name) gets it back on `<name>` after the delay. Default: no dead-lettering.
   */
  deadLetter?: boolean | { exchange?: string; queue?: string; retryDelaysMs?: number[] };
}

/** A queue to declare: name, durability and its `x-` arguments. */
export interface QueueDeclaration {
  name: string;
  durable: boolean;
  arguments: Record<string, string | number>;
}

/** Every object {@link declareQueue} declares for one queue, derived from its options (pure, no broker). */
export interface QueuePlan {
  queue: QueueDeclaration;
  /** The dead-letter exchange (always a durable topic exchange), the DLQ and the key it is bound with. */
  deadLetter: { exchange: string; queue: QueueDeclaration | null; bindingKey: string } | null;
  retryQueues: QueueDeclaration[];
  bindings: Array<{ exchange: string; routingKey: string }>;
}

/** Name of the dead-letter exchange {@link declareQueue} creates for `queue`: `<queue>.dlx`. */
export function deadLetterExchangeName(queue: string): string {
  return `${queue}.dlx`;
}

/** Name of the dead-letter queue {@link declareQueue} creates for `queue`: `<queue>.dlq`. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dlq`;
}

/** Name of the retry queue for `queue` with a delay of `delayMs`: `<queue>.retry.<delayMs>`. */
export function retryQueueName(queue: string, delayMs: number): string {
  return `${queue}.retry.${delayMs}`;
}

// Names go into topic-exchange binding keys (the DLQ binding), so `*` and `#` must not appear; `amq.` is reserved.
const QUEUE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._:-]*$/;
const MAX_NAME_BYTES = 255;

function invalid(message: string): TransportError {
  return new TransportError("INVALID_OPTIONS", message);
}

function checkName(name: string, what: string): void {
  if (!QUEUE_NAME.test(name) || name.startsWith("amq.")) {
    throw invalid(
      `${what} "${name}" is not a valid name: use letters, digits and . _ : - (not starting with "amq." or a dot)`,
    );
  }
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw invalid(`${what} "${name}" is longer than ${MAX_NAME_BYTES} bytes`);
  }
}

function checkInteger(queue: string, option: string, value: number | undefined, min: number, max?: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || (max !== undefined && value > max)) {
    const range = max === undefined ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw invalid(`queue "${queue}": ${option} must be ${range}, got ${String(value)}`);
  }
}

/**
 * Validates `options` for queue `name` and lists what to declare. Throws a {@link TransportError}
 * `INVALID_OPTIONS` naming the queue and the option: an invalid name, `maxPriority` on a quorum queue,
 * `deliveryLimit` on a classic queue, a non-durable quorum queue, out-of-range numbers, duplicate retry delays.
 */
export function planQueue(name: string, options: QueueOptions): QueuePlan {
  checkName(name, "queue");
  const type = options.type ?? "classic";
  if (type !== "classic" && type !== "quorum") {
    throw invalid(`queue "${name}": type must be "classic" or "quorum", got ${JSON.stringify(type)}`);
  }
  const durable = options.durable ?? true;
  if (type === "quorum" && !durable) throw invalid(`queue "${name}": quorum queues are always durable`);
  checkInteger(name, "maxPriority", options.maxPriority, 1, 255);
  checkInteger(name, "messageTtlMs", options.messageTtlMs, 0);
  checkInteger(name, "maxLength", options.maxLength, 0);
  checkInteger(name, "deliveryLimit", options.deliveryLimit, 0);
  if (type === "quorum" && options.maxPriority !== undefined) {
    throw invalid(`queue "${name}": maxPriority is only supported by classic queues, not quorum queues`);
  }
  if (type === "classic" && options.deliveryLimit !== undefined) {
    throw invalid(`queue "${name}": deliveryLimit is only supported by quorum queues, not classic queues`);
  }
  const bindings = (options.bindings ?? []).map((binding) => {
    if (typeof binding?.exchange !== "string" || binding.exchange === "" || typeof binding.routingKey !== "string") {
      throw invalid(`queue "${name}": each binding needs a non-empty exchange and a routingKey string`);
    }
    return { exchange: binding.exchange, routingKey: binding.routingKey };
  });

  const args: Record<string, string | number> = { "x-queue-type": type };
  if (options.maxPriority !== undefined) args["x-max-priority"] = options.maxPriority;
  if (options.messageTtlMs !== undefined) args["x-message-ttl"] = options.messageTtlMs;
  if (options.maxLength !== undefined) args["x-max-length"] = options.maxLength;
  if (options.deliveryLimit !== undefined) args["x-delivery-limit"] = options.deliveryLimit;

  let deadLetter: QueuePlan["deadLetter"] = null;
  const retryQueues: QueueDeclaration[] = [];
  if (options.deadLetter) {
    const custom = options.deadLetter === true ? {} : options.deadLetter;
    const exchange = custom.exchange ?? deadLetterExchangeName(name);
    const dlq = custom.queue ?? deadLetterQueueName(name);
    checkName(exchange, "dead-letter exchange");
    checkName(dlq, "dead-letter queue");
    if (dlq === name) throw invalid(`queue "${name}": the dead-letter queue must not be the queue itself`);
    args["x-dead-letter-exchange"] = exchange;
    args["x-dead-letter-routing-key"] = name;
    deadLetter = {
      exchange,
      queue: { name: dlq, durable: true, arguments: { "x-queue-type": type } },
      bindingKey: name,
    };
    const delays = custom.retryDelaysMs ?? [];
    if (!Array.isArray(delays)) throw invalid(`queue "${name}": deadLetter.retryDelaysMs must be an array`);
    for (const delay of delays) {
      if (!Number.isInteger(delay) || delay < 1) {
        throw invalid(`queue "${name}": each retry delay must be an integer ≥ 1 ms, got ${String(delay)}`);
      }
    }
    if (new Set(delays).size !== delays.length) {
      throw invalid(`queue "${name}": deadLetter.retryDelaysMs has duplicate delays`);
    }
    for (const delay of delays) {
      const retry = retryQueueName(name, delay);
      checkName(retry, "retry queue");
      retryQueues.push({
        name: retry,
        durable: true,
        // Expired messages go back to the source queue through the default exchange (routing key = queue name).
        arguments: {
          "x-queue-type": type,
          "x-message-ttl": delay,
          "x-dead-letter-exchange": "",
          "x-dead-letter-routing-key": name,
        },
      });
    }
  }
  return { queue: { name, durable, arguments: args }, deadLetter, retryQueues, bindings };
}

/**
 * The plan of a queue declared by the contract manifest on `exchange`: its type, max priority, delivery limit and
 * dead-letter target as the manifest says (a shared DLX and DLQ, like `kronos.router.dlx`, are declared once and
 * reused). The DLQ is bound to the DLX with the manifest's dead-letter routing key, or `#` when it keeps the
 * original keys.
 */
export function planManifestQueue(exchange: string, spec: TopologyQueue): QueuePlan {
  const args: Record<string, string | number> = { "x-queue-type": spec.type };
  if (spec.maxPriority !== null) args["x-max-priority"] = spec.maxPriority;
  if (spec.deliveryLimit !== null) args["x-delivery-limit"] = spec.deliveryLimit;
  let deadLetter: QueuePlan["deadLetter"] = null;
  if (spec.deadLetter) {
    args["x-dead-letter-exchange"] = spec.deadLetter.exchange;
    if (spec.deadLetter.routingKey !== null) args["x-dead-letter-routing-key"] = spec.deadLetter.routingKey;
    deadLetter = {
      exchange: spec.deadLetter.exchange,
      queue:
        spec.deadLetter.queue === null
          ? null
          : { name: spec.deadLetter.queue, durable: true, arguments: { "x-queue-type": spec.type } },
      bindingKey: spec.deadLetter.routingKey ?? "#",
    };
  }
  const keys = spec.bindingKeys.length > 0 ? spec.bindingKeys : [""];
  return {
    queue: { name: spec.name, durable: spec.durable, arguments: args },
    deadLetter,
    retryQueues: [],
    bindings: keys.map((routingKey) => ({ exchange, routingKey })),
  };
}
