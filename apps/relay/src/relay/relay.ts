import type { Catalog, RelayRoute } from "@kronos/catalog";
import type { RegistrySerde } from "@kronos/contracts";
import {
  type AmqpConnectionManager,
  type AmqpPublisher,
  createAmqpPublisher,
  createKafkaPublisher,
  describeError,
  ensureTopology,
  type KafkaConnection,
  type KafkaPublisher,
  RabbitManagementClient,
} from "@kronos/transport";
import type { FastifyBaseLogger } from "fastify";
import type { Redis } from "ioredis";
import type { RelaySettings } from "../config.js";
import { Dedup } from "./dedup.js";
import type { KafkaSecurity } from "./kafka-source.js";
import type { RelayMetrics } from "./metrics.js";
import { Route, type RouteState } from "./route.js";
import type { EventRouting } from "./runner.js";

/** What {@link Relay} runs on. */
export interface RelayDeps {
  readonly settings: RelaySettings;
  readonly catalog: Catalog;
  readonly routes: readonly RelayRoute[];
  /** Create the manifest's topology (topics, exchanges, queues) before starting: true for the manifest's routes. */
  readonly ensureTopology: boolean;
  readonly kafka: KafkaConnection;
  readonly kafkaBrokers: readonly string[];
  /** TLS and SASL of the app's Kafka connection (`config.kafkaSecurity`). */
  readonly kafkaSecurity?: KafkaSecurity | undefined;
  readonly amqp: AmqpConnectionManager;
  /** CA bundle of an https `RABBITMQ_MANAGEMENT_URL`: the AMQP connection's (`RABBITMQ_SSL_CA_FILE`). */
  readonly managementCaFile?: string | undefined;
  readonly serde: RegistrySerde;
  readonly redis: Redis;
  readonly metrics: RelayMetrics;
  readonly log: FastifyBaseLogger;
}

/**
 * The relay: every route of the manifest (or those given), sharing one Kafka publisher, one AMQP confirm channel,
 * the registry serde and the Redis dedup window. {@link start} creates what the routes need and starts them; a route
 * whose start fails (a broker down) is tried again every few seconds until it runs.
 */
export class Relay {
  readonly routes = new Map<string, Route>();
  readonly metrics: RelayMetrics;
  readonly #deps: RelayDeps;
  #kafkaPublisher: KafkaPublisher | undefined;
  #amqpPublisher: AmqpPublisher | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(deps: RelayDeps) {
    this.#deps = deps;
    this.metrics = deps.metrics;
    const { settings, log, metrics } = deps;
    const events = new Map<string, EventRouting>(
      deps.catalog.events.map((e) => [e.name, { partitionKey: e.partitionKey, routingKey: e.routingKey }]),
    );
    // A claim outlives the longest publish, so a slow copy is never claimed twice; a dead instance's claims expire soon after.
    const dedup = new Dedup(deps.redis, { claimMs: settings.publishTimeoutMs + 1000 });
    const management = new RabbitManagementClient({
      url: settings.managementUrl,
      timeoutMs: 2000,
      caFile: deps.managementCaFile,
    });
    for (const route of deps.routes) {
      this.routes.set(
        route.id,
        new Route(route, {
          events,
          serde: deps.serde,
          dedup,
          publishKafka: () => {
            this.#kafkaPublisher ??= createKafkaPublisher(deps.kafka, { clientId: "relay", logger: log });
            return this.#kafkaPublisher;
          },
          publishAmqp: () => {
            this.#amqpPublisher ??= createAmqpPublisher(deps.amqp, { logger: log });
            return this.#amqpPublisher;
          },
          metrics: metrics.forRoute(route.id),
          log,
          instance: settings.instanceId,
          hopLimit: settings.hopLimit,
          dedupWindowMs: settings.dedupWindowMs,
          publishTimeoutMs: settings.publishTimeoutMs,
          kafka: deps.kafka,
          kafkaBrokers: deps.kafkaBrokers,
          kafkaSecurity: deps.kafkaSecurity,
          amqp: deps.amqp,
          management,
          prefetch: settings.prefetch,
          fromBeginning: settings.kafkaFromBeginning,
          backoffMs: settings.backoffMs,
          maxBackoffMs: settings.maxBackoffMs,
          onState: (id, state) => this.#recordState(id, state),
        }),
      );
    }
  }

  #recordState(route: string, state: RouteState): void {
    for (const each of ["running", "paused", "degraded"] as const) {
      this.#deps.metrics.state.set({ route, state: each }, each === state ? 1 : 0);
    }
  }

  /** Creates the topology (when asked) and starts every route; resolves once each has started (retrying). */
  async start(): Promise<void> {
    const { log } = this.#deps;
    if (this.#deps.ensureTopology) {
      await this.#retrying("topology", () =>
        ensureTopology({ catalog: this.#deps.catalog, kafka: this.#deps.kafka, amqp: this.#deps.amqp, logger: log }),
      );
    }
    await Promise.all([...this.routes.values()].map((route) => this.#retrying(route.route.id, () => route.start())));
    log.info({ routes: [...this.routes.keys()], instance: this.#deps.settings.instanceId }, "relay routes running");
  }

  async #retrying(what: string, run: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; !this.#closed; attempt++) {
      try {
        await run();
        return;
      } catch (error) {
        this.#deps.log.warn({ what, attempt, error: describeError(error) }, "relay start failed, trying again");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            () => {
              this.#timers.delete(timer);
              resolve();
            },
            Math.min(1000 * attempt, 10_000),
          );
          this.#timers.add(timer);
        });
      }
    }
  }

  /** Stops every route (unsettled messages go back to their sources), then the publishers. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    await Promise.all([...this.routes.values()].map((route) => route.close()));
    await Promise.all([this.#kafkaPublisher?.close(), this.#amqpPublisher?.close()]);
  }
}
