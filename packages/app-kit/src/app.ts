import { randomUUID } from "node:crypto";
import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { loggerOptions } from "@kronos/observability";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { ServiceConfig } from "./config.js";

/** A Kronos app: a Fastify instance whose route schemas are TypeBox schemas (typed handlers). */
export type KronosApp = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** What only Fastify's constructor can set, for apps that need it (the gateway: HTTPS and a body limit). */
export interface ServerOptions {
  /** PEM certificate and key: the app serves HTTPS. */
  https?: { cert: string | Buffer; key: string | Buffer };
  /** Largest request body in bytes (Fastify's default is 1 MiB); larger bodies get 413. */
  bodyLimitBytes?: number;
  /** Longest path parameter in characters (Fastify's default is 100); a longer one gets 414. */
  maxParamLength?: number;
  /**
   * Longest time to receive a request's headers, and its whole request (headers and body), in ms: a client that
   * sends more slowly (a body that never ends, a drip-fed one) gets 408 `REQUEST_TIMEOUT` and its connection is
   * closed. Node's defaults (60 s and 300 s, checked every 30 s) when unset. A response being streamed (SSE) is not
   * bounded by these: they end once the request is received.
   */
  timeouts?: { readonly headersMs: number; readonly requestMs: number };
}

/**
 * Node's server options for `timeouts`: both bounds, and how often Node checks them (at most a quarter of the
 * shorter one, at most every second; Node's default interval is 30 s, which would let a 10 s bound run to 40 s).
 */
function timeoutOptions(timeouts: { readonly headersMs: number; readonly requestMs: number }) {
  return {
    headersTimeout: timeouts.headersMs,
    requestTimeout: timeouts.requestMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeouts.headersMs / 4))),
  };
}

/** A client error answer, written on the socket (no request object exists yet): `{ code, message }` JSON. */
function clientErrorAnswer(status: number, code: string, message: string): string {
  const body = JSON.stringify({ code, message });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/**
 * Answers what Node reports before or while a request is read, in the apps' error format: 408 `REQUEST_TIMEOUT`
 * (headers or body too slow), 431 `HEADERS_TOO_LARGE`, else 400 `BAD_REQUEST`; then closes the connection.
 */
function onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  let answer: string;
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") {
    answer = clientErrorAnswer(408, "REQUEST_TIMEOUT", "The request was not received in time; send it faster");
  } else if (error.code === "HPE_HEADER_OVERFLOW") {
    answer = clientErrorAnswer(431, "HEADERS_TOO_LARGE", "The request headers are too large");
  } else {
    answer = clientErrorAnswer(400, "BAD_REQUEST", "The request is not valid HTTP");
  }
  if (socket.writable) socket.write(answer);
  socket.destroy(error);
}

/**
 * Creates the bare Fastify instance of an app: JSON logs through pino with `app` on every line (at
 * `config.logLevel`), a request id per request (the caller's `x-request-id` if given), TypeBox type provider,
 * and answers sent during shutdown carry `Connection: close` so keep-alive clients cannot hold it up.
 * Registers nothing: the app's `buildApp` registers the plugins.
 */
export function createFastify(config: ServiceConfig, options: ServerOptions = {}): KronosApp {
  const app = Fastify({
    logger: loggerOptions({ app: config.app, level: config.logLevel }),
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    // Keep-alive sockets of idle clients are closed on shutdown; in-flight requests still finish.
    forceCloseConnections: "idle",
    ...(options.bodyLimitBytes === undefined ? {} : { bodyLimit: options.bodyLimitBytes }),
    ...(options.maxParamLength === undefined ? {} : { routerOptions: { maxParamLength: options.maxParamLength } }),
    ...(options.timeouts === undefined
      ? {}
      : { requestTimeout: options.timeouts.requestMs, http: timeoutOptions(options.timeouts) }),
    // https.createServer takes the http.Server options (the timeouts) with the TLS ones.
    ...(options.https === undefined
      ? {}
      : {
          https: {
            ...options.https,
            ...(options.timeouts === undefined ? {} : timeoutOptions(options.timeouts)),
          },
        }),
    clientErrorHandler: onClientError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Node closes idle keep-alive sockets once, when closing starts; a socket busy then would stay open after its
  // response until the keep-alive timeout and hold the shutdown. Answers sent while closing end their socket.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  // A callback hook, not an async one: an async hook costs every answer a promise and a microtask turn.
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
  // With HTTPS the raw server is an https.Server; KronosApp names http.Server, and routes never touch it.
  return app as unknown as KronosApp;
}
