import { TransportError } from "../errors.js";
import type { AmqpConnectionManager } from "../rabbitmq/connection-manager.js";
import {
  amqpReplyCode,
  amqpReplyText,
  exchangeExists,
  inspectQueue,
  onThrowawayChannel,
  unexpectedReply,
} from "./amqp-channel.js";
import { planQueue, type QueueDeclaration, type QueueOptions, type QueuePlan } from "./queue-plan.js";

/** What declaring one broker object did. */
export interface DeclaredObject {
  kind: "queue" | "exchange";
  name: string;
  outcome: "created" | "exists";
}

/**
 * Declares exchange `name` (durable, not auto-deleted) on a throwaway channel. Throws `QUEUE_CONFLICT` when it
 * exists with another type or durability.
 */
export async function ensureExchange(
  manager: AmqpConnectionManager,
  name: string,
  type: string,
  options: { durable?: boolean; autoDelete?: boolean } = {},
): Promise<DeclaredObject> {
  const existed = await exchangeExists(manager, name);
  const what = `RabbitMQ declaration of exchange "${name}"`;
  try {
    await onThrowawayChannel(manager, what, (channel) =>
      channel.assertExchange(name, type, { durable: options.durable ?? true, autoDelete: options.autoDelete ?? false }),
    );
  } catch (error) {
    if (amqpReplyCode(error) === 406) {
      throw new TransportError(
        "QUEUE_CONFLICT",
        `exchange "${name}" already exists with different settings (wanted type ${type}): ${amqpReplyText(error)}`,
        { cause: error },
      );
    }
    throw unexpectedReply(error, what);
  }
  return { kind: "exchange", name, outcome: existed ? "exists" : "created" };
}

/**
 * Declares one queue on a throwaway channel. Throws `QUEUE_CONFLICT` (naming the queue and the argument RabbitMQ
 * found different) when it exists with other arguments: RabbitMQ answers 406 and closes that channel only.
 */
export async function ensureQueue(manager: AmqpConnectionManager, queue: QueueDeclaration): Promise<DeclaredObject> {
  const existed = (await inspectQueue(manager, queue.name)) !== undefined;
  const what = `RabbitMQ declaration of queue "${queue.name}"`;
  try {
    await onThrowawayChannel(manager, what, (channel) =>
      channel.assertQueue(queue.name, { durable: queue.durable, arguments: { ...queue.arguments } }),
    );
  } catch (error) {
    const code = amqpReplyCode(error);
    if (code === 406 || code === 405) {
      throw new TransportError(
        "QUEUE_CONFLICT",
        `queue "${queue.name}" already exists with different arguments: ${amqpReplyText(error)}`,
        { cause: error },
      );
    }
    throw unexpectedReply(error, what);
  }
  return { kind: "queue", name: queue.name, outcome: existed ? "exists" : "created" };
}

/** Binds `queue` to `exchange` with `routingKey` on a throwaway channel (idempotent on the broker). */
export async function ensureBinding(
  manager: AmqpConnectionManager,
  queue: string,
  exchange: string,
  routingKey: string,
): Promise<void> {
  const what = `RabbitMQ binding of queue "${queue}" to exchange "${exchange}" with key "${routingKey}"`;
  try {
    await onThrowawayChannel(manager, what, (channel) => channel.bindQueue(queue, exchange, routingKey));
  } catch (error) {
    if (amqpReplyCode(error) === 404) {
      throw new TransportError("INVALID_OPTIONS", `${what}: ${amqpReplyText(error)}`, { cause: error });
    }
    throw unexpectedReply(error, what);
  }
}

/**
 * Declares everything in `plan`: the queue first (so a conflicting queue stops before anything else is touched),
 * then its dead-letter exchange and queue with their binding, its retry queues and its bindings. Returns what each
 * declaration found. Throws like {@link declareQueue}.
 */
