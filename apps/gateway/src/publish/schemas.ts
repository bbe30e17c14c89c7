import { type Static, Type } from "typebox";
import { errorResponses } from "../routes/error-responses.js";

/** One message to publish: where, which event, key, headers, priority and the JSON payload. */
export const PublishMessage = Type.Object(
  {
    topic: Type.String({
      minLength: 1,
      maxLength: 255,
      description: "A destination of the contract manifest: a Kafka topic or a RabbitMQ exchange.",
    }),
    broker: Type.Optional(
      Type.Union([Type.Literal("kafka"), Type.Literal("rabbitmq")], {
        description: "Only needed when the name is both a Kafka topic and a RabbitMQ exchange.",
      }),
    ),
    event: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: "Fully qualified event name; optional when the destination carries one event type.",
      }),
    ),
    key: Type.Optional(
      Type.String({
        maxLength: 255,
        description:
          "Kafka partition key or RabbitMQ routing key. Default: the manifest's (key field value / routing-key template).",
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 4096 }), {
        maxProperties: 64,
        description:
          "Extra message headers. `message-id` (default: a new UUID), `correlation-id` and `traceparent` may be given; " +
          "`event-type`, `content-type`, `producer` and `timestamp` are set by the gateway.",
      }),
    ),
    priority: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 255,
        description: "RabbitMQ only, on exchanges whose queues have a max priority (0 to that maximum).",
      }),
    ),
    payload: Type.Object({}, { additionalProperties: true, description: "The event, as JSON (see the README)." }),
  },
  { additionalProperties: false },
);
/** {@link PublishMessage}'s type. */
export type PublishMessage = Static<typeof PublishMessage>;

/** The `Idempotency-Key` request header. */
export const PublishHeaders = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: "^[\\x21-\\x7e]+$",
      description: "Same key + same request within the window: the first answer again, nothing published twice.",
    }),
  ),
});

/** The 202 body: the broker has the message. */
export const PublishAccepted = Type.Object(
  {
    messageId: Type.String(),
    topic: Type.String(),
    broker: Type.Union([Type.Literal("kafka"), Type.Literal("rabbitmq")]),
    partition: Type.Optional(Type.Integer({ description: "Kafka only." })),
    offset: Type.Optional(Type.String({ description: "Kafka only (a decimal string: offsets are 64-bit)." })),
  },
  { additionalProperties: false },
);

/** One problem of a payload. */
export const ViolationBody = Type.Object(
  {
    index: Type.Optional(Type.Integer({ description: "Batch only: the message's position in `messages`." })),
    path: Type.String({ description: "Where in the payload, e.g. `meta.occurredAt`, `items[2].sku`." }),
    message: Type.String(),
  },
  { additionalProperties: false },
);

/**
 * 422 body: `VALIDATION_FAILED` with the first 100 violations (`more`: how many were left out), or another code
 * (`UNROUTABLE`, ...) without `errors`.
 */
export const UnprocessableBody = Type.Object(
  {
    code: Type.String(),
    message: Type.String(),
    errors: Type.Optional(Type.Array(ViolationBody, { maxItems: 100, description: "The first 100 violations." })),
    more: Type.Optional(Type.Integer({ minimum: 1, description: "How many violations `errors` leaves out." })),
  },
  { additionalProperties: false },
);

/** One message's result in a batch answer. */
export const BatchResult = Type.Object(
  {
    index: Type.Integer(),
    status: Type.Integer({ description: "202 when the broker has it, else the status a single publish would get." }),
    messageId: Type.String(),
    topic: Type.String(),
    broker: Type.Union([Type.Literal("kafka"), Type.Literal("rabbitmq")]),
    partition: Type.Optional(Type.Integer()),
    offset: Type.Optional(Type.String()),
    code: Type.Optional(Type.String()),
    message: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** The batch answer (202: all accepted; 207: some were not). */
export const BatchAnswer = Type.Object({ results: Type.Array(BatchResult) }, { additionalProperties: false });

/** A destination clients can publish to. */
export const DestinationBody = Type.Object(
  {
    topic: Type.String(),
    broker: Type.Union([Type.Literal("kafka"), Type.Literal("rabbitmq")]),
    events: Type.Array(Type.String()),
    maxPriority: Type.Union([Type.Integer(), Type.Null()]),
  },
  { additionalProperties: false },
);

const errors = { ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429, 500, 502, 503), 422: UnprocessableBody };

/** Response schemas of `POST /publish`. */
export const PUBLISH_RESPONSES = { 202: PublishAccepted, ...errors };
/** Response schemas of `POST /publish/batch`. */
export const BATCH_RESPONSES = { 202: BatchAnswer, 207: BatchAnswer, ...errors };
