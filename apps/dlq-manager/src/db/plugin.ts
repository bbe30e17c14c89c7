import fp from "fastify-plugin";
import { createPool, ensureDatabase, migrate, type Pool, pingDatabase, redactDatabaseUrl } from "./database.js";

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
 * migrations (a failure stops the start: custody without its store would be a loss); adds the `postgres` readiness
 * check (a fresh connection answering `SELECT 1`), so `/readyz` is 503 naming `postgres` while the database cannot be
 * reached after the start; closes the pool on close. Plugin name: `dlq-database`.
 */
export const databasePlugin = fp<DatabasePluginOptions>(
  async (app, options) => {
    const pool = createPool(options.url);
    app.decorate("db", pool);
    app.readiness.add("postgres", (timeoutMs) => pingDatabase(options.url, timeoutMs));
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
