import fp from "fastify-plugin";
import type { SourceConfig } from "../config.js";
import { decodePayload } from "../decode.js";
import { registerDlqMetrics } from "../metrics.js";
import { Custody } from "./custody.js";
import { resolveSources } from "./sources.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Custody of the dead-letter sources (started when the app is ready). */
    custody: Custody;
    /** Resolves once every source is consuming or has failed once (tests wait for it). */
    custodyStarted: Promise<void>;
  }
}

/** Options of {@link custodyPlugin}. */
export interface CustodyPluginOptions {
  readonly sources: SourceConfig;
  readonly group: string;
}

/**
 * Starts custody when the app is ready (after the database plugin migrated the store), without holding up the
 * start: joining Kafka groups takes seconds. Closes the subscriptions on close (before the pool). Plugin name:
 * `dlq-custody`.
 */
export const custodyPlugin = fp<CustodyPluginOptions>(
  async (app, options) => {
    const custody = new Custody({
      kafka: app.kafka,
      amqp: app.amqp,
      pool: app.db,
      group: options.group,
      logger: app.log.child({ component: "custody" }),
      counters: registerDlqMetrics(app.metrics.registry, app.db),
      decode: async (body) => {
        const decoded = await decodePayload(app.serde, body);
        return decoded.decoded ? decoded.value : undefined;
      },
    });
    app.decorate("custody", custody);
    let started: () => void = () => undefined;
    app.decorate(
      "custodyStarted",
      new Promise<void>((resolve) => {
        started = resolve;
      }),
    );
    app.addHook("onReady", async () => {
      const sources = await resolveSources(options.sources);
      app.log.info(
        { kafka: sources.kafka.map((s) => s.topic), rabbitmq: sources.rabbitmq },
        "taking custody of the dead-letter sources",
      );
      void custody.start(sources).finally(started);
    });
    app.addHook("onClose", async () => {
      await custody.close();
    });
  },
  {
    name: "dlq-custody",
    fastify: "5.x",
    dependencies: ["dlq-database", "dlq-serde", "kronos-metrics", "kronos-kafka", "kronos-amqp"],
  },
);
