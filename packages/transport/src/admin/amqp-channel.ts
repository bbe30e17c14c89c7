import type { Channel } from "amqplib";
import { describeError, TransportError } from "../errors.js";
import type { AmqpConnectionManager } from "../rabbitmq/connection-manager.js";
import { withTimeout } from "../timeout.js";

/** Time limit of one administrative channel operation. */
export const AMQP_ADMIN_TIMEOUT_MS = 10_000;

/** The AMQP reply code of a failed channel operation (404 NOT_FOUND, 406 PRECONDITION_FAILED, ...), if any. */
export function amqpReplyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/** The broker's explanation in an amqplib channel error, without amqplib's "Operation failed: ..." prefix. */
export function amqpReplyText(error: unknown): string {
  const message = describeError(error);
  const quoted = /with message "(.*)"$/s.exec(message)?.[1] ?? message;
  return quoted.replace(/^[A-Z_]+ - /, "");
}

/**
 * Runs `operation` on a channel of its own, closed afterwards. A failed channel operation (404, 406) makes
 * RabbitMQ close that channel: a throwaway one keeps every other channel of the connection (the publishers'
 * confirm channels) working. Errors other than AMQP replies become `RABBITMQ_UNAVAILABLE`; the whole operation
 * is bounded by {@link AMQP_ADMIN_TIMEOUT_MS}.
 */
export async function onThrowawayChannel<T>(
  manager: AmqpConnectionManager,
  what: string,
  operation: (channel: Channel) => Promise<T>,
): Promise<T> {
  const run = async (): Promise<T> => {
    const channel = await manager.connection().createChannel();
    let open = true;
    // The rejected call reports the failure; the 'error' event must not go unhandled (it would crash the process).
    channel.on("error", () => {});
    channel.on("close", () => {
      open = false;
    });
    try {
      return await operation(channel);
    } finally {
      if (open) await channel.close().catch(() => {});
    }
  };
  try {
    return await withTimeout(run(), AMQP_ADMIN_TIMEOUT_MS, what);
  } catch (error) {
    if (error instanceof TransportError || amqpReplyCode(error) !== undefined) throw error;
    throw new TransportError("RABBITMQ_UNAVAILABLE", `${what} failed: ${describeError(error)}`, { cause: error });
  }
}

/** Whether queue `name` exists (a passive declare on a throwaway channel), with its ready message count. */
export async function inspectQueue(
  manager: AmqpConnectionManager,
  name: string,
): Promise<{ messageCount: number; consumerCount: number } | undefined> {
  try {
    return await onThrowawayChannel(manager, `RabbitMQ check of queue "${name}"`, async (channel) => {
      const { messageCount, consumerCount } = await channel.checkQueue(name);
      return { messageCount, consumerCount };
    });
  } catch (error) {
    if (amqpReplyCode(error) === 404) return undefined;
    throw unexpectedReply(error, `RabbitMQ check of queue "${name}"`);
  }
}

/** Whether exchange `name` exists (a passive declare on a throwaway channel). */
export async function exchangeExists(manager: AmqpConnectionManager, name: string): Promise<boolean> {
  try {
    await onThrowawayChannel(manager, `RabbitMQ check of exchange "${name}"`, (channel) => channel.checkExchange(name));
    return true;
  } catch (error) {
    if (amqpReplyCode(error) === 404) return false;
    throw unexpectedReply(error, `RabbitMQ check of exchange "${name}"`);
  }
}

/**
 * An AMQP reply nobody expected as a TransportError: 403 is `ACCESS_REFUSED` (the user's permissions), anything
 * else `RABBITMQ_UNAVAILABLE`. TransportErrors pass through.
 */
export function unexpectedReply(error: unknown, what: string): TransportError {
  if (error instanceof TransportError) return error;
  if (amqpReplyCode(error) === 403) return accessRefused(error, what);
  return new TransportError("RABBITMQ_UNAVAILABLE", `${what} failed: ${amqpReplyText(error)}`, { cause: error });
}

/**
 * The `ACCESS_REFUSED` error of a 403 reply to `what`: RabbitMQ's own text (it names the queue or exchange, the
 * vhost and the user, never a password), then what to do.
 */
export function accessRefused(error: unknown, what: string): TransportError {
  return new TransportError(
    "ACCESS_REFUSED",
    `${what} refused: ${amqpReplyText(error)}. Grant that RabbitMQ user configure/write/read permissions matching ` +
      "the name (rabbitmqctl set_permissions), or use a name its permissions cover",
    { cause: error },
  );
}
