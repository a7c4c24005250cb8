import { createHash } from "node:crypto";
import type { Knex } from "knex";
import type { JdbcDialect } from "./options.ts";

/** Runs one SELECT that returns at most one row, through a prepared statement where the driver has them. */
export type PointReader = (
  sql: string,
  bindings: readonly unknown[],
) => Promise<Record<string, unknown> | undefined>;

interface SqliteStatement {
  get(...bindings: unknown[]): unknown;
}
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
}
interface PgClient {
  query(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * The read path skips knex's query builder (about 20 µs a query, as much as the read itself on
 * SQLite): it borrows a connection from knex's pool and runs a statement prepared once per
 * connection. SQL is written with `?` placeholders and numbered for PostgreSQL.
 */
export function pointReader(db: Knex, dialect: JdbcDialect): PointReader {
  if (dialect === "mysql") {
    return async (sql, bindings) => {
      const [rows] = (await db.raw(sql, bindings as Knex.RawBinding[])) as [Record<string, unknown>[]];
      return rows[0];
    };
  }
  const statements = new WeakMap<object, Map<string, SqliteStatement>>();
  const pgNames = new Map<string, { name: string; text: string }>();
  return async (sql, bindings) => {
    const connection = (await db.client.acquireConnection()) as object;
    try {
      if (dialect === "sqlite") {
        let cache = statements.get(connection);
        if (cache === undefined) {
          cache = new Map();
          statements.set(connection, cache);
        }
        let statement = cache.get(sql);
        if (statement === undefined) {
          statement = (connection as SqliteDatabase).prepare(sql);
          cache.set(sql, statement);
        }
        return statement.get(...bindings) as Record<string, unknown> | undefined;
      }
      let named = pgNames.get(sql);
      if (named === undefined) {
        let index = 0;
        const text = sql.replace(/\?/g, () => `$${++index}`);
        named = { name: `sbx_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`, text };
        pgNames.set(sql, named);
      }
      const result = await (connection as PgClient).query({ ...named, values: [...bindings] });
      return result.rows[0];
    } finally {
      await db.client.releaseConnection(connection);
    }
  };
}
