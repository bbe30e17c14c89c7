import fp from "fastify-plugin";
import { ReplayRunner } from "./runner.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Runs the replay jobs stored in PostgreSQL. */
    replays: ReplayRunner;
  }
}

/** Starts the replay runner when the app is ready (jobs left running by a previous process resume); stops it on close. */
export const replayPlugin = fp(
  async (app) => {
    const runner = new ReplayRunner({
      pool: app.db,
      kafka: app.kafka,
      amqp: app.amqp,
      serde: app.serde,
      logger: app.log.child({ component: "replay" }),
    });
    app.decorate("replays", runner);
    app.addHook("onReady", async () => {
      runner.start();
    });
    app.addHook("onClose", async () => {
      await runner.close();
    });
  },
  { name: "dlq-replay", fastify: "5.x", dependencies: ["dlq-database", "dlq-serde", "kronos-kafka", "kronos-amqp"] },
);
