import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { HttpError, typeBoxValidatorCompiler } from "@kronos/app-kit";
import type { EventDescriptor, Violation } from "@kronos/contracts";
import { withTimeout } from "@kronos/transport";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { PublishConfig } from "./config.js";
import { Destinations } from "./destinations.js";
import {
  fingerprintOf,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  RedisIdempotencyStore,
  type StoredResponse,
} from "./idempotency.js";
import { createConnectionMetrics, createPublishMetrics } from "./metrics.js";
import {
  type CheckedMessage,
  checkMessage,
  encodeMessage,
  type PublishContext,
  type PublishFailure,
  publishFailure,
  RETRY_AFTER_SECONDS,
  sendMessage,
} from "./pipeline.js";
import { BATCH_RESPONSES, DestinationBody, PUBLISH_RESPONSES, PublishHeaders, PublishMessage } from "./schemas.js";

/** Options of {@link publishRoutes}. */
export interface PublishRoutesOptions extends PublishConfig {
  /** The events that can be published (their descriptors carry the manifest bindings). */
  readonly events: Iterable<EventDescriptor<unknown>>;
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

function contextOf(request: FastifyRequest): PublishContext {
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

function failureAnswer(failure: PublishFailure): Answer {
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
  const destinations = new Destinations(options.events);
  const metrics = createPublishMetrics(app.metrics.registry);
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

  function recordInvalid(event: string, topic: string, broker: string): void {
    metrics.validationFailed(event);
    metrics.published(topic, broker, "invalid");
  }

  async function publishOne(message: CheckedMessage, started: number): Promise<Answer> {
    const deadline = started + options.timeoutMs;
    const left = () => Math.max(1, deadline - performance.now());
    const { broker } = message.route;
    try {
      const bytes = await encodeMessage(app.publishers.serde, message, left());
      const ack = await sendMessage(app.publishers, message, bytes, left());
      metrics.published(ack.topic, broker, "accepted", (performance.now() - started) / 1000);
      return { statusCode: 202, body: ack };
    } catch (error) {
      const failure = publishFailure(error, message);
      metrics.published(message.destination.name, broker, failure.outcome, (performance.now() - started) / 1000);
      if (failure.statusCode >= 500) app.log.warn({ err: error, code: failure.code }, "publish failed");
      return failureAnswer(failure);
    }
  }

  /** Runs `execute` at most once per (principal, Idempotency-Key) and request fingerprint. */
  async function idempotent(request: FastifyRequest, execute: () => Promise<Answer>): Promise<Answer> {
    const key = request.headers["idempotency-key"];
    if (typeof key !== "string") return execute();
    const storeKey = `${request.principal?.id ?? ""}\u0000${key}`;
    const fingerprint = fingerprintOf(request.routeOptions.url ?? request.url, request.body);
    const waitUntil = Date.now() + options.timeoutMs + 1000;
    const storeCall = <T>(promise: Promise<T>): Promise<T> =>
      withTimeout(promise, STORE_TIMEOUT_MS, "idempotency store").catch((error: unknown) => {
        request.log.error({ err: error }, "idempotency store failed");
        throw new HttpError(503, "IDEMPOTENCY_STORE_UNAVAILABLE", "Idempotency keys cannot be checked right now");
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
      schema: {
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
      app.authorize(request, "produce", body.topic);
      const answer = await idempotent(request, async () => {
        const started = performance.now();
        const checked = checkMessage(destinations, body, contextOf(request));
        if (!checked.ok) {
          recordInvalid(checked.event, body.topic, destinations.resolve(body).destination.broker);
          return {
            statusCode: 422,
            body: {
              code: "VALIDATION_FAILED",
              message: `The payload does not match ${checked.event}: ${checked.violations.length} problem(s); nothing was published`,
              errors: checked.violations,
            },
          };
        }
        return publishOne(checked.message, started);
      });
      return reply(replyTo, answer);
    },
  );

  app.post(
    "/publish/batch",
    {
      attachValidation: true,
      schema: {
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
      for (const topic of new Set(messages.map((m) => m.topic))) app.authorize(request, "produce", topic);
      const answer = await idempotent(request, async () => {
        const started = performance.now();
        const context = contextOf(request);
        const checked: CheckedMessage[] = [];
        const errors: Array<Violation & { index: number }> = [];
        messages.forEach((input, index) => {
          let result: ReturnType<typeof checkMessage>;
          try {
            result = checkMessage(destinations, input, context);
          } catch (error) {
            if (error instanceof HttpError) {
              throw new HttpError(error.statusCode, error.code, `messages[${index}]: ${error.message}`);
            }
            throw error;
          }
          if (result.ok) checked.push(result.message);
          else {
            recordInvalid(result.event, input.topic, destinations.resolve(input).destination.broker);
            for (const violation of result.violations) errors.push({ index, ...violation });
          }
        });
        if (errors.length > 0) {
          const invalid = new Set(errors.map((e) => e.index)).size;
          return {
            statusCode: 422,
            body: {
              code: "VALIDATION_FAILED",
              message: `${invalid} of ${messages.length} messages do not match their schema; nothing was published`,
              errors,
            },
          };
        }
        // Encode all before sending any: a registry failure publishes nothing.
        const deadline = started + options.timeoutMs;
        let encoded: Buffer[];
        try {
          encoded = await Promise.all(
            checked.map((m) => encodeMessage(app.publishers.serde, m, Math.max(1, deadline - performance.now()))),
          );
        } catch (error) {
          const failure = publishFailure(error, checked[0] as CheckedMessage);
          for (const m of checked) metrics.published(m.destination.name, m.route.broker, failure.outcome);
          return failureAnswer(failure);
        }
        const settled = await Promise.all(
          checked.map(async (m, index) => {
            try {
              const ack = await sendMessage(
                app.publishers,
                m,
                encoded[index] as Buffer,
                Math.max(1, deadline - performance.now()),
              );
              metrics.published(ack.topic, m.route.broker, "accepted", (performance.now() - started) / 1000);
              return { index, status: 202, ...ack };
            } catch (error) {
              const failure = publishFailure(error, m);
              metrics.published(
                m.destination.name,
                m.route.broker,
                failure.outcome,
                (performance.now() - started) / 1000,
              );
              return {
                index,
                status: failure.statusCode,
                messageId: m.messageId,
                topic: m.destination.name,
                broker: m.route.broker,
                code: failure.code,
                message: failure.message,
                retryAfter: failure.retryAfter,
              };
            }
          }),
        );
        const allAccepted = settled.every((r) => r.status === 202);
        const retry = settled.some((r) => "retryAfter" in r && r.retryAfter !== undefined);
        return {
          statusCode: allAccepted ? 202 : 207,
          body: {
            results: settled.map(({ retryAfter: _, ...r }: { retryAfter?: unknown } & Record<string, unknown>) => r),
          },
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
