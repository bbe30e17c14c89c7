import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { typeBoxValidatorCompiler } from "@kronos/app-kit";
import { gatewayHttpError } from "../errors.js";
import type { SubscribeMetrics } from "./metrics.js";
import { identityOf, rejectInvalid } from "./request.js";
import { ACK_THROUGH_RESPONSES, BULK_SETTLE_RESPONSES, HandleParams, settleBody } from "./schemas.js";
import type { SettleCommand, Settler } from "./settle.js";
import { settleAll } from "./settle-bulk.js";

/** Options of {@link bulkSettleRoutes}. */
export interface BulkSettleRoutesOptions {
  readonly settler: Settler;
  readonly metrics: SubscribeMetrics;
  /** Most items of one request (`GATEWAY_SUBSCRIBE_MAX_SETTLE_ITEMS`). */
  readonly maxSettleItems: number;
}

/**
 * Settling many deliveries in one request (see README.md, "Settling in bulk"); both count as one request toward the
 * principal's rate limit (the single-handle routes do not count at all):
 *
 * - `POST /settle` `{ items: [{ handle, action: ack|retry|reject, delayMs?, reason? }] }` → 200
 *   `{ results: [{ handle, status, outcome?, messageId?, attempt?, code?, message? }], succeeded, failed }`: each
 *   item as its single-handle route would answer, in order (see {@link settleAll}). A body that is not such a list,
 *   or lists more than `maxSettleItems`, is one 400 and settles nothing.
 * - `POST /ack-through/:messageId` → 200 `{ acked, handles }`: the cumulative ack of {@link Settler.ackThrough}.
 */
export const bulkSettleRoutes: FastifyPluginAsyncTypebox<BulkSettleRoutesOptions> = async (app, options) => {
  const { settler, metrics, maxSettleItems } = options;
  app.setValidatorCompiler(typeBoxValidatorCompiler);

  app.post(
    "/settle",
    {
      attachValidation: true,
      schema: {
        tags: ["subscribe"],
        operationId: "settleDeliveries",
        summary: "Ack, retry or reject many deliveries in one request (a result per item, in order)",
        body: settleBody(maxSettleItems),
        response: BULK_SETTLE_RESPONSES,
      },
    },
    async (request, reply) => {
      const items = (request.body as { items?: unknown } | null)?.items;
      if (Array.isArray(items) && items.length > maxSettleItems) {
        throw gatewayHttpError(
          "TOO_MANY_SETTLEMENTS",
          `items lists ${items.length} deliveries; one request settles at most ${maxSettleItems} (GATEWAY_SUBSCRIBE_MAX_SETTLE_ITEMS): split it`,
        );
      }
      rejectInvalid(request);
      const commands = request.body.items.map(
        (item): SettleCommand => ({
          handle: item.handle,
          action: item.action,
          ...(item.delayMs === undefined ? {} : { delayMs: item.delayMs }),
          ...(item.reason === undefined ? {} : { reason: item.reason }),
        }),
      );
      const result = await settleAll(settler, identityOf(request), commands, request.log);
      metrics.batch("settle", commands.length);
      return reply.code(200).send(result);
    },
  );

  app.post(
    "/ack-through/:messageId",
    {
      attachValidation: true,
      schema: {
        tags: ["subscribe"],
        operationId: "ackDeliveriesThrough",
        summary: "Acknowledge a delivery and every earlier one of its subscription (Kafka: of its partition)",
        params: HandleParams,
        response: ACK_THROUGH_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      const acked = await settler.ackThrough(identityOf(request), request.params.messageId);
      return reply.code(200).send(acked);
    },
  );
};
