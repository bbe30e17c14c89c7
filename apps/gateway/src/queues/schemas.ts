import { type Static, Type } from "typebox";
import { errorResponses } from "../routes/error-responses.js";

const BrokerName = Type.Union([Type.Literal("rabbitmq"), Type.Literal("kafka")], {
  description: "Which broker: RabbitMQ (queues) or Kafka (topics).",
});

const ManagedBy = Type.Union([Type.Literal("manifest"), Type.Literal("api")], {
  description:
    '"manifest": declared by the contract manifest (cannot be deleted here); "api": any other queue or topic on ' +
    "the broker (created through POST /queues/create or by other tools), administered through this API.",
});

const QueueIdText = Type.String({
  description: "`<broker>:<name>`, e.g. `rabbitmq:orders` or `kafka:kronos.log.entries`.",
});

/** Body of `POST /queues/create`: flat options; which ones apply to which broker is checked by the route. */
export const CreateQueueBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 249, description: "Queue or topic name." }),
    broker: BrokerName,
    type: Type.Optional(
      Type.Union([Type.Literal("classic"), Type.Literal("quorum")], {
        description: "RabbitMQ only. Queue type; default classic.",
      }),
    ),
    maxPriority: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 255, description: "RabbitMQ only, classic queues: x-max-priority." }),
    ),
    messageTtlMs: Type.Optional(Type.Integer({ minimum: 0, description: "RabbitMQ only: x-message-ttl in ms." })),
    maxLength: Type.Optional(Type.Integer({ minimum: 0, description: "RabbitMQ only: x-max-length (messages)." })),
    deliveryLimit: Type.Optional(
      Type.Integer({ minimum: 0, description: "RabbitMQ only, quorum queues: x-delivery-limit." }),
    ),
    bindings: Type.Optional(
      Type.Array(
        Type.Object(
          {
            exchange: Type.String({ minLength: 1, description: "An existing exchange." }),
            routingKey: Type.String({ description: "Binding key." }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 100, description: "RabbitMQ only: bindings to existing exchanges." },
      ),
    ),
    deadLetter: Type.Optional(
      Type.Union(
        [
          Type.Boolean(),
          Type.Object(
            {
              retryDelaysMs: Type.Optional(
                Type.Array(Type.Integer({ minimum: 1 }), {
                  maxItems: 20,
                  uniqueItems: true,
                  description: "One retry queue `<name>.retry.<ms>` per delay.",
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ],
        {
          description:
            "RabbitMQ only: creates the dead-letter exchange `<name>.dlx` and queue `<name>.dlq` (and retry queues).",
        },
      ),
    ),
    partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000, description: "Kafka only." })),
    replicationFactor: Type.Optional(Type.Integer({ minimum: 1, maximum: 32767, description: "Kafka only." })),
    retentionMs: Type.Optional(Type.Integer({ minimum: -1, description: "Kafka only: retention.ms (-1: forever)." })),
    cleanupPolicy: Type.Optional(
      Type.Union([Type.Literal("delete"), Type.Literal("compact"), Type.Literal("compact,delete")], {
        description: "Kafka only: cleanup.policy.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateQueueBody = Static<typeof CreateQueueBody>;

/** The options of {@link CreateQueueBody} each broker accepts (any other is 400 `INVALID_OPTIONS`). */
export const OPTIONS_BY_BROKER = {
  rabbitmq: ["type", "maxPriority", "messageTtlMs", "maxLength", "deliveryLimit", "bindings", "deadLetter"],
  kafka: ["partitions", "replicationFactor", "retentionMs", "cleanupPolicy"],
} as const satisfies Record<"rabbitmq" | "kafka", ReadonlyArray<keyof CreateQueueBody>>;

/** Answer of `POST /queues/create`: 201 with `outcome: "created"`, 200 with `outcome: "exists"`. */
export const CreateQueueReply = Type.Object(
  {
    id: QueueIdText,
    broker: BrokerName,
    name: Type.String(),
    outcome: Type.Union([Type.Literal("created"), Type.Literal("exists")]),
    deadLetter: Type.Optional(
      Type.Object(
        {
          exchange: Type.String({ description: "Dead-letter exchange (topic)." }),
          queue: Type.String({ description: "Dead-letter queue." }),
          retryQueues: Type.Array(Type.String(), { description: "Retry queues, one per delay." }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CreateQueueReply = Static<typeof CreateQueueReply>;

/** Query of `GET /queues`. */
export const ListQueuesQuery = Type.Object(
  {
    broker: Type.Optional(BrokerName),
    prefix: Type.Optional(Type.String({ description: "Only names starting with this text." })),
  },
  { additionalProperties: false },
);

/** One RabbitMQ queue in `GET /queues` (figures from the management API: they lag a few seconds). */
export const RabbitQueueEntry = Type.Object(
  {
    id: QueueIdText,
    broker: Type.Literal("rabbitmq"),
    name: Type.String(),
    managedBy: ManagedBy,
    vhost: Type.String(),
    type: Type.String({ description: "classic, quorum or stream." }),
    durable: Type.Boolean(),
    messagesReady: Type.Integer(),
    messagesUnacknowledged: Type.Integer(),
    consumers: Type.Integer(),
    maxPriority: Type.Union([Type.Integer(), Type.Null()]),
    deadLetter: Type.Union([
      Type.Object(
        {
          exchange: Type.String({ description: 'x-dead-letter-exchange ("" is the default exchange).' }),
          routingKey: Type.Union([Type.String(), Type.Null()], {
            description: "x-dead-letter-routing-key; null keeps the message's key.",
          }),
        },
        { additionalProperties: false },
      ),
      Type.Null(),
    ]),
    arguments: Type.Record(Type.String(), Type.Unknown(), { description: "Every x- argument." }),
  },
  { additionalProperties: false },
);
export type RabbitQueueEntry = Static<typeof RabbitQueueEntry>;

/** One Kafka topic in `GET /queues`. */
export const KafkaTopicEntry = Type.Object(
  {
    id: QueueIdText,
    broker: Type.Literal("kafka"),
    name: Type.String(),
    managedBy: ManagedBy,
    replicationFactor: Type.Integer(),
    retentionMs: Type.Union([Type.Integer(), Type.Null()]),
    cleanupPolicy: Type.Union([Type.String(), Type.Null()]),
    partitions: Type.Array(
      Type.Object(
        {
          partition: Type.Integer(),
          startOffset: Type.Integer({ description: "Low watermark." }),
          endOffset: Type.Integer({ description: "High watermark: the next offset written." }),
        },
        { additionalProperties: false },
      ),
    ),
    consumerGroups: Type.Array(
      Type.Object(
        {
          groupId: Type.String(),
          totalLag: Type.Integer(),
          partitions: Type.Array(
            Type.Object(
              {
                partition: Type.Integer(),
                committed: Type.Union([Type.Integer(), Type.Null()]),
                lag: Type.Union([Type.Integer(), Type.Null()], { description: "endOffset - committed." }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
      { description: "Every consumer group with committed offsets on the topic." },
    ),
  },
  { additionalProperties: false },
);
export type KafkaTopicEntry = Static<typeof KafkaTopicEntry>;

/** Answer of `GET /queues`: RabbitMQ queues then Kafka topics, each sorted by name. */
export const ListQueuesReply = Type.Object(
  { queues: Type.Array(Type.Union([RabbitQueueEntry, KafkaTopicEntry])) },
  { additionalProperties: false },
);
export type ListQueuesReply = Static<typeof ListQueuesReply>;

/** Params of `DELETE /queues/:queueId`. */
export const QueueIdParams = Type.Object({ queueId: QueueIdText }, { additionalProperties: false });

/** Query of `DELETE /queues/:queueId`. */
export const DeleteQueueQuery = Type.Object(
  {
    ifEmpty: Type.Optional(
      Type.Boolean({ description: "true: refuse (409 QUEUE_NOT_EMPTY / TOPIC_NOT_EMPTY) when it holds messages." }),
    ),
  },
  { additionalProperties: false },
);

/** Response schemas per status code. */
export const LIST_RESPONSES = { 200: ListQueuesReply, ...errorResponses(400, 401, 403, 502, 503) };
export const CREATE_RESPONSES = {
  200: CreateQueueReply,
  201: CreateQueueReply,
  ...errorResponses(400, 401, 403, 409, 502, 503),
};
export const DELETE_RESPONSES = {
  204: Type.Null({ description: "Deleted." }),
  ...errorResponses(400, 401, 403, 404, 409, 502, 503),
};
