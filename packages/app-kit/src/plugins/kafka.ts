import { createKafkaConnection, type KafkaConnection } from "@kronos/transport";
import fp from "fastify-plugin";

declare module "fastify" {
  interface FastifyInstance {
    /** The app's Kafka connection (kafkajs stays behind this interface). */
    kafka: KafkaConnection;
  }
}

/**
 * Opens the app's {@link KafkaConnection} with its security settings (`config.kafkaSecurity`: TLS, SASL) and
 * lazily (the app starts while Kafka is down), adds the `kafka` readiness
 * check (a metadata request) and disconnects on close. Plugin name: `kronos-kafka`.
 */
export const kafkaPlugin = fp(
  async (app) => {
    const kafka = createKafkaConnection({
      brokers: app.config.kafkaBrokers,
      clientId: app.config.app,
      logger: app.log.child({ component: "kafka" }),
      tls: app.config.kafkaSecurity.tls,
      sasl: app.config.kafkaSecurity.sasl,
    });
    app.decorate("kafka", kafka);
    app.readiness.add("kafka", (timeoutMs) => kafka.checkHealth(timeoutMs));
    app.addHook("onClose", async () => {
      await kafka.close();
    });
  },
  { name: "kronos-kafka", fastify: "5.x", dependencies: ["kronos-config", "kronos-readiness"] },
);
