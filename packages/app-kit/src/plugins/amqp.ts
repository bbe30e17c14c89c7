import { AmqpConnectionManager } from "@kronos/transport";
import fp from "fastify-plugin";
import { explainRabbitmqFailure } from "../config-rabbitmq.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The app's RabbitMQ connection, reconnecting with backoff when it drops. */
    amqp: AmqpConnectionManager;
  }
}

/** Options of {@link amqpPlugin}. */
export interface AmqpPluginOptions {
  /** How long `ready()` waits for the first connection before the app starts anyway, in ms. Default: 3000. */
  readonly initialConnectWaitMs?: number;
}

/**
 * Opens the app's RabbitMQ connection when the app becomes ready (an app whose broker is down still starts, and
 * its `/readyz` says so), adds the `rabbitmq` readiness check and closes the connection on close. Plugin name:
 * `kronos-amqp`.
 */
export const amqpPlugin = fp<AmqpPluginOptions>(
  async (app, options) => {
    const amqp = new AmqpConnectionManager({
      url: app.config.rabbitmqUrl,
      name: app.config.app,
      logger: app.log.child({ component: "rabbitmq" }),
      ...(app.config.rabbitmq.tls ? { tls: app.config.rabbitmq.tls } : {}),
      ...(app.config.rabbitmq.credentials ? { credentials: app.config.rabbitmq.credentials } : {}),
      explain: explainRabbitmqFailure(app.config.rabbitmq),
    });
    app.decorate("amqp", amqp);
    app.readiness.add("rabbitmq", (timeoutMs) => amqp.checkHealth(timeoutMs));
    app.addHook("onReady", async () => {
      amqp.start();
      await amqp.waitForConnection(options.initialConnectWaitMs ?? 3000);
    });
    app.addHook("onClose", async () => {
      await amqp.close();
    });
  },
  { name: "kronos-amqp", fastify: "5.x", dependencies: ["kronos-config", "kronos-readiness"] },
);
