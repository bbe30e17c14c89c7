import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError, requireAnyRight, typeBoxValidatorCompiler } from "@kronos/app-kit";
import type { Violation } from "@kronos/contracts";
import { withTimeout } from "@kronos/transport";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { failureOf, RETRY_AFTER_SECONDS } from "../errors.js";
import {
  type CheckedMessage,
  clockOf,
  type MessageContext,
  type MessageFailure,
  messageCoreOf,
  type PublishAck,
  type Sent,
  validationFailed,
} from "../messages/index.js";
import { checkName } from "../names.js";
import type { PublishConfig } from "./config.js";
import {
  fingerprintOf,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  type StoredResponse,
} from "./idempotency.js";
import { createConnectionMetrics, createPublishMetrics, type PublishOutcome } from "./metrics.js";
import { BATCH_RESPONSES, DestinationBody, PUBLISH_RESPONSES, PublishHeaders, PublishMessage } from "./schemas.js";

/** Options of {@link publishRoutes}. */
export interface PublishRoutesOptions extends PublishConfig {
  /** Where `Idempotency-Key`s live; default Redis when `redisUrl` is set, else memory. */
  readonly idempotencyStore?: IdempotencyStore;
}

/** An answer before it is sent (what the idempotency store keeps). */
interface Answer extends StoredResponse {
  readonly retryAfter?: number | undefined;
}

const STORE_TIMEOUT_MS = 2000;

function rejectInvalid(request: FastifyRequest): void {
  const error = request.validationError;
  if (!error) return;
  const part = (error as { validationContext?: string }).validationContext;
  const code = part === "headers" ? "INVALID_IDEMPOTENCY_KEY" : "INVALID_REQUEST";
  throw new HttpError(400, code, error.message);
}

