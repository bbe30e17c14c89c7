import type { Gauge, Registry } from "prom-client";
import type { QueueInfo, RabbitManagementClient } from "../admin/rabbitmq-management.js";
import { silentLogger, type TransportLogger } from "../logger.js";
import { type GaugeSample, registerScrapedGauge } from "./scraped-gauge.js";

/** Name of the gauge {@link registerRabbitQueueMetrics} registers. */
export const RABBITMQ_QUEUE_MESSAGES = "kronos_rabbitmq_queue_messages";

/** Options of {@link registerRabbitQueueMetrics}. */
export interface RabbitQueueMetricsOptions {
  /** The app's registry. */
  readonly registry: Registry;
  /**
   * The queues to report: a list, or a function called at every scrape (for queues subscribed to later). Default:
   * every queue of `vhost`.
   */
  readonly queues?: readonly string[] | (() => readonly string[]);
  /** The virtual host of the queues. Default: "/". */
  readonly vhost?: string;
  /** Time limit of one read, in ms; past it the scrape goes on with the last values. Default: 2000. */
  readonly timeoutMs?: number;
  /** Where a failed read is logged (warn). Default: nowhere. */
  readonly logger?: TransportLogger;
}

type QueueLabel = "queue" | "state";

/**
 * Registers in `options.registry` the gauge `kronos_rabbitmq_queue_messages{queue,state}`: per queue, the messages
 * waiting for a consumer (`state="ready"`) and those delivered and not yet acknowledged (`state="unacked"`; for a
 * queue a subscription consumes, what that subscription holds). A queue that does not exist has no series.
 *
 * The figures are read when the registry is collected (on scrape) from the RabbitMQ management API through
 * `management`, whose own figures lag the broker by a few seconds (its statistics interval); one request per named
 * queue, or one listing of the vhost. A read that fails or takes longer than `timeoutMs` is logged, leaves the last
 * values and never fails the scrape. Never throws.
 */
export function registerRabbitQueueMetrics(
  management: RabbitManagementClient,
  options: RabbitQueueMetricsOptions,
): Gauge<QueueLabel> {
  const { queues } = options;
  const vhost = options.vhost ?? "/";
  const read = async (): Promise<Array<GaugeSample<QueueLabel>>> => {
    const names = typeof queues === "function" ? queues() : queues;
    const found =
      names === undefined
        ? await management.listQueues(vhost)
        : (await Promise.all([...new Set(names)].map((name) => management.getQueue(name, vhost)))).filter(
            (queue): queue is QueueInfo => queue !== undefined,
          );
    return found.flatMap((queue) => [
      { labels: { queue: queue.name, state: "ready" }, value: queue.messagesReady },
      { labels: { queue: queue.name, state: "unacked" }, value: queue.messagesUnacknowledged },
    ]);
  };
  return registerScrapedGauge<QueueLabel>({
    registry: options.registry,
    name: RABBITMQ_QUEUE_MESSAGES,
    help: "Messages in a RabbitMQ queue, by state: ready (waiting for a consumer) or unacked (delivered, not settled).",
    labelNames: ["queue", "state"],
    timeoutMs: options.timeoutMs ?? 2000,
    logger: options.logger ?? silentLogger,
    read,
  });
}
