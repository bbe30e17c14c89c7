import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, type Registry } from "@kronos/observability";

/** Options of {@link runPrimary}. */
export interface PrimaryOptions {
  /** The app's name, in the primary's log lines. */
  readonly app: string;
  /** Worker processes to keep running (each runs the same entry script and serves the same port). */
  readonly workers: number;
  /** Longest a worker may take to drain after SIGTERM before it is killed, in ms. */
  readonly shutdownTimeoutMs: number;
  /** First delay before a crashed worker is started again, in ms (doubled per crash in a row, at most 30 s). */
  readonly restartDelayMs?: number;
}

const SHUTDOWN = "kronos:cluster-shutdown";
const METRICS_REQUEST = "kronos:cluster-metrics-request";
const METRICS_RESPONSE = "kronos:cluster-metrics-response";
/** A worker that lived this long before it died counts as healthy: the next crash restarts at the first delay. */
const HEALTHY_AFTER_MS = 30_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** One JSON log line in the apps' (pino's) shape, for the primary, which has no Fastify logger. */
function log(app: string, level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  const levels = { info: 30, warn: 40, error: 50 };
  const line = JSON.stringify({
    level: levels[level],
    time: new Date().toISOString(),
    pid: process.pid,
    app,
    role: "primary",
    ...fields,
    msg,
  });
  process.stdout.write(`${line}\n`);
}

/**
 * Runs this process as the primary of a node:cluster of `workers` processes that share the listening port (the
 * primary accepts connections and hands them to the workers round-robin; built when Node 20 had no `reusePort`, which
 * came in 22.12). The primary serves nothing itself. It:
 * - exits 1 when a worker exits before any worker listened (it cannot start: port taken, broken build);
 * - restarts a worker that exits on its own, after a delay doubling per crash in a row (500 ms, 1 s, … 30 s), and
 *   logs it;
 * - on SIGTERM or SIGINT, tells every worker to stop (an IPC message: each drains as a single process does on
 *   SIGTERM), waits for them, and exits 0 (1 if one had to be killed after `shutdownTimeoutMs` or exited with an
 *   error);
 * - answers the workers' `/metrics`: it collects every worker's registry with prom-client's
 *   {@link AggregatorRegistry} (counters and histograms summed, gauges summed or averaged as each metric says) and
 *   sends the text back to the asking worker (see {@link clusterMetrics}).
 */
export function runPrimary(options: PrimaryOptions): void {
  const { app } = options;
  const aggregator = new AggregatorRegistry();
  const firstDelay = options.restartDelayMs ?? 500;
  const startedAt = new Map<Worker, number>();
  let crashesInARow = 0;
  let stopping = false;
  // Until a first worker listens, a worker that exits cannot start at all (port taken, broken build): stop then
  // rather than restart it for ever.
  let anyListened = false;
  cluster.on("listening", () => {
    anyListened = true;
  });
  let exitCode = 0;

  const fork = (): void => {
    const worker = cluster.fork();
    startedAt.set(worker, Date.now());
    worker.on("message", (message: unknown) => {
      if (!isMessage(message, METRICS_REQUEST)) return;
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text }),
        (error: Error) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message }),
      );
    });
  };

  cluster.on("exit", (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker) ?? Date.now());
    startedAt.delete(worker);
    if (stopping) {
      if (code !== 0) exitCode = 1;
      log(app, code === 0 ? "info" : "warn", "worker stopped", { worker: worker.process.pid, code, signal });
      if (startedAt.size === 0) process.exit(exitCode);
      return;
    }
    if (!anyListened) {
      log(app, "error", "a worker exited before any worker could listen: stopping (see the worker's output above)", {
        worker: worker.process.pid,
        code,
        signal,
      });
      exitCode = 1;
      stop("a worker could not start");
      return;
    }
    crashesInARow = lived >= HEALTHY_AFTER_MS ? 1 : crashesInARow + 1;
    const delay = Math.min(MAX_RESTART_DELAY_MS, firstDelay * 2 ** (crashesInARow - 1));
    log(app, "error", `worker exited on its own after ${lived} ms; starting another in ${delay} ms`, {
      worker: worker.process.pid,
      code,
      signal,
      crashesInARow,
    });
    setTimeout(() => {
      if (!stopping) fork();
    }, delay).unref();
  });

  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    log(app, "info", `${reason}: stopping ${startedAt.size} workers`);
    if (startedAt.size === 0) process.exit(exitCode);
    // A message, not a signal: the workers ignore signals, which a service manager may send the whole process
    // group (systemd does) on top of the primary's, and a second signal would abort their drain.
    for (const worker of startedAt.keys()) worker.send({ type: SHUTDOWN });
    setTimeout(() => {
      log(app, "error", `workers still running ${options.shutdownTimeoutMs} ms after SIGTERM: killing them`);
      for (const worker of startedAt.keys()) worker.process.kill("SIGKILL");
      process.exit(1);
    }, options.shutdownTimeoutMs + 2000).unref();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  log(app, "info", `starting ${options.workers} workers`, { workers: options.workers });
  for (let i = 0; i < options.workers; i++) fork();
}

/** The signals a cluster worker ignores: it stops when its primary says so (see {@link joinCluster}). */
export const WORKER_IGNORED_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** What a cluster worker's start-up hands to {@link joinCluster}'s result once the app is built. */
export interface WorkerLink {
  /**
   * `registry` is what the primary collects for the cluster's `/metrics`; `shutdown` (a graceful stop) is called
   * when the primary says so or is gone, at once if that happened while the app was being built.
   */
  attach(registry: Registry, shutdown: () => void): void;
}

/**
 * Makes this process a well-behaved cluster worker, first thing at start: it ignores SIGINT and SIGTERM (a Ctrl-C in
 * a terminal, or a service manager, signals every process of the group: the primary stops the workers, and a second
 * signal would abort their drain) and stops when its primary says so (or is gone), through {@link WorkerLink}.
 */
export function joinCluster(): WorkerLink {
  for (const signal of WORKER_IGNORED_SIGNALS) process.on(signal, () => {});
  let asked = false;
  let shutdown: (() => void) | undefined;
  const stop = () => {
    if (asked) return;
    asked = true;
    shutdown?.();
  };
  process.on("message", (message: unknown) => {
    if (isMessage(message, SHUTDOWN)) stop();
  });
  process.on("disconnect", stop);
  return {
    attach(registry, onShutdown) {
      AggregatorRegistry.setRegistries([registry]);
      // prom-client answers the primary's collection requests once an AggregatorRegistry exists in the process.
      new AggregatorRegistry();
      shutdown = onShutdown;
      if (asked) onShutdown();
    },
  };
}

let nextRequest = 0;

/**
 * The metrics of every worker of the cluster, aggregated by the primary, in the Prometheus text format. Rejects
 * after `timeoutMs` (the primary collects with its own 5 s limit) or when the primary reports an error.
 */
export function clusterMetrics(timeoutMs = 7000): Promise<string> {
  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    const onMessage = (message: unknown) => {
      if (!isMessage(message, METRICS_RESPONSE) || message.id !== id) return;
      done();
      if (typeof message.text === "string") resolve(message.text);
      else reject(new Error(`the cluster's metrics could not be collected: ${String(message.error)}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`the cluster's primary did not send the metrics within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      process.off("message", onMessage);
    };
    process.on("message", onMessage);
    process.send?.({ type: METRICS_REQUEST, id });
  });
}

function isMessage(
  message: unknown,
  type: string,
): message is { type: string; id: number; text?: unknown; error?: unknown } {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === type;
}