export async function applyQueuePlan(manager: AmqpConnectionManager, plan: QueuePlan): Promise<DeclaredObject[]> {
  for (const { exchange } of plan.bindings) {
    if (exchange === "") {
      throw new TransportError("INVALID_OPTIONS", `queue "${plan.queue.name}": cannot bind to the default exchange`);
    }
    if (!(await exchangeExists(manager, exchange))) {
      throw new TransportError(
        "INVALID_OPTIONS",
        `queue "${plan.queue.name}": cannot bind to exchange "${exchange}": it does not exist`,
      );
    }
  }
  const results: DeclaredObject[] = [await ensureQueue(manager, plan.queue)];
  if (plan.deadLetter) {
    results.push(await ensureExchange(manager, plan.deadLetter.exchange, "topic"));
    if (plan.deadLetter.queue) {
      results.push(await ensureQueue(manager, plan.deadLetter.queue));
      await ensureBinding(manager, plan.deadLetter.queue.name, plan.deadLetter.exchange, plan.deadLetter.bindingKey);
    }
  }
  for (const retry of plan.retryQueues) results.push(await ensureQueue(manager, retry));
  for (const binding of plan.bindings) {
    await ensureBinding(manager, plan.queue.name, binding.exchange, binding.routingKey);
  }
  return results;
}

/**
 * Declares queue `name` with `options` (see {@link QueueOptions} for the dead-letter and retry naming), with its
 * dead-letter exchange and queue, retry queues and bindings. Every declaration runs on a throwaway channel, so a
 * refused one never breaks the channels other code shares.
 *
 * Resolves `"created"` when the queue (or one of its dead-letter/retry objects) did not exist, `"exists"` when an
 * equivalent queue and all its objects were already there (bindings are added either way). Throws a
 * {@link TransportError}: `INVALID_OPTIONS` for options that cannot work (before touching the broker) or a binding
 * to a missing exchange; `QUEUE_CONFLICT` when the queue (or its DLX/DLQ/retry queue) exists with different
 * arguments, naming it and the argument; `RABBITMQ_UNAVAILABLE`, `TIMEOUT` or `CLOSED` when RabbitMQ cannot be
 * used. RabbitMQ compares the arguments it knows (type, durability, TTL, max length, max priority, dead-lettering,
 * ...); bindings are never compared (they only add up).
 */
export async function declareQueue(
  manager: AmqpConnectionManager,
  name: string,
  options: QueueOptions,
): Promise<"created" | "exists"> {
  const plan = planQueue(name, options);
  const results = await applyQueuePlan(manager, plan);
  return results.some((result) => result.outcome === "created") ? "created" : "exists";
}

/**
 * Deletes queue `name` (only that queue: its DLQ and retry queues are queues of their own, deleted by name, so
 * dead letters are never thrown away by accident). Resolves `"not-found"` when there is no such queue. With
 * `ifEmpty`, a queue holding ready messages is kept and a {@link TransportError} `QUEUE_NOT_EMPTY` naming it and
 * its message count is thrown (the count is read just before deleting: a message published in that instant is
 * deleted with the queue; RabbitMQ's own if-empty flag is not used because quorum queues answer it by closing the
 * whole connection). Throws `RABBITMQ_UNAVAILABLE`, `TIMEOUT` or `CLOSED` when RabbitMQ cannot be used.
 */
export async function deleteQueue(
  manager: AmqpConnectionManager,
  name: string,
  options: { ifEmpty?: boolean } = {},
): Promise<"deleted" | "not-found"> {
  const found = await inspectQueue(manager, name);
  if (!found) return "not-found";
  if (options.ifEmpty && found.messageCount > 0) {
    throw new TransportError(
      "QUEUE_NOT_EMPTY",
      `queue "${name}" was not deleted: it holds ${found.messageCount} message(s) and ifEmpty was set`,
    );
  }
  const what = `RabbitMQ deletion of queue "${name}"`;
  try {
    // Never the AMQP if-empty flag: quorum queues answer it with 540 NOT_IMPLEMENTED, a connection-level error
    // that would close every channel of the connection. The count above decides instead.
    await onThrowawayChannel(manager, what, (channel) => channel.deleteQueue(name));
  } catch (error) {
    if (amqpReplyCode(error) === 404) return "not-found";
    throw unexpectedReply(error, what);
  }
  return "deleted";
}
