import { randomUUID } from "node:crypto";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import type { KronosApp } from "@kronos/app-kit";
import { loggerOptions } from "@kronos/observability";
import Fastify from "fastify";
import type { Config } from "../config.js";

/**
 * Creates the gateway's bare Fastify instance: the same options and shutdown behaviour as app-kit's
 * `createFastify` (JSON logs with `app`, a request id per request, TypeBox types, `Connection: close` while
 * closing), plus what only the constructor can set: HTTPS when `config.tls` is set, and the request body limit
 * (`config.bodyLimitBytes`, larger bodies get 413 `PAYLOAD_TOO_LARGE`). Registers nothing.
 */
export function createGatewayFastify(config: Config): KronosApp {
  const app = Fastify({
    logger: loggerOptions({ app: config.app, level: config.logLevel }),
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    forceCloseConnections: "idle",
    bodyLimit: config.bodyLimitBytes,
    ...(config.tls === undefined ? {} : { https: { cert: config.tls.cert, key: config.tls.key } }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // As in app-kit: answers sent while closing end their socket, so a busy keep-alive socket cannot hold shutdown.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) reply.header("connection", "close");
  });
  // With HTTPS the raw server is an https.Server; KronosApp names http.Server, and routes never touch it.
  return app as unknown as KronosApp;
}
