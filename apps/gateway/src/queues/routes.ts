import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError, requireRight, typeBoxValidatorCompiler } from "@kronos/app-kit";
import {
  createTopic,
  deadLetterExchangeName,
  deadLetterQueueName,
  declareQueue,
  deleteQueue,
  deleteTopic,
  describeTopics,
  isInternalName,
  type QueueInfo,
  type QueueOptions,
  RabbitManagementClient,
  retryQueueName,
  type TopicInfo,
  type TopicOptions,
} from "@kronos/transport";
import type { FastifyRequest } from "fastify";
import { checkDestination, checkName } from "../names.js";
import type { QueuesConfig } from "./config.js";
import { toHttpError } from "./errors.js";
import { type Broker, formatQueueId, type Protected, parseQueueId, protectedBy } from "./managed.js";
import {
  CREATE_RESPONSES,
  CreateQueueBody,
  type CreateQueueReply,
  DELETE_RESPONSES,
  DeleteQueueQuery,
  type KafkaTopicEntry,
  LIST_RESPONSES,
  ListQueuesQuery,
  OPTIONS_BY_BROKER,
  QueueIdParams,
  type RabbitQueueEntry,
} from "./schemas.js";

/** Options of {@link queueRoutes}. */
export interface QueueRoutesOptions extends QueuesConfig {
  /** The gateway's Kafka reply topic (`GATEWAY_REPLY_TOPIC`): never deleted here. */
  readonly replyTopic: string;
}

/** The RabbitMQ vhost of an AMQP URL: its path without the leading `/`, decoded; "/" when there is none. */
export function vhostOf(amqpUrl: string): string {
  const path = new URL(amqpUrl).pathname;
  return path === "" || path === "/" ? "/" : decodeURIComponent(path.slice(1));
}

const CODE_BY_PART: Readonly<Record<string, string>> = {
  body: "INVALID_OPTIONS",
  params: "INVALID_QUEUE_ID",
  querystring: "INVALID_QUERY",
};

/** Turns a schema validation failure (attached, so authorization runs first) into a 400 with a code. */
function rejectInvalid(request: FastifyRequest): void {
  const error = request.validationError;
  if (!error) return;
  const part = (error as { validationContext?: string }).validationContext ?? "body";
  throw new HttpError(400, CODE_BY_PART[part] ?? "BAD_REQUEST", error.message);
}

function rabbitEntry(queue: QueueInfo, guard: Protected): RabbitQueueEntry {
  return {
    id: formatQueueId("rabbitmq", queue.name),
    broker: "rabbitmq",
    name: queue.name,
    managedBy: protectedBy({ broker: "rabbitmq", name: queue.name }, guard) === undefined ? "api" : "manifest",
    vhost: queue.vhost,
    type: queue.type,
    durable: queue.durable,
    messagesReady: queue.messagesReady,
    messagesUnacknowledged: queue.messagesUnacknowledged,
    consumers: queue.consumers,
    maxPriority: queue.maxPriority,
    deadLetter:
      queue.deadLetterExchange === null
        ? null
        : { exchange: queue.deadLetterExchange, routingKey: queue.deadLetterRoutingKey },
    arguments: queue.arguments,
  };
}

function kafkaEntry(topic: TopicInfo, guard: Protected): KafkaTopicEntry {
  return {
    id: formatQueueId("kafka", topic.name),
    broker: "kafka",
    name: topic.name,
    managedBy: protectedBy({ broker: "kafka", name: topic.name }, guard) === undefined ? "api" : "manifest",
    replicationFactor: topic.replicationFactor,
    retentionMs: topic.config.retentionMs,
    cleanupPolicy: topic.config.cleanupPolicy,
    partitions: topic.partitions.map((p) => ({ partition: p.partition, startOffset: p.low, endOffset: p.high })),
    consumerGroups: topic.consumerGroups.map((group) => ({
      groupId: group.groupId,
      totalLag: group.totalLag,
      partitions: group.partitions.map((p) => ({ partition: p.partition, committed: p.committed, lag: p.lag })),
    })),
  };
}

/** Splits the flat body into the broker's options; an option of the other broker is 400 `INVALID_OPTIONS`. */
function brokerOptions(body: CreateQueueBody): QueueOptions | TopicOptions {
  const allowed: readonly string[] = OPTIONS_BY_BROKER[body.broker];
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === "name" || key === "broker" || value === undefined) continue;
    if (!allowed.includes(key)) {
      throw new HttpError(
        400,
        "INVALID_OPTIONS",
        `option "${key}" does not apply to ${body.broker}; ${body.broker} accepts: ${allowed.join(", ")}`,
      );
    }
    options[key] = value;
  }
  return options;
}

function deadLetterNames(name: string, options: QueueOptions): CreateQueueReply["deadLetter"] {
  if (!options.deadLetter) return undefined;
  const delays = options.deadLetter === true ? [] : (options.deadLetter.retryDelaysMs ?? []);
  return {
    exchange: deadLetterExchangeName(name),
    queue: deadLetterQueueName(name),
    retryQueues: delays.map((delay) => retryQueueName(name, delay)),
  };
}

/**
 * Queue administration, every route needing the `admin` right:
 * `GET /queues` (RabbitMQ queues with live figures from the management API, Kafka topics with end offsets and
 * consumer-group lag; `?broker=` and `?prefix=` narrow it), `POST /queues/create` (201 created, 200 an equivalent
 * one exists, 409 `QUEUE_CONFLICT` / `TOPIC_CONFLICT`, 400 `INVALID_OPTIONS`) and `DELETE /queues/:queueId`
 * (`<broker>:<name>`; 204, 404, 409 `QUEUE_NOT_EMPTY` / `TOPIC_NOT_EMPTY` with `?ifEmpty=true`, 409
 * `MANAGED_BY_MANIFEST` for the manifest's topics and queues). A broker or the management API that cannot be
 * reached is 503 with `Retry-After`. The manifest's topics and queues come from `app.contracts` (the `contracts`
 * plugin). Every AMQP operation runs on a throwaway channel: a refused declaration never breaks shared channels.
 */
