import { afterAll, describe, expect, it } from "vitest";
import { createPool, ensureDatabase, migrate } from "../src/db/database.js";
import { TestDatabase } from "./database.js";

const database = new TestDatabase();
afterAll(() => database.drop());

describe("the dlq-manager's PostgreSQL schema", () => {
  it("is created with the database, migrates once however often it starts, and keeps the audit append-only", async () => {
    await ensureDatabase(database.url);
    await ensureDatabase(database.url);
    const pool = createPool(database.url);
    try {
      await Promise.all([migrate(pool), migrate(pool)]);
      await migrate(pool);
      const versions = await pool.query("SELECT version FROM schema_version WHERE version > 0 ORDER BY version");
      expect(versions.rows.map((row) => Number(row.version))).toEqual([1, 2, 3, 4, 5]);

      await pool.query("INSERT INTO audit (actor, action) VALUES ('test', 'discard')");
      await expect(pool.query("UPDATE audit SET actor = 'someone else'")).rejects.toThrow(/append-only/);
      await expect(pool.query("DELETE FROM audit")).rejects.toThrow(/append-only/);
      expect((await pool.query("SELECT count(*)::int AS n FROM audit")).rows[0].n).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