function contextOf(request: FastifyRequest): MessageContext {
  const header = (name: string) => {
    const value = request.headers[name];
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  return {
    principalId: request.principal?.id ?? "anonymous",
    traceparent: header("traceparent"),
    correlationId: header("x-correlation-id"),
  };
}

function failureAnswer(failure: MessageFailure): Answer {
  return {
    statusCode: failure.statusCode,
    body: { code: failure.code, message: failure.message },
    retryAfter: failure.retryAfter,
  };
}

function send(reply: FastifyReply, answer: Answer): FastifyReply {
  if (answer.retryAfter !== undefined) reply.header("retry-after", String(answer.retryAfter));
  return reply.code(answer.statusCode).send(answer.body);
}

/** One message's entry in a batch answer. */
function batchResult(
  sent: Sent,
  index: number,
): { index: number; status: number } & Partial<PublishAck> & Record<string, unknown> {
  if (sent.ok) return { index, status: 202, ...sent.ack };
  const { message, failure } = sent;
  return {
    index,
    status: failure.statusCode,
    messageId: message.messageId,
    topic: message.destination.name,
    broker: message.route.broker,
    code: failure.code,
    message: failure.message,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The publish routes (each needs `produce` on every topic it writes to):
 *
 * - `POST /publish` `{ topic, broker?, event?, key?, headers?, priority?, payload }` → 202 `{ messageId, topic,
 *   broker, partition?, offset? }` once the broker acknowledged (Kafka acks=all, RabbitMQ publisher confirm).
 * - `POST /publish/batch` `{ messages: [...] }` (at most `batchMax`): every message is checked first and none is
 *   written when one is invalid (422 with `errors[].index`); then all are published at once → 202 when all were
 *   acknowledged, 207 with each message's result otherwise.
 * - `GET /publish/destinations`: the manifest's topics and exchanges with their events and max priority.
 *
 * Status codes and error codes: see README.md ("Publishing"). `Idempotency-Key` replays the first answer for the
 * same principal, key and request within `idempotencyTtlSeconds`; a request with that key still in flight is
 * waited for. Closes the idempotency store on close.
 */
export const publishRoutes: FastifyPluginAsyncTypebox<PublishRoutesOptions> = async (app, options) => {
  const { destinations } = app.contracts;
  const anyProduce = requireAnyRight("produce");
  const metrics = createPublishMetrics(app.metrics.registry);
  const core = messageCoreOf(app, {
    // The core gives publish outcomes only (never a request's answered, no_reply or bad_reply).
    outcome: (topic, broker, outcome, seconds) => metrics.published(topic, broker, outcome as PublishOutcome, seconds),
    invalid: (event) => metrics.validationFailed(event),
  });
  createConnectionMetrics(app.metrics.registry, () => app.readiness.run());
  const store =
    options.idempotencyStore ??
    (options.redisUrl === undefined ? new MemoryIdempotencyStore() : new RedisIdempotencyStore(options.redisUrl));
  app.addHook("onClose", async () => {
    await store.close();
  });
  const inFlightSeconds = Math.ceil(options.timeoutMs / 1000) + 5;
  // TypeBox's own validator: Fastify's Ajv would silently drop a misspelt field (removeAdditional) instead of 400.
  // app-kit's converts headers only when they fail the check (the provider's converted every header every time).
  app.setValidatorCompiler(typeBoxValidatorCompiler);

  function answerOf(sent: Sent): Answer {
    if (sent.ok) return { statusCode: 202, body: sent.ack };
    warnIfServerSide(sent.failure);
    return failureAnswer(sent.failure);
  }

  function warnIfServerSide(failure: MessageFailure): void {
    if (failure.statusCode >= 500) {
      app.log.warn({ code: failure.code, err: failure.message, detail: failure.detail }, "publish failed");
    }
  }

  /** Runs `execute` at most once per (principal, Idempotency-Key) and request fingerprint. */
  async function idempotent(
    request: FastifyRequest,
    replyTo: FastifyReply,
    execute: () => Promise<Answer>,
  ): Promise<Answer> {
    const key = request.headers["idempotency-key"];
    if (typeof key !== "string") return execute();
    // Keys are per principal, by identity: a JWT sub equal to an API key's id must not replay that key's answers.
    const storeKey = `${request.principal?.identity ?? ""}\u0000${key}`;
    const fingerprint = fingerprintOf(request.routeOptions.url ?? request.url, request.body);
    const waitUntil = Date.now() + options.timeoutMs + 1000;
    const storeCall = <T>(promise: Promise<T>): Promise<T> =>
      withTimeout(promise, STORE_TIMEOUT_MS, "idempotency store").catch((error: unknown) => {
        request.log.error({ err: error }, "idempotency store failed");
        const failure = failureOf("IDEMPOTENCY_STORE_UNAVAILABLE", "Idempotency keys cannot be checked right now");
        if (failure.retryAfter !== undefined) replyTo.header("retry-after", String(failure.retryAfter));
        throw new HttpError(failure.statusCode, failure.code, failure.message);
      });
    for (;;) {
      const found = await storeCall(store.begin(storeKey, fingerprint, inFlightSeconds));
      if (found.state !== "acquired" && found.fingerprint !== fingerprint) {
        throw new HttpError(
          422,
          "IDEMPOTENCY_KEY_REUSED",
          `Idempotency-Key "${key}" was already used with a different request; use a new key for a new request`,
        );
      }
      if (found.state === "done") {
        metrics.replayed(request.routeOptions.url ?? "");
        return { ...found.response, replayed: true } as Answer;
      }
      if (found.state === "acquired") {
        let answer: Answer;
        try {
          answer = await execute();
        } catch (error) {
          await store.release(storeKey, found.token).catch(() => {});
          throw error;
        }
        if (answer.statusCode < 500) {
          const { statusCode, body } = answer;
          await storeCall(
            store.complete(storeKey, found.token, fingerprint, { statusCode, body }, options.idempotencyTtlSeconds),
          );
        } else {
          await store.release(storeKey, found.token).catch(() => {});
        }
        return answer;
      }
      if (Date.now() > waitUntil) {
        throw new HttpError(
          409,
          "IDEMPOTENCY_KEY_IN_USE",
          `A request with Idempotency-Key "${key}" is still being processed; retry later`,
        );
      }
      await sleep(25);
    }
  }

  function reply(replyTo: FastifyReply, answer: Answer & { replayed?: boolean }): FastifyReply {
    if (answer.replayed) replyTo.header("idempotent-replayed", "true");
    return send(replyTo, answer);
  }

  app.post(
    "/publish",
    {
      attachValidation: true,
      // Before the body is read: a principal with no produce right at all is refused without reading it.
      onRequest: anyProduce,
      schema: {
        operationId: "publish",
        summary: "Publish one event",
        description:
          "Validates the payload against the event's schema, encodes it (Confluent wire format, registered schema " +
          "id) and answers 202 only once the broker has it.",
        tags: ["publish"],
        headers: PublishHeaders,
        body: PublishMessage,
        response: PUBLISH_RESPONSES,
      },
    },
    async (request, replyTo) => {
      rejectInvalid(request);
      const body = request.body;
      checkName(body.topic, body.broker); // before the rights compare it
      app.authorize(request, "produce", body.topic);
      const answer = await idempotent(request, replyTo, async () => {
        const clock = clockOf(options.timeoutMs);
        const checked = core.check(body, contextOf(request));
        if (!checked.ok) {
          return {
            statusCode: 422,
            body: validationFailed(
              `The payload does not match ${checked.event}: ${checked.violations.length} problem(s); nothing was published`,
              checked.violations,
            ),
          };
        }
        return answerOf(await core.publish(checked.message, clock));
      });
      return reply(replyTo, answer);
    },
  );

  app.post(
    "/publish/batch",
    {
      attachValidation: true,
      // Before the body is read: a principal with no produce right at all is refused without reading it.
      onRequest: anyProduce,
      schema: {
        operationId: "publishBatch",
        summary: "Publish several events",
        description:
          `Checks every message first and publishes none if one is invalid; then publishes all (at most ` +
          `${options.batchMax}) and lists each message's result: 202 when every one was acknowledged, else 207.`,
        tags: ["publish"],
        headers: PublishHeaders,
        body: Type.Object(
          { messages: Type.Array(PublishMessage, { minItems: 1, maxItems: options.batchMax }) },
          { additionalProperties: false },
        ),
        response: BATCH_RESPONSES,
      },
    },
    async (request, replyTo) => {
      rejectInvalid(request);
      const { messages } = request.body;
      // Names before the rights compare them, each (name, broker) once; the message says which one came first.
      const topics = new Set<string>();
      const named = new Set<string>();
      messages.forEach((message, index) => {
        topics.add(message.topic);
        const pair = `${message.broker ?? ""}\u0000${message.topic}`;
        if (named.has(pair)) return;
        named.add(pair);
        try {
          checkName(message.topic, message.broker);
        } catch (error) {
          const { statusCode, code, message: text } = error as HttpError;
          throw new HttpError(statusCode, code, `messages[${index}]: ${text}`);
        }
      });
      for (const topic of topics) app.authorize(request, "produce", topic);
      const answer = await idempotent(request, replyTo, async () => {
        const clock = clockOf(options.timeoutMs);
        const context = contextOf(request);
        const checked: CheckedMessage[] = [];
        const errors: Array<Violation & { index: number }> = [];
        messages.forEach((input, index) => {
          let result: ReturnType<typeof core.check>;
          try {
            result = core.check(input, context);
          } catch (error) {
            if (error instanceof HttpError) {
              throw new HttpError(error.statusCode, error.code, `messages[${index}]: ${error.message}`);
            }
            throw error;
          }
          if (result.ok) checked.push(result.message);
          else for (const violation of result.violations) errors.push({ index, ...violation });
        });
        if (errors.length > 0) {
          const invalid = new Set(errors.map((e) => e.index)).size;
          return {
            statusCode: 422,
            body: validationFailed(
              `${invalid} of ${messages.length} messages do not match their schema; nothing was published`,
              errors,
            ),
          };
        }
        // Encode all before sending any: a registry failure publishes nothing.
        const published = await core.publishAll(checked, clock);
        if ("encodeFailure" in published) {
          warnIfServerSide(published.encodeFailure);
          const { index, encodeFailure } = published;
          return failureAnswer({ ...encodeFailure, message: `messages[${index}]: ${encodeFailure.message}` });
        }
        const results = published.sent.map((sent, index) => batchResult(sent, index));
        const allAccepted = results.every((r) => r.status === 202);
        const retry = published.sent.some((r) => !r.ok && r.failure.retryAfter !== undefined);
        return {
          statusCode: allAccepted ? 202 : 207,
          body: { results },
          retryAfter: retry ? RETRY_AFTER_SECONDS : undefined,
        };
      });
      return reply(replyTo, answer);
    },
  );

  app.get(
    "/publish/destinations",
    {
      schema: {
        operationId: "listDestinations",
        summary: "Where events can be published",
        tags: ["publish"],
        response: { 200: Type.Object({ destinations: Type.Array(DestinationBody) }) },
      },
    },
    async () => ({
      destinations: destinations.list().map((d) => ({
        topic: d.name,
        broker: d.broker,
        events: [...d.routes.keys()].sort(),
        maxPriority: d.maxPriority,
      })),
    }),
  );
};
