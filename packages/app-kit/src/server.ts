import cluster from "node:cluster";
import closeWithGrace from "close-with-grace";
import type { FastifyInstance } from "fastify";
import { joinCluster, runPrimary, WORKER_IGNORED_SIGNALS } from "./cluster.js";
import { ConfigError, type Env, type ServiceConfig } from "./config.js";

/** What {@link startServer} needs from an app. */
export interface ServerSpec<C extends ServiceConfig> {
  /** Reads and validates the environment; throws {@link ConfigError} when it is invalid. */
  readonly loadConfig: (env: Env) => C;
  /** Builds the app (see each app's `app.ts`). */
  readonly buildApp: (config: C) => Promise<FastifyInstance> | FastifyInstance;
  /** Longest a graceful shutdown may take before the process is killed with exit code 1, in ms. Default: 10000. */
  readonly shutdownTimeoutMs?: number;
  /**
   * How many worker processes serve the port (e.g. from `GATEWAY_WORKERS`); more than 1: this process becomes a
   * node:cluster primary ({@link runPrimary}) and each worker runs this same script. Default: 1 (no cluster).
   */
  readonly workers?: (config: C) => number;
}

/**
 * Boots an app: validates the configuration (invalid: prints the problems, each naming its variable, to stderr
 * without a stack trace, and exits 1), builds the app, listens on `config.host:config.port`, and shuts down
 * gracefully on SIGTERM/SIGINT: stop accepting, let in-flight requests finish, close Kafka/RabbitMQ (the plugins'
 * onClose hooks), exit 0. A second signal, an uncaught error or a shutdown past the timeout exits 1.
 * With `workers` above 1, the first process is the cluster's primary (it resolves to `undefined` and serves
 * nothing); each worker boots as above, stops on the primary's SIGTERM, and its `/metrics` are the cluster's.
 */
export async function startServer<C extends ServiceConfig>(spec: ServerSpec<C>): Promise<FastifyInstance | undefined> {
  let config: C;
  try {
    config = spec.loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const shutdownTimeoutMs = spec.shutdownTimeoutMs ?? 10_000;
  const workers = spec.workers?.(config) ?? 1;
  if (workers > 1 && cluster.isPrimary) {
    runPrimary({ app: config.app, workers, shutdownTimeoutMs });
    return undefined;
  }

  const worker = cluster.isWorker ? joinCluster() : undefined;
  const app = await spec.buildApp(config);

  const grace = closeWithGrace(
    {
      delay: shutdownTimeoutMs,
      // A worker stops when its primary says so, never on a signal (see joinCluster).
      ...(cluster.isWorker ? { skip: [...WORKER_IGNORED_SIGNALS] } : {}),
      logger: { error: (message: unknown) => app.log.error(message) },
    },
    async ({ signal, err }) => {
      if (err) app.log.error({ err }, "uncaught error; shutting down");
      else app.log.info({ signal }, "shutting down");
      await app.close();
      app.log.info("stopped");
    },
  );

  worker?.attach(app.metrics.registry, () => void grace.close());

  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    app.log.fatal({ code: e.code }, `cannot listen on ${config.host}:${config.port}: ${e.message}`);
    await app.close().catch(() => {});
    process.exit(1);
  }
  return app;
}
