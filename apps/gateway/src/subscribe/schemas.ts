import { type Static, Type } from "typebox";
import { errorResponses } from "../routes/error-responses.js";
import { MAX_EVENT_ID_LENGTH } from "./cursor.js";

/** `GET /subscribe/:topic` path. */
export const SubscribeParams = Type.Object(
  {
    topic: Type.String({
      minLength: 1,
      maxLength: 255,
      description: "A RabbitMQ queue or a Kafka topic (see the README: how the broker is chosen).",
    }),
  },
  { additionalProperties: false },
);

/** `GET /subscribe/:topic` query. `key` and `header.<name>` filters are read from the raw query (see filters.ts). */
export const SubscribeQuery = Type.Object(
  {
    broker: Type.Optional(Type.Union([Type.Literal("kafka"), Type.Literal("rabbitmq")])),
    group: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        pattern: "^[A-Za-z0-9._-]+$",
        description: "Kafka: join this consumer group (offsets committed up to the lowest unacked message).",
      }),
    ),
    from: Type.Optional(
      Type.Union([Type.Literal("latest"), Type.Literal("earliest")], {
        description: "Kafka: where a tail without a group, or a new group, starts. Default latest.",
      }),
    ),
    // Digits rather than integers: the TypeBox validator does not coerce query strings (routes.ts parses them).
    prefetch: Type.Optional(
      Type.String({
        pattern: "^[1-9][0-9]{0,5}$",
        description: "Unacknowledged deliveries at once (capped at GATEWAY_SUBSCRIBE_MAX_PREFETCH).",
      }),
    ),
    leaseMs: Type.Optional(
      Type.String({
        pattern: "^[1-9][0-9]{2,8}$",
        description:
          "How long a delivery stays held without an ack, in ms (≥ 100, capped at GATEWAY_SUBSCRIBE_MAX_LEASE_MS).",
      }),
    ),
    key: Type.Optional(Type.String({ description: "Only messages with exactly this key / routing key." })),
  },
  // `header.<name>=<value>` filters are extra properties.
  { additionalProperties: Type.String() },
);
/** {@link SubscribeQuery}'s type. */
export type SubscribeQuery = Static<typeof SubscribeQuery>;

/** The handle path of `POST /ack/:messageId`, `/retry/:messageId`, `/reject/:messageId`. */
export const HandleParams = Type.Object(
  {
    messageId: Type.String({
      minLength: 1,
      maxLength: MAX_EVENT_ID_LENGTH,
      description: "The `id` of the SSE event (a delivery handle, not the message's own id).",
    }),
  },
  { additionalProperties: false },
);

/** `POST /retry/:messageId` body (optional). */
export const RetryBody = Type.Union([
  Type.Object(
    {
      delayMs: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 86_400_000,
          description:
            "Wait before the message comes back; rounded up to the next retry tier. Default: the first tier.",
        }),
      ),
      reason: Type.Optional(Type.String({ maxLength: 1024, description: "Kept as the last error." })),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
/** {@link RetryBody}'s type. */
export type RetryBody = Static<typeof RetryBody>;

/** `POST /reject/:messageId` body (optional). */
export const RejectBody = Type.Union([
  Type.Object(
    { reason: Type.Optional(Type.String({ maxLength: 1024, description: "Why; kept as the dead letter's error." })) },
    { additionalProperties: false },
  ),
  Type.Null(),
]);
/** {@link RejectBody}'s type. */
export type RejectBody = Static<typeof RejectBody>;

/** `POST /retry` and `POST /reject` answers. */
export const SettledBody = Type.Object(
  {
    messageId: Type.Union([Type.String(), Type.Null()]),
    outcome: Type.Union([Type.Literal("retried"), Type.Literal("dead-lettered")]),
    attempt: Type.Integer({ description: "The attempt the message was on when it was settled." }),
  },
  { additionalProperties: false },
);

const errors = errorResponses(400, 401, 403, 404, 409, 429, 500, 503);

/** Responses of `GET /subscribe/:topic` (200 is the event stream). */
export const SUBSCRIBE_RESPONSES = {
  200: Type.String({ description: "text/event-stream: `message` events, `id` = the delivery handle." }),
  ...errors,
};
/** Responses of `POST /ack/:messageId`. */
export const ACK_RESPONSES = { 204: Type.Null(), ...errors };
/** Responses of `POST /retry/:messageId` and `POST /reject/:messageId`. */
export const SETTLE_RESPONSES = { 202: SettledBody, ...errors };

/** One item of `POST /settle`. */
export const SettleItem = Type.Object(
  {
    handle: Type.String({
      minLength: 1,
      maxLength: MAX_EVENT_ID_LENGTH,
      description: "The `id` of the SSE event (a delivery handle).",
    }),
    action: Type.Union([Type.Literal("ack"), Type.Literal("retry"), Type.Literal("reject")]),
    delayMs: Type.Optional(
      Type.Integer({ minimum: 0, maximum: 86_400_000, description: "Retry only: as `POST /retry`'s `delayMs`." }),
    ),
    reason: Type.Optional(Type.String({ maxLength: 1024, description: "Retry and reject: as their `reason`." })),
  },
  { additionalProperties: false },
);

/** `POST /settle` body, at most `maxItems` items (`GATEWAY_SUBSCRIBE_MAX_SETTLE_ITEMS`). */
export function settleBody(maxItems: number) {
  return Type.Object(
    { items: Type.Array(SettleItem, { minItems: 1, maxItems, description: "Settled in this order." }) },
    { additionalProperties: false },
  );
}
/** `POST /settle` body's type. */
export type SettleBody = Static<ReturnType<typeof settleBody>>;

/** One item's result of `POST /settle`: what its single-handle route would have answered. */
export const SettleItemResult = Type.Object(
  {
    handle: Type.String(),
    status: Type.Integer({ description: "204 acked, 202 retried or dead-lettered; else 403, 404, 409 or 503." }),
    outcome: Type.Optional(Type.Union([Type.Literal("acked"), Type.Literal("retried"), Type.Literal("dead-lettered")])),
    messageId: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    attempt: Type.Optional(Type.Integer()),
    code: Type.Optional(Type.String({ description: "The single route's error code, e.g. `ALREADY_ACKED`." })),
    message: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Responses of `POST /settle`. */
export const BULK_SETTLE_RESPONSES = {
  200: Type.Object(
    {
      results: Type.Array(SettleItemResult, { description: "One per item, in the items' order." }),
      succeeded: Type.Integer(),
      failed: Type.Integer(),
    },
    { additionalProperties: false },
  ),
  ...errorResponses(400, 401, 403, 413, 429, 500, 503),
};

/** Responses of `POST /ack-through/:messageId`. */
export const ACK_THROUGH_RESPONSES = {
  200: Type.Object(
    {
      acked: Type.Integer({ description: "Deliveries acked, the named one included." }),
      handles: Type.Array(Type.String(), { description: "Their handles, the named one first." }),
    },
    { additionalProperties: false },
  ),
  ...errors,
};
