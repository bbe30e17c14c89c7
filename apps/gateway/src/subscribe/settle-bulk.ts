import { HttpError } from "@kronos/app-kit";
import type { FastifyBaseLogger } from "fastify";
import type { SettleCommand, Settled, Settler } from "./settle.js";

/** What became of one item of a bulk settle: the status and code the single-handle route would have answered. */
export interface BulkItemResult {
  readonly handle: string;
  /** 204 acked, 202 retried or dead-lettered, else the single route's error status (404, 409, 403, 503). */
  readonly status: number;
  readonly outcome?: Settled["outcome"];
  readonly messageId?: string | null;
  readonly attempt?: number;
  readonly code?: string;
  readonly message?: string;
}

/** The answer of a bulk settle: a result per item, in the items' order, and the counts. */
export interface BulkResult {
  readonly results: BulkItemResult[];
  readonly succeeded: number;
  readonly failed: number;
}

/** Settles started and not finished at once, at most: acks finish at once, copies wait for the broker's confirm. */
export const BULK_MAX_IN_FLIGHT = 64;

/**
 * Settles `commands` for `identity` through `settler`, each exactly as its single-handle route would, and answers
 * per item. Items start in their order (at most {@link BULK_MAX_IN_FLIGHT} at once): a Kafka or RabbitMQ ack is
 * decided the moment it starts, so running them side by side ends the same as one after the other. A handle
 * repeated in the list starts only once its earlier item finished, so it gets what a repeated request would get
 * (409 after a success). An item that fails leaves the others as they are; nothing is undone. Never rejects.
 */
export async function settleAll(
  settler: Settler,
  identity: string,
  commands: readonly SettleCommand[],
  logger: FastifyBaseLogger,
): Promise<BulkResult> {
  const results = new Array<BulkItemResult>(commands.length);
  const lastOf = new Map<string, Promise<void>>();
  const inFlight = new Set<Promise<void>>();
  let succeeded = 0;
  const one = async (index: number, command: SettleCommand): Promise<void> => {
    const result = await settleOne(settler, identity, command, logger);
    if (result.status < 300) succeeded++;
    results[index] = result;
  };
  for (const [index, command] of commands.entries()) {
    while (inFlight.size >= BULK_MAX_IN_FLIGHT) await Promise.race(inFlight);
    const earlier = lastOf.get(command.handle);
    const run = earlier === undefined ? one(index, command) : earlier.then(() => one(index, command));
    const tracked: Promise<void> = run.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    lastOf.set(command.handle, tracked);
  }
  await Promise.all(inFlight);
  return { results, succeeded, failed: commands.length - succeeded };
}

async function settleOne(
  settler: Settler,
  identity: string,
  command: SettleCommand,
  logger: FastifyBaseLogger,
): Promise<BulkItemResult> {
  const { handle } = command;
  try {
    const settled = await settler.settle(identity, command);
    return { handle, status: settled.outcome === "acked" ? 204 : 202, ...settled };
  } catch (error) {
    if (error instanceof HttpError) {
      return { handle, status: error.statusCode, code: error.code, message: error.message };
    }
    // Settler answers HttpErrors only; anything else is a bug, logged, and this item alone fails.
    logger.error({ err: error, handle }, "settling an item of a bulk request failed unexpectedly");
    return {
      handle,
      status: 503,
      code: "SETTLE_FAILED",
      message: `could not ${command.action} delivery "${handle}" right now; try again`,
    };
  }
}
