import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError, requireAnyRight, typeBoxValidatorCompiler } from "@kronos/app-kit";
import { createAmqpRequester, createKafkaRequester } from "@kronos/transport";
import type { FastifyReply, FastifyRequest } from "fastify";
import {
  amqpMessageOf,
  clockOf,
  kafkaRequestOf,
  type MessageContext,
  type MessageFailure,
  messageCoreOf,
  type SendRequest,
  validationFailed,
} from "../messages/index.js";
import { checkName } from "../names.js";
import { GROUP_PREFIX } from "../subscribe/routes.js";
import type { RequestConfig } from "./config.js";
import { createRequestMetrics, type RequestOutcome } from "./metrics.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS, REQUEST_RESPONSES, RequestMessage } from "./schemas.js";

/** Options of {@link requestRoutes}. */
export type RequestRoutesOptions = RequestConfig;

function rejectInvalid(request: FastifyRequest): void {
  const error = request.validationError;
  if (error) throw new HttpError(400, "INVALID_REQUEST", error.message);
}

// Unlike publishing, X-Correlation-Id is not taken as the message's correlation id: it pairs a request with its
// reply, so it must be unique among the requests waiting. The default is the message id; `headers.correlation-id`
// chooses it.
function contextOf(request: FastifyRequest): MessageContext {
  const traceparent = request.headers.traceparent;
  return {
    principalId: request.principal?.id ?? "anonymous",
    traceparent: typeof traceparent === "string" && traceparent.trim() !== "" ? traceparent.trim() : undefined,
  };
}

function sendFailure(reply: FastifyReply, failure: MessageFailure): FastifyReply {
  if (failure.retryAfter !== undefined) reply.header("retry-after", String(failure.retryAfter));
  return reply.code(failure.statusCode).send({ code: failure.code, message: failure.message });
}

/**
 * `POST /request` (needs `produce` on the topic): `{ topic, broker?, event?, key?, headers?, priority?, payload,
 * timeoutMs? }` is checked and encoded exactly as `POST /publish` does (same 400/404/422 answers, nothing sent when
 * invalid), sent as a request, and answered 200 `{ messageId, correlationId, reply: { event, headers, payload } }`
 * with the reply decoded from its registered schema to JSON. On RabbitMQ the request goes to the exchange with
 * direct reply-to; on Kafka to the topic with `reply-to: <replyTopic>` (the gateway reads that topic in a group of
 * its own, created at start when missing). Errors: 504 `REPLY_TIMEOUT` (no reply within `timeoutMs`, default 5000,
 * at most 60000), 502 `REPLY_DECODE_FAILED`, 409 `CORRELATION_ID_IN_USE`, 422 `UNROUTABLE`, 503 + `Retry-After`
 * when a broker or the registry is unavailable. Closes its requesters on close.
 */
export const requestRoutes: FastifyPluginAsyncTypebox<RequestRoutesOptions> = async (app, options) => {
  const metrics = createRequestMetrics(app.metrics.registry);
  const anyProduce = requireAnyRight("produce");
  const core = messageCoreOf(app, {
    // The core gives request outcomes only (never a publish's accepted).
    outcome: (topic, broker, outcome, seconds) => metrics.requested(topic, broker, outcome as RequestOutcome, seconds),
  });
  const logger = app.log.child({ component: "request" });
  const amqp = createAmqpRequester(app.amqp, { logger });
  const kafka = createKafkaRequester(app.kafka, {
    replyTopic: options.replyTopic,
    publisher: app.publishers.kafka,
    clientId: `${app.config.app}-replies`,
    // Under the gateway's own group prefix: the stack's Kafka ACLs grant the gateway's user `gateway.` groups only.
    groupIdPrefix: `${GROUP_PREFIX}replies-`,
    logger,
  });
  app.addHook("onReady", async () => {
    // In the background: the gateway starts while Kafka is down, and the first Kafka request tries again.
    kafka.start().catch((error: unknown) => {
      logger.warn({ err: error, topic: options.replyTopic }, "cannot read Kafka replies yet");
    });
  });
  app.addHook("onClose", async () => {
    await Promise.all([amqp.close(), kafka.close()]);
  });
  // TypeBox's own validator: Fastify's Ajv would silently drop a misspelt field (removeAdditional) instead of 400.
  app.setValidatorCompiler(typeBoxValidatorCompiler);

  /** Sends an encoded request to its exchange (direct reply-to) or topic (the reply topic). */
  const send: SendRequest = (message, bytes, timeoutMs) =>
    message.route.broker === "kafka"
      ? kafka.request(kafkaRequestOf(message, bytes), { timeoutMs })
      : amqp.request(amqpMessageOf(message, bytes), { timeoutMs });

  app.post(
    "/request",
    {
      attachValidation: true,
      // Before the body is read: a principal with no produce right at all is refused without reading it.
      onRequest: anyProduce,
      schema: {
        operationId: "sendRequest",
        summary: "Send a request and wait for its reply",
        description:
          "Validates and encodes the payload as POST /publish does, sends it as a request (RabbitMQ: direct " +
          "reply-to; Kafka: reply-to header naming the gateway's reply topic) and answers 200 with the decoded " +
          `reply, or 504 REPLY_TIMEOUT when none came within timeoutMs (default ${DEFAULT_REQUEST_TIMEOUT_MS}, ` +
          `at most ${MAX_REQUEST_TIMEOUT_MS} ms).`,
        tags: ["request"],
        body: RequestMessage,
        response: REQUEST_RESPONSES,
      },
    },
    async (request, reply) => {
      rejectInvalid(request);
      const { timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, ...input } = request.body;
      checkName(input.topic, input.broker); // before the rights compare it
      app.authorize(request, "produce", input.topic);
      const clock = clockOf(timeoutMs);
      const checked = core.check(input, contextOf(request));
      if (!checked.ok) {
        return reply
          .code(422)
          .send(
            validationFailed(
              `The payload does not match ${checked.event}: ${checked.violations.length} problem(s); nothing was sent`,
              checked.violations,
            ),
          );
      }
      const { message } = checked;
      const answered = await core.request(message, clock, send, timeoutMs);
      if (!answered.ok) {
        const { failure } = answered;
        if (failure.statusCode >= 500 && failure.statusCode !== 504) {
          request.log.warn({ code: failure.code, err: failure.message, detail: failure.detail }, "request failed");
        }
        return sendFailure(reply, failure);
      }
      return reply
        .code(200)
        .send({ messageId: message.messageId, correlationId: message.correlationId, reply: answered.reply });
    },
  );
};
