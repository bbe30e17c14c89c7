import fp from "fastify-plugin";
import { createPool, ensureDatabase, migrate, type Pool, redactDatabaseUrl } from "./database.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The dlq-manager's PostgreSQL pool (migrated when the app is ready). */
    db: Pool;
  }
}

/** Options of {@link databasePlugin}. */
export interface DatabasePluginOptions {
  readonly url: string;
}

/**
 * Opens the PostgreSQL pool, and when the app becomes ready creates the database if missing and applies the
 * migrations (a failure stops the start: custody without its store would be a loss); closes the pool on close.
 * Not a `/readyz` check yet: app-kit's shared app test expects exactly the kafka, rabbitmq and registry checks, and
 * an app's own checks need app-kit to allow them. Plugin name: `dlq-database`.
 */
export const databasePlugin = fp<DatabasePluginOptions>(
  async (app, options) => {
    const pool = createPool(options.url);
    app.decorate("db", pool);
    app.addHook("onReady", async () => {
      try {
        await ensureDatabase(options.url);
        await migrate(pool);
      } catch (error) {
        throw new Error(`PostgreSQL at ${redactDatabaseUrl(options.url)}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    });
    app.addHook("onClose", async () => {
      await pool.end();
    });
  },
  { name: "dlq-database", fastify: "5.x", dependencies: ["kronos-config", "kronos-readiness"] },
);
