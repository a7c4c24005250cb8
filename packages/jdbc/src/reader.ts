import { createHash } from "node:crypto";
import type { Knex } from "knex";
import type { JdbcDialect } from "./options.ts";

/** Runs one SELECT that returns at most one row, through a prepared statement where the driver has them. */
export interface PointReader {
  /** The row, or a promise of it (SQLite answers synchronously when its connection is free). */
  (
    sql: string,
    bindings: readonly unknown[],
  ): Record<string, unknown> | undefined | Promise<Record<string, unknown> | undefined>;
  /** Gives back a connection the reader keeps (before the pool is destroyed). */
  release(): Promise<void>;
}

interface SqliteStatement {
  get(...bindings: unknown[]): unknown;
}
interface SqliteDatabase {
  readonly open: boolean;
  prepare(sql: string): SqliteStatement;
}
interface PgClient {
  __knex__disposed?: unknown;
  query(config: {
    name: string;
    text: string;
    values: unknown[];
  }): Promise<{ rows: Record<string, unknown>[] }>;
}

interface MysqlConnection {
  execute(sql: string, values: unknown[], callback: (error: Error | null, rows: unknown) => void): void;
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
  if (dialect === "mysql") return mysqlReader(db);
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
  const borrow = async (sql: string, bindings: readonly unknown[]) => {
    const connection = (await db.client.acquireConnection()) as SqliteDatabase;
    try {
      idle = connection;
      return run(connection, sql, bindings);
    } finally {
      await db.client.releaseConnection(connection);
    }
  };
  const read = (sql: string, bindings: readonly unknown[]) => {
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
    return borrow(sql, bindings);
  };
  return Object.assign(read, {
    release: async () => {
      idle = undefined;
    },
  });
}

function pgReader(db: Knex): PointReader {
  const names = new Map<string, { name: string; text: string }>();
  // One connection is kept for reads: a read one after another (the common case) then skips the
  // pool's acquire and release. While it is busy, concurrent reads borrow from the pool as usual.
  let kept: PgClient | undefined;
  let keptBusy = false;
  const query = async (
    connection: PgClient,
    named: { name: string; text: string },
    bindings: readonly unknown[],
  ) =>
    (await connection.query({ name: named.name, text: named.text, values: bindings as unknown[] })).rows[0];
  const read = async (sql: string, bindings: readonly unknown[]) => {
    let named = names.get(sql);
    if (named === undefined) {
      let index = 0;
      const text = sql.replace(/\?/g, () => `$${++index}`);
      named = { name: `sbx_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`, text };
      names.set(sql, named);
    }
    // Never with a pool of one: writes need a connection too.
    if (!keptBusy && ((db.client.pool as { max?: number } | undefined)?.max ?? 0) >= 2) {
      keptBusy = true;
      try {
        if (kept?.__knex__disposed !== undefined) {
          // knex marks a connection that ended or failed: hand it back for the pool to replace.
          await db.client.releaseConnection(kept);
          kept = undefined;
        }
        kept ??= (await db.client.acquireConnection()) as PgClient;
        return await query(kept, named, bindings);
      } catch (error) {
        // The connection may be broken: give it back (knex disposes of broken ones) and take another next time.
        const broken = kept;
        kept = undefined;
        if (broken !== undefined) await db.client.releaseConnection(broken);
        throw error;
      } finally {
        keptBusy = false;
      }
    }
    const connection = (await db.client.acquireConnection()) as PgClient;
    try {
      return await query(connection, named, bindings);
    } finally {
      await db.client.releaseConnection(connection);
    }
  };
  return Object.assign(read, {
    release: async () => {
      const connection = kept;
      kept = undefined;
      if (connection !== undefined) await db.client.releaseConnection(connection);
    },
  });
}

function mysqlReader(db: Knex): PointReader {
  // mysql2 prepares a statement once per connection and keeps it (`execute`).
  const read = async (sql: string, bindings: readonly unknown[]) => {
    const connection = (await db.client.acquireConnection()) as MysqlConnection;
    try {
      const rows = await new Promise<Record<string, unknown>[]>((resolve, reject) =>
        connection.execute(sql, [...bindings], (error, result) =>
          error ? reject(error) : resolve(result as Record<string, unknown>[]),
        ),
      );
      return rows[0];
    } finally {
      await db.client.releaseConnection(connection);
    }
  };
  return Object.assign(read, { release: async () => {} });
}
