import type {} from "@fastify/rate-limit";
import { HttpError } from "@kronos/app-kit";
import fp from "fastify-plugin";

/** Options of {@link principalRateLimitPlugin}. */
export interface PrincipalRateLimitOptions {
  /** Requests each principal may make per minute. */
  readonly perMinute: number;
}

/**
 * Rate limiting per principal: each authenticated principal (by kind and id, so a JWT `sub` and an API key id
 * never share a budget) may make `perMinute` requests per fixed one-minute window; past it, 429 `RATE_LIMITED`
 * with `Retry-After` (seconds until the window resets). Answers carry `X-RateLimit-Limit` and
 * `X-RateLimit-Remaining`. Public routes and unknown routes (which have their own IP-based limit) are not counted.
 * The counters live in memory, per gateway instance. Register after the auth plugin: its hook needs
 * `request.principal`. Plugin name: `kronos-gateway-rate-limit`.
 */
export const principalRateLimitPlugin = fp<PrincipalRateLimitOptions>(
  async (app, options) => {
    const limit = app.createRateLimit({
      max: options.perMinute,
      timeWindow: 60_000,
      keyGenerator: (request) => `principal:${request.principal?.kind}:${request.principal?.id}`,
    });
    app.addHook("onRequest", async (request, reply) => {
      const principal = request.principal;
      if (principal === null) return;
      const result = await limit(request);
      if (result.isAllowed) return;
      reply.header("x-ratelimit-limit", result.max);
      reply.header("x-ratelimit-remaining", result.remaining);
      if (!result.isExceeded) return;
      const seconds = Math.max(1, result.ttlInSeconds);
      reply.header("retry-after", seconds);
      throw new HttpError(
        429,
        "RATE_LIMITED",
        `Principal "${principal.id}" exceeded ${result.max} requests per minute; retry in ${seconds} s`,
      );
    });
  },
  { name: "kronos-gateway-rate-limit", fastify: "5.x", dependencies: ["kronos-errors", "kronos-gateway-auth"] },
);
