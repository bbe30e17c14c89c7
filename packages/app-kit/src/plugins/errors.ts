import rateLimit from "@fastify/rate-limit";
import fp from "fastify-plugin";
import { HttpError, toClientError } from "../http-error.js";

/** Options of {@link errorsPlugin}. */
export interface ErrorsPluginOptions {
  /** 404 answers allowed per client IP per window. Default: 100. */
  readonly notFoundMax?: number;
  /** The window of `notFoundMax`, in ms. Default: 60000. */
  readonly notFoundWindowMs?: number;
}

/**
 * One error handler for the whole app: every error becomes `{ code, message }` with a stable code (`BAD_REQUEST`,
 * `NOT_FOUND`, `RATE_LIMITED`, `INTERNAL`, ...), never a stack trace; 5xx are logged with their stack, 4xx at
 * info. Unknown routes get a rate-limited 404 `NOT_FOUND` (so scanning for URLs is throttled, 429 `RATE_LIMITED`
 * past the limit). Plugin name: `kronos-errors`.
 */
export const errorsPlugin = fp<ErrorsPluginOptions>(
  async (app, options) => {
    await app.register(rateLimit, { global: false });

    app.setErrorHandler((error, request, reply) => {
      const { statusCode, body } = toClientError(error);
      if (statusCode >= 500) request.log.error({ err: error }, "request failed");
      else request.log.info({ code: body.code, reason: body.message }, "request rejected");
      return reply.code(statusCode).type("application/json; charset=utf-8").send(body);
    });

    app.setNotFoundHandler(
      {
        preHandler: app.rateLimit({
          max: options.notFoundMax ?? 100,
          timeWindow: options.notFoundWindowMs ?? 60_000,
        }),
      },
      (request) => {
        throw new HttpError(404, "NOT_FOUND", `Route ${request.method} ${request.url.split("?")[0]} not found`);
      },
    );
  },
  { name: "kronos-errors", fastify: "5.x" },
);
