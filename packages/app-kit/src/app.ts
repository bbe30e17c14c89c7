import { randomUUID } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
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
    ...(options.maxParamLength === undefined ? {} : { maxParamLength: options.maxParamLength }),
    ...(options.https === undefined ? {} : { https: options.https }),
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
