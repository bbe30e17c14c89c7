import { fileURLToPath } from "node:url";
import { withTimeout } from "@kronos/transport";
import pg from "pg";
import Postgrator from "postgrator";

/** A PostgreSQL connection pool (node-postgres). */
export type Pool = pg.Pool;

// migrations/ sits beside src/ and dist/, so the same path works from both.
const MIGRATIONS = fileURLToPath(new URL("../../migrations/*.sql", import.meta.url));
// Any constant: the key of the advisory lock that lets one instance migrate at a time.
const MIGRATION_LOCK = 7_134_201;

/** The database URL with its password hidden, for messages. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
}

/**
 * Creates the database `url` names when it does not exist (connecting to the server's `postgres` database), so a
 * fresh PostgreSQL needs nothing done by hand. Throws when the server cannot be reached or refuses.
 */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, "")) || "postgres";
  const maintenance = new URL(url);
  maintenance.pathname = "/postgres";
  const client = new pg.Client({ connectionString: maintenance.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } catch (error) {
        // Another instance created it meanwhile.
        if ((error as { code?: string }).code !== "42P04") throw error;
      }
    }
  } finally {
    await client.end();
  }
}

/** Applies the migrations in `migrations/` that `pool`'s database has not had yet, one instance at a time. */
export async function migrate(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      const postgrator = new Postgrator({
        migrationPattern: MIGRATIONS,
        driver: "pg",
        schemaTable: "schema_version",
        execQuery: (query) => client.query(query),
      });
      await postgrator.migrate();
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/**
 * The `postgres` readiness check: opens a connection of its own to `url` and runs `SELECT 1`, within `timeoutMs`.
 * Its own connection rather than the pool's, so that a server that stopped answering cannot hold pool clients (a
 * query on a frozen connection never returns); a timed-out probe is ended without being waited for. Rejects with
 * the driver's reason (`connect ECONNREFUSED ...`, `Connection terminated unexpectedly`, `... timed out after N ms`).
 */
export async function pingDatabase(url: string, timeoutMs: number): Promise<void> {
  // No connectionTimeoutMillis: withTimeout bounds the whole probe and says so ("... timed out after N ms"), and
  // ending the client destroys a socket still connecting or querying.
  const client = new pg.Client({ connectionString: url });
  // A connection dropped while idle emits 'error'; unhandled, it would crash the process.
  client.on("error", () => undefined);
  try {
    await withTimeout(
      (async () => {
        await client.connect();
        await client.query("SELECT 1");
      })(),
      timeoutMs,
      "PostgreSQL SELECT 1",
    );
  } catch (error) {
    // Not awaited: on a server that stopped answering, ending would wait for it.
    void client.end().catch(() => undefined);
    throw error;
  }
  await client.end().catch(() => undefined);
}

/** Opens a pool on `url` (small: the dlq-manager's queries are short). */
export function createPool(url: string): Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  // An idle client losing its connection emits 'error' on the pool; unhandled, it would crash the process.
  pool.on("error", () => undefined);
  return pool;
}

/**
 * Runs `work` in a transaction on one client of `pool`: COMMIT when it resolves, ROLLBACK (and the error rethrown)
 * when it throws.
 */
export async function inTransaction<T>(pool: Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
