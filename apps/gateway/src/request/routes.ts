import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError, typeBoxValidatorCompiler } from "@kronos/app-kit";
import type { EventDescriptor } from "@kronos/contracts";
import { createAmqpRequester, createKafkaRequester, type RequestReply } from "@kronos/transport";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Destinations } from "../publish/destinations.js";
import {
  amqpMessageOf,
  type CheckedMessage,
  checkMessage,
  encodeMessage,
  type PublishContext,
} from "../publish/pipeline.js";
import type { RequestConfig } from "./config.js";
import { createRequestMetrics } from "./metrics.js";
import { decodeFailure, decodeReply, kafkaRequestOf, type RequestFailure, requestFailure } from "./pipeline.js";
import { DEFAULT_REQUEST_TIMEOUT_MS, MAX_REQUEST_TIMEOUT_MS, REQUEST_RESPONSES, RequestMessage } from "./schemas.js";

/** Options of {@link requestRoutes}. */
export interface RequestRoutesOptions extends RequestConfig {
  /** The events that can be sent (their descriptors carry the manifest bindings); replies are decoded with them. */
  readonly events: Iterable<EventDescriptor<unknown>>;
}

/** The least time a reply gets to be decoded, in ms, even when it came just before the request's timeout. */
const DECODE_MIN_MS = 2000;

function rejectInvalid(request: FastifyRequest): void {
  const error = request.validationError;
  if (error) throw new HttpError(400, "INVALID_REQUEST", error.message);
}

// Unlike publishing, X-Correlation-Id is not taken as the message's correlation id: it pairs a request with its
// reply, so it must be unique among the requests waiting. The default is the message id; `headers.correlation-id`
// chooses it.
function contextOf(request: FastifyRequest): PublishContext {
  const traceparent = request.headers.traceparent;
  return {
    principalId: request.principal?.id ?? "anonymous",
    traceparent: typeof traceparent === "string" && traceparent.trim() !== "" ? traceparent.trim() : undefined,
  };
}

function sendFailure(reply: FastifyReply, failure: RequestFailure): FastifyReply {
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
  const events = [...options.events];
  const destinations = new Destinations(events);
  const eventsByName = new Map(events.map((event) => [event.name, event] as const));
  const metrics = createRequestMetrics(app.metrics.registry);
  const logger = app.log.child({ component: "request" });
  const amqp = createAmqpRequester(app.amqp, { logger });
  const kafka = createKafkaRequester(app.kafka, {
    replyTopic: options.replyTopic,
    publisher: app.publishers.kafka,
    clientId: `${app.config.app}-replies`,
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

  /** Encodes and sends `message`, and waits for its reply, until `deadline` (a `performance.now()` time). */
  async function send(message: CheckedMessage, deadline: number): Promise<RequestReply> {
    const left = () => Math.max(1, deadline - performance.now());
    const bytes = await encodeMessage(app.publishers.serde, message, left());
    if (message.route.broker === "kafka") {
      return kafka.request(kafkaRequestOf(message, bytes), { timeoutMs: left() });
    }
    return amqp.request(amqpMessageOf(message, bytes), { timeoutMs: left() });
  }

  app.post(
    "/request",
    {
      attachValidation: true,
      schema: {
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
      app.authorize(request, "produce", input.topic);
      const started = performance.now();
      const checked = checkMessage(destinations, input, contextOf(request));
      if (!checked.ok) {
        metrics.requested(input.topic, destinations.resolve(input).destination.broker, "invalid");
        return reply.code(422).send({
          code: "VALIDATION_FAILED",
          message: `The payload does not match ${checked.event}: ${checked.violations.length} problem(s); nothing was sent`,
          errors: checked.violations,
        });
      }
      const message = checked.message;
      const topic = message.destination.name;
      const { broker } = message.route;
      const seconds = () => (performance.now() - started) / 1000;
      const fail = (failure: RequestFailure, error: unknown) => {
        metrics.requested(topic, broker, failure.outcome, seconds());
        if (failure.statusCode >= 500 && failure.statusCode !== 504) {
          request.log.warn({ err: error, code: failure.code }, "request failed");
        }
        return sendFailure(reply, failure);
      };
      const mapped = (map: (error: unknown, message: CheckedMessage) => RequestFailure, error: unknown) => {
        try {
          return map(error, message);
        } catch (unexpected) {
          metrics.requested(topic, broker, "error", seconds());
          throw unexpected;
        }
      };

      let received: RequestReply;
      try {
        received = await send(message, started + timeoutMs);
      } catch (error) {
        return fail(
          mapped((cause, checkedMessage) => requestFailure(cause, checkedMessage, timeoutMs), error),
          error,
        );
      }
      try {
        // A reply in hand is not thrown away for want of time: a writer schema seen for the first time needs a
        // registry call, which gets at least DECODE_MIN_MS.
        const left = Math.max(DECODE_MIN_MS, started + timeoutMs - performance.now());
        const decoded = await decodeReply(app.publishers.serde, eventsByName, received, left);
        metrics.requested(topic, broker, "answered", seconds());
        return reply
          .code(200)
          .send({ messageId: message.messageId, correlationId: message.correlationId, reply: decoded });
      } catch (error) {
        return fail(mapped(decodeFailure, error), error);
      }
    },
  );
};
