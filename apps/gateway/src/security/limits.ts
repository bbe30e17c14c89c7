import helmet from "@fastify/helmet";
import { HttpError } from "@kronos/app-kit";
import fp from "fastify-plugin";

/** Options of {@link limitsPlugin}. */
export interface LimitsPluginOptions {
  /** Whether the gateway serves HTTPS (then `Strict-Transport-Security` is sent). */
  readonly https: boolean;
}

/**
 * Security headers and request-body rules for a JSON API, on every route:
 * - headers by helmet: `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`,
 *   `X-Content-Type-Options: nosniff`, `X-Frame-Options`, `Referrer-Policy: no-referrer`, cross-origin policies,
 *   `Strict-Transport-Security` when serving HTTPS; and `Cache-Control: no-store` on every answer.
 * - bodies: only `application/json` is parsed; any other content type is 415 `UNSUPPORTED_MEDIA_TYPE`, malformed
 *   JSON (or `__proto__`/`constructor` poisoning) is 400 `INVALID_JSON`. The size limit is the Fastify
 *   instance's `bodyLimit` (413 `PAYLOAD_TOO_LARGE`).
 * Plugin name: `kronos-gateway-limits`.
 */
export const limitsPlugin = fp<LimitsPluginOptions>(
  async (app, options) => {
    await app.register(helmet, {
      global: true,
      contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
      hsts: options.https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    });
    app.addHook("onSend", async (_request, reply) => {
      if (!reply.hasHeader("cache-control")) reply.header("cache-control", "no-store");
    });

    const parseJson = app.getDefaultJsonParser("error", "error");
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
      // parseAs "string" hands a string.
      const text = body as string;
      parseJson(request, text, (error, value) => {
        if (error) {
          const reason = text === "" ? "the body is empty" : error.message;
          done(new HttpError(400, "INVALID_JSON", `Request body is not valid JSON: ${reason}`), undefined);
        } else done(null, value);
      });
    });
  },
  { name: "kronos-gateway-limits", fastify: "5.x", dependencies: ["kronos-errors"] },
);
