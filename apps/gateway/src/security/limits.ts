import helmet, { type FastifyHelmetOptions } from "@fastify/helmet";
import { HttpError } from "@kronos/app-kit";
import Fastify from "fastify";
import fp from "fastify-plugin";
import { gatewayHttpError } from "../errors.js";
import { jsonDepthExceeds, MAX_JSON_DEPTH } from "./json-depth.js";

/** Options of {@link limitsPlugin}. */
export interface LimitsPluginOptions {
  /** Whether the gateway serves HTTPS (then `Strict-Transport-Security` is sent). */
  readonly https: boolean;
}

/** The helmet configuration of the gateway: a JSON API, so no content may load from anywhere. */
function helmetOptions(https: boolean): FastifyHelmetOptions {
  return {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    hsts: https ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  };
}

/**
 * The headers `@fastify/helmet` sets with `options`, asked of helmet itself once: a throwaway Fastify instance with
 * the plugin answers one injected request with the headers helmet put on the raw response. They depend on the
 * options only (no CSP nonces), so every answer can get the same ones. `@fastify/helmet` rebuilds helmet from its
 * options and re-renders every header on every request: about 15 µs, the largest fixed cost of a gateway answer.
 */
export async function securityHeaders(options: FastifyHelmetOptions): Promise<ReadonlyArray<[string, string]>> {
  const probe = Fastify({ logger: false });
  try {
    await probe.register(helmet, options);
    // Names come lower-cased (helmet writes them capitalized; HTTP header names are case-insensitive).
    probe.get("/", async (_request, reply) =>
      Object.entries(reply.raw.getHeaders()).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(", ") : String(value),
      ]),
    );
    const response = await probe.inject({ method: "GET", url: "/" });
    return response.json() as Array<[string, string]>;
  } finally {
    await probe.close();
  }
}

/**
 * Security headers and request-body rules for a JSON API, on every route:
 * - headers as helmet sets them: `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`,
 *   `X-Content-Type-Options: nosniff`, `X-Frame-Options`, `Referrer-Policy: no-referrer`, cross-origin policies,
 *   `Strict-Transport-Security` when serving HTTPS; and `Cache-Control: no-store` unless the route sets its own.
 *   Computed once by helmet at startup (see {@link securityHeaders}) and put on the raw response when a request
 *   arrives, so errors, 404s and hijacked responses (the SSE streams) carry them too.
 * - bodies: only `application/json` is parsed; any other content type is 415 `UNSUPPORTED_MEDIA_TYPE`, malformed
 *   JSON (or `__proto__`/`constructor` poisoning) is 400 `INVALID_JSON`, a body that is not valid UTF-8 400
 *   `INVALID_UTF8` (never replaced with U+FFFD and written), JSON nested deeper than
 *   {@link MAX_JSON_DEPTH} levels 400 `JSON_TOO_DEEP` (checked before anything recursive runs). The size limit is the Fastify
 *   instance's `bodyLimit` (413 `PAYLOAD_TOO_LARGE`).
 * Plugin name: `kronos-gateway-limits`.
 */
export const limitsPlugin = fp<LimitsPluginOptions>(
  async (app, options) => {
    // Fastify's own headers (reply.header) are applied over these when the answer is written, so a route's
    // Cache-Control wins over no-store.
    const headers: ReadonlyArray<readonly [string, string]> = [
      ...(await securityHeaders(helmetOptions(options.https))),
      ["cache-control", "no-store"],
    ];
    app.addHook("onRequest", (_request, reply, done) => {
      const raw = reply.raw;
      for (const [name, value] of headers) raw.setHeader(name, value);
      done();
    });

    const parseJson = app.getDefaultJsonParser("error", "error");
    app.removeAllContentTypeParsers();
    // fatal: invalid UTF-8 throws instead of becoming U+FFFD (which would then be written to the broker).
    const utf8 = new TextDecoder("utf-8", { fatal: true });
    app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
      let text: string;
      try {
        // parseAs "buffer" hands a Buffer: the raw bytes, checked before anything reads them as text.
        text = utf8.decode(body as Buffer);
      } catch {
        done(gatewayHttpError("INVALID_UTF8", "Request body is not valid UTF-8 (JSON text must be)"), undefined);
        return;
      }
      if (jsonDepthExceeds(text)) {
        done(
          gatewayHttpError(
            "JSON_TOO_DEEP",
            `Request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
          ),
          undefined,
        );
        return;
      }
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
