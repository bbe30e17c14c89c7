import { RegistrySerde } from "@kronos/contracts";
import {
  type AmqpPublisher,
  createAmqpPublisher,
  createKafkaPublisher,
  ensureTopology,
  type KafkaPublisher,
  withTimeout,
} from "@kronos/transport";
import fp from "fastify-plugin";
import { nullSinkPublishers } from "./bench-null-sink.js";

declare module "fastify" {
  interface FastifyInstance {
    /** What the publish routes write with: the registry serde and one publisher per broker. */
    publishers: {
      /** Confluent-framed Avro with registered schema ids (registers a schema the registry lacks). */
      readonly serde: RegistrySerde;
      /** The one idempotent Kafka producer (acks=all, micro-batched). */
      readonly kafka: KafkaPublisher;
      /** The RabbitMQ confirm channel (persistent, mandatory, confirms pipelined). */
      readonly amqp: AmqpPublisher;
    };
  }
}

/** Options of {@link publishersPlugin}. */
export interface PublishersPluginOptions {
  /** Upper bound of the topology creation at start, in ms. Default: 15000. */
  readonly topologyTimeoutMs?: number;
  /** Benchmarking aid (`GATEWAY_BENCH_NULL_SINK`, see bench-null-sink.ts): ack at once, send nothing. Default: false. */
  readonly nullSink?: boolean;
}

/**
 * The publishing infrastructure: a {@link RegistrySerde} on `SCHEMA_REGISTRY_URL` with `autoRegister` on (a schema
 * the registry lacks is registered on first use under its subject, with the subject's compatibility rules; ids are
 * cached), the Kafka publisher on `app.kafka` and the RabbitMQ publisher on `app.amqp`. When the app becomes ready
 * it creates the contract manifest's topics, exchanges and queues (`app.contracts.topology`, `ensureTopology`,
 * idempotent); a failure
 * there is logged, not fatal (the gateway starts while a broker is down). Publishers are closed on close, after
 * the messages in flight are acknowledged. Plugin name: `kronos-gateway-publishers`.
 */
export const publishersPlugin = fp<PublishersPluginOptions>(
  async (app, options) => {
    const logger = app.log.child({ component: "publish" });
    const serde = new RegistrySerde({ ...app.config.schemaRegistry, autoRegister: true, retries: 1 });
    const { kafka, amqp } = options.nullSink
      ? nullSinkPublishers()
      : {
          kafka: createKafkaPublisher(app.kafka, { clientId: `${app.config.app}-publisher`, logger }),
          amqp: createAmqpPublisher(app.amqp, { logger }),
        };
    if (options.nullSink) logger.warn("GATEWAY_BENCH_NULL_SINK=1: publish answers 202 WITHOUT sending to any broker");
    app.decorate("publishers", { serde, kafka, amqp });

    app.addHook("onReady", async () => {
      try {
        const catalog = { destinations: app.contracts.topology };
        const report = await withTimeout(
          ensureTopology({ catalog, kafka: app.kafka, amqp: app.amqp, logger }),
          options.topologyTimeoutMs ?? 15_000,
          "creating the contract manifest's topology",
        );
        for (const conflict of report.conflicts) {
          logger.warn({ conflict }, "a manifest destination exists with other settings; left as it is");
        }
        logger.info(
          { created: report.created.length, existing: report.existing.length, conflicts: report.conflicts.length },
          "contract manifest topology ensured",
        );
      } catch (error) {
        logger.error({ err: error }, "could not create the manifest's topology");
      }
    });
    app.addHook("onClose", async () => {
      await Promise.all([kafka.close(), amqp.close()]);
    });
  },
  {
    name: "kronos-gateway-publishers",
    fastify: "5.x",
    dependencies: ["kronos-config", "kronos-kafka", "kronos-amqp", "kronos-gateway-contracts"],
  },
);
