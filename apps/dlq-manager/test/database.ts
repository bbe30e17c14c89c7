import { randomBytes } from "node:crypto";
import pg from "pg";

/** The PostgreSQL server tests use: `DLQ_TEST_DATABASE_SERVER`, default the local stack's. */
const SERVER = process.env.DLQ_TEST_DATABASE_SERVER ?? "postgres://postgres@127.0.0.1:5432";

/**
 * A database of its own for one test file: `url()` names it (the app creates it at start), `drop()` removes it
 * (call it in `afterAll`, after closing every app using it).
 */
export class TestDatabase {
  readonly name = `dlq_test_${randomBytes(4).toString("hex")}`;
  readonly url = `${SERVER}/${this.name}`;

  async drop(): Promise<void> {
    const client = new pg.Client({ connectionString: `${SERVER}/postgres` });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(this.name)} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }
}
