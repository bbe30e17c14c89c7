import { HttpError } from "@kronos/app-kit";
import type { FastifyReply } from "fastify";
import fp from "fastify-plugin";
import { FixedWindowCounter, SharedWindowCounter, type WindowHit } from "./fixed-window.js";

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
  /** Set: the counters are shared by every instance through this Redis (`REDIS_URL`); unset: kept in memory. */
  readonly redisUrl?: string | undefined;
  /** With `redisUrl`: how often each instance syncs its counters with the others', in ms. Default 100. */
  readonly syncMs?: number;
}

/**
 * Rate limiting per principal: each authenticated principal (by `Principal.identity`, so a JWT `sub` and an API key
 * id never share a budget) may make `perMinute` requests per fixed one-minute window; past it, 429 `RATE_LIMITED`
 * with `Retry-After` (seconds until the window resets). Answers carry `X-RateLimit-Limit` and
 * `X-RateLimit-Remaining`. Public routes and unknown routes (which have their own IP-based limit) are not counted.
 * With `redisUrl`, every gateway instance shares the counters ({@link SharedWindowCounter}: counted in memory,
 * synced through Redis every `syncMs`, no Redis call on a request; while Redis is unreachable each instance counts
 * alone, logged once each way). Without it they live in memory, per instance ({@link FixedWindowCounter}). Both are
 * synchronous: one map lookup a request. Register
 * after the auth plugin: its hook needs `request.principal`. Plugin name: `kronos-gateway-rate-limit`.
 */
export const principalRateLimitPlugin = fp<PrincipalRateLimitOptions>(
  async (app, options) => {
    let counter: { hit(key: string): WindowHit } = new FixedWindowCounter(options.perMinute, 60_000);
    if (options.redisUrl !== undefined) {
      const logger = app.log.child({ component: "rate-limit" });
      const shared = new SharedWindowCounter(options.perMinute, 60_000, {
        redisUrl: options.redisUrl,
        ...(options.syncMs === undefined ? {} : { syncMs: options.syncMs }),
        onState: (state, error) => {
          if (state === "down") {
            logger.warn(
              { err: error },
              "Redis unreachable: each instance counts the rate limits alone until it is back",
            );
          } else logger.info("Redis reachable: the rate limits are shared by every instance");
        },
      });
      app.addHook("onClose", async () => shared.close());
      counter = shared;
    }
    app.addHook("onRequest", (request, reply, done) => {
      const principal = request.principal;
      if (principal === null || request.routeOptions.config.principalRateLimit === false) return done();
      done(limited(reply, principal.id, counter.hit(principal.identity)));
    });
  },
  { name: "kronos-gateway-rate-limit", fastify: "5.x", dependencies: ["kronos-errors", "kronos-auth"] },
);

/** Sets the rate-limit headers of `result`; the 429 to answer when it is exceeded. */
function limited(reply: FastifyReply, principalId: string, result: WindowHit): HttpError | undefined {
  reply.header("x-ratelimit-limit", result.max);
  reply.header("x-ratelimit-remaining", result.remaining);
  if (!result.exceeded) return undefined;
  reply.header("retry-after", result.resetInSeconds);
  return new HttpError(
    429,
    "RATE_LIMITED",
    `Principal "${principalId}" exceeded ${result.max} requests per minute; retry in ${result.resetInSeconds} s`,
  );
}
