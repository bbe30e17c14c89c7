import { HttpError } from "@kronos/app-kit";
import fp from "fastify-plugin";
import { FixedWindowCounter } from "./fixed-window.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /**
     * `false`: the route does not count toward the principal's request budget. For routes whose volume is bounded
     * otherwise: settling a delivery (ack, retry, reject) needs a delivery the gateway sent, at most one request
     * each, so a subscriber acking 200 messages a second is not throttled at the default 100 requests a second.
     */
    principalRateLimit?: boolean;
  }
}

/** Options of {@link principalRateLimitPlugin}. */
export interface PrincipalRateLimitOptions {
  /** Requests each principal may make per minute. */
  readonly perMinute: number;
}

/**
 * Rate limiting per principal: each authenticated principal (by `Principal.identity`, so a JWT `sub` and an API key
 * id never share a budget) may make `perMinute` requests per fixed one-minute window; past it, 429 `RATE_LIMITED`
 * with `Retry-After` (seconds until the window resets). Answers carry `X-RateLimit-Limit` and
 * `X-RateLimit-Remaining`. Public routes and unknown routes (which have their own IP-based limit) are not counted.
 * The counters live in memory, per gateway instance ({@link FixedWindowCounter}: synchronous, one map lookup a
 * request; `@fastify/rate-limit`'s store cost a few µs and two promises per request). Register after the auth
 * plugin: its hook needs `request.principal`. Plugin name: `kronos-gateway-rate-limit`.
 */
export const principalRateLimitPlugin = fp<PrincipalRateLimitOptions>(
  async (app, options) => {
    const counter = new FixedWindowCounter(options.perMinute, 60_000);
    app.addHook("onRequest", (request, reply, done) => {
      const principal = request.principal;
      if (principal === null || request.routeOptions.config.principalRateLimit === false) return done();
      const result = counter.hit(principal.identity);
      reply.header("x-ratelimit-limit", result.max);
      reply.header("x-ratelimit-remaining", result.remaining);
      if (!result.exceeded) return done();
      reply.header("retry-after", result.resetInSeconds);
      done(
        new HttpError(
          429,
          "RATE_LIMITED",
          `Principal "${principal.id}" exceeded ${result.max} requests per minute; retry in ${result.resetInSeconds} s`,
        ),
      );
    });
  },
  { name: "kronos-gateway-rate-limit", fastify: "5.x", dependencies: ["kronos-errors", "kronos-auth"] },
);
