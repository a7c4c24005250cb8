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
  readonly open: boolean;
  prepare(sql: string): SqliteStatement;
}
interface PgClient {
  query(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: Record<string, unknown>[] }>;
}

interface PoolState {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
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
  return dialect === "sqlite" ? sqliteReader(db) : pgReader(db);
}

function sqliteReader(db: Knex): PointReader {
  const statements = new WeakMap<object, Map<string, SqliteStatement>>();
  const run = (connection: SqliteDatabase, sql: string, bindings: readonly unknown[]) => {
    let cache = statements.get(connection);
    if (cache === undefined) {
      cache = new Map();
      statements.set(connection, cache);
    }
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = connection.prepare(sql);
      cache.set(sql, statement);
    }
    return statement.get(...bindings) as Record<string, unknown> | undefined;
  };
  // The pool holds one SQLite connection. When nothing holds it (no transaction in flight, nobody
  // waiting), a synchronous read on it cannot interleave with anything, so it skips the pool's
  // acquire (a timer and several promises per read).
  let idle: SqliteDatabase | undefined;
  return async (sql, bindings) => {
    const pool = db.client.pool as PoolState | undefined;
    if (
      idle?.open === true &&
      pool !== undefined &&
      pool.numUsed() === 0 &&
      pool.numPendingAcquires() === 0 &&
      pool.numFree() === 1
    ) {
      return run(idle, sql, bindings);
    }
    const connection = (await db.client.acquireConnection()) as SqliteDatabase;
    try {
      idle = connection;
      return run(connection, sql, bindings);
    } finally {
      await db.client.releaseConnection(connection);
    }
  };
}

function pgReader(db: Knex): PointReader {
  const names = new Map<string, { name: string; text: string }>();
  return async (sql, bindings) => {
    let named = names.get(sql);
    if (named === undefined) {
      let index = 0;
      const text = sql.replace(/\?/g, () => `$${++index}`);
      named = { name: `sbx_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`, text };
      names.set(sql, named);
    }
    const connection = (await db.client.acquireConnection()) as PgClient;
    try {
      const result = await connection.query({ name: named.name, text: named.text, values: [...bindings] });
      return result.rows[0];
    } finally {
      await db.client.releaseConnection(connection);
    }
  };
}