export const queueRoutes: FastifyPluginAsyncTypebox<QueueRoutesOptions> = async (app, options) => {
  const managed = app.contracts.managed;
  const guard: Protected = { manifest: managed, replyTopic: options.replyTopic };
  // An https management API is trusted with the AMQP connection's CA bundle (RABBITMQ_SSL_CA_FILE).
  const management = new RabbitManagementClient({
    url: options.rabbitmqManagementUrl,
    caFile: app.config.rabbitmq.tls?.caFile,
  });
  const vhost = vhostOf(app.config.rabbitmqUrl);

  // TypeBox's own validator: Fastify's Ajv would silently drop unknown options (removeAdditional) instead of 400.
  app.setValidatorCompiler(typeBoxValidatorCompiler);
  const admin = requireRight("admin");

  app.get(
    "/queues",
    {
      attachValidation: true,
      onRequest: admin,
      schema: {
        operationId: "listQueues",
        summary: "Managed queues and topics with live figures",
        tags: ["queues"],
        querystring: ListQueuesQuery,
        response: LIST_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      const { broker, prefix = "" } = request.query;
      if (prefix !== "") checkName(prefix);
      const wanted = (b: Broker, name: string) => name.startsWith(prefix) && !isInternalName(b, name);
      try {
        const [queues, topics] = await Promise.all([
          broker === "kafka" ? [] : management.listQueues(vhost),
          broker === "rabbitmq" ? [] : describeTopics(app.kafka),
        ]);
        return {
          queues: [
            ...queues.filter((q) => wanted("rabbitmq", q.name)).map((q) => rabbitEntry(q, guard)),
            ...topics.filter((t) => wanted("kafka", t.name)).map((t) => kafkaEntry(t, guard)),
          ],
        };
      } catch (error) {
        throw toHttpError(error, reply);
      }
    },
  );

  app.post(
    "/queues/create",
    {
      attachValidation: true,
      onRequest: admin,
      schema: {
        operationId: "createQueue",
        summary: "Create a RabbitMQ queue or a Kafka topic (idempotent)",
        tags: ["queues"],
        body: CreateQueueBody,
        response: CREATE_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      const body = request.body;
      checkDestination(body.name, body.broker);
      const brokerOpts = brokerOptions(body);
      for (const binding of (brokerOpts as QueueOptions).bindings ?? []) checkName(binding.exchange, "rabbitmq");
      let outcome: "created" | "exists";
      try {
        outcome =
          body.broker === "rabbitmq"
            ? await declareQueue(app.amqp, body.name, brokerOpts as QueueOptions)
            : await createTopic(app.kafka, body.name, brokerOpts as TopicOptions);
      } catch (error) {
        throw toHttpError(error, reply);
      }
      const answer: CreateQueueReply = {
        id: formatQueueId(body.broker, body.name),
        broker: body.broker,
        name: body.name,
        outcome,
      };
      const deadLetter =
        body.broker === "rabbitmq" ? deadLetterNames(body.name, brokerOpts as QueueOptions) : undefined;
      if (deadLetter) answer.deadLetter = deadLetter;
      return reply.code(outcome === "created" ? 201 : 200).send(answer);
    },
  );

  app.delete(
    "/queues/:queueId",
    {
      attachValidation: true,
      onRequest: admin,
      schema: {
        operationId: "deleteQueue",
        summary: "Delete a queue or topic not declared by the manifest",
        tags: ["queues"],
        params: QueueIdParams,
        querystring: DeleteQueueQuery,
        response: DELETE_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      const ref = parseQueueId(request.params.queueId);
      if (!ref) {
        throw new HttpError(
          400,
          "INVALID_QUEUE_ID",
          `queue id "${request.params.queueId}" must be rabbitmq:<name> or kafka:<name>`,
        );
      }
      // Before any comparison: RabbitMQ strips CR/LF, so "orders\n" would pass the manifest check and name "orders".
      checkDestination(ref.name, ref.broker);
      const id = formatQueueId(ref.broker, ref.name);
      const reason = protectedBy(ref, guard);
      if (reason !== undefined) {
        throw new HttpError(
          409,
          "MANAGED_BY_MANIFEST",
          `${id} ${reason} (the manifest, schemas/asyncapi.yaml, is the source of truth): it is not deleted here`,
        );
      }
      const ifEmpty = request.query.ifEmpty === true;
      const notFound = () =>
        new HttpError(404, ref.broker === "kafka" ? "TOPIC_NOT_FOUND" : "QUEUE_NOT_FOUND", `${id} does not exist`);
      let result: "deleted" | "not-found";
      try {
        if (ref.broker === "rabbitmq") {
          result = await deleteQueue(app.amqp, ref.name, { ifEmpty });
        } else {
          if (ifEmpty) {
            const [topic] = await describeTopics(app.kafka, [ref.name]);
            if (!topic) throw notFound();
            const held = topic.partitions.reduce((sum, p) => sum + (p.high - p.low), 0);
            if (held > 0) {
              throw new HttpError(
                409,
                "TOPIC_NOT_EMPTY",
                `topic "${ref.name}" was not deleted: it holds ${held} message(s) and ifEmpty was set`,
              );
            }
          }
          result = await deleteTopic(app.kafka, ref.name);
        }
      } catch (error) {
        throw toHttpError(error, reply);
      }
      if (result === "not-found") throw notFound();
      return reply.code(204).send(null);
    },
  );
};
