import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import {
  type Capabilities,
  createCipher,
  type ListQuery,
  type PutOptions,
  type Secret,
  type SecretBackend,
  type SecretEntry,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
  validateRef,
} from "@strongbox/core";
import knex, { type Knex } from "knex";
import { listPage, readMany } from "./list.ts";
import { type JdbcDialect, type JdbcOptions, resolveOptions, sqliteDirectory } from "./options.ts";
import { entryOf, getSql, refHash, type SecretRow, type Store, scopeHead, secretOf } from "./queries.ts";
import { pointReader } from "./reader.ts";
import { type RotateOptions, type RotationResult, rotateAll } from "./rotation.ts";
import { checkSchema, migrate, rewriteKeyCheck, tableNames, verifyKey } from "./schema.ts";
import { toStrongboxError } from "./sql-errors.ts";
import { deleteSecret, writeSecret } from "./write.ts";

/** The SQL store: a {@link SecretBackend} with the operations only it has. */
export interface JdbcBackend extends SecretBackend {
  readonly type: "jdbc";
  /** The database kind behind this store. */
  readonly dialect: JdbcDialect;
  /** Creates or upgrades the schema; resolves the migration versions applied (none when up to date). */
  migrate(): Promise<number[]>;
  /** Re-encrypts every value under the first configured key, in batches; resumable. */
  rotate(options?: RotateOptions): Promise<RotationResult>;
  /** Connects, checks the schema and the key, and resolves what it found (for `strongbox doctor`). */
  check(): Promise<StoreCheck>;
  getMany(refs: readonly SecretRef[]): Promise<Map<string, Secret>>;
  list(query?: ListQuery): AsyncIterable<SecretEntry>;
  put(
    ref: SecretRef,
    value: string | Uint8Array | SecretValue,
    options?: PutOptions,
  ): Promise<SecretMetadata>;
  delete(ref: SecretRef): Promise<boolean>;
  close(): Promise<void>;
}

/** What `check()` found: nothing secret. */
export interface StoreCheck {
  dialect: JdbcDialect;
  table: string;
  /** Secrets under this store's prefix. */
  secrets: number;
  /** Id of the key that encrypts new values. */
  keyId: string;
  /** Versions still encrypted under an older key (0 when no rotation is pending). */
  olderKeyVersions: number;
}

const capabilities: Capabilities = {
  tags: true,
  tagFilter: "server",
  versions: true,
  binary: true,
  description: true,
  checkAndSet: true,
};

const PAGE = 500;

/**
 * A SQL store through knex (`type: jdbc`): SQLite (embedded: one file, created on first use),
 * PostgreSQL or MySQL/MariaDB. Values are stored only as AES-256-GCM envelopes bound to their
 * ref; every `put` keeps a version; tags live in their own indexed table so filters run in SQL.
 * Nothing connects before the first operation, which also migrates the schema and checks the key.
 *
 * @example
 * const backend = jdbc({ url: "sqlite:./.strongbox/secrets.db", secret: process.env.STRONGBOX_KEY! });
 * await backend.put({ namespace: "company.team", key: "DB_PASSWORD" }, "hunter2", { tags: { app: "billing" } });
 */
export function jdbc(options: JdbcOptions, path = "jdbc"): JdbcBackend {
  const resolved = resolveOptions(options, path);
  const cipher = createCipher({ keys: resolved.keys, backend: "jdbc" });
  const names = tableNames(resolved.table);
  const keyScope = JSON.stringify([names.secrets, resolved.prefix]);
  let db: Knex | undefined;
  let store: Store | undefined;
  let ready: Promise<Store> | undefined;
  let getCurrent = "";
  let getVersion = "";

  const connect = (): Knex => {
    if (db !== undefined) return db;
    if (resolved.sqliteFile !== undefined) {
      mkdirSync(sqliteDirectory(resolved.sqliteFile), { recursive: true, mode: 0o700 });
      // An empty file is a new SQLite database: creating it first keeps it (and its WAL) private.
      if (!existsSync(resolved.sqliteFile))
        writeFileSync(resolved.sqliteFile, "", { mode: 0o600, flag: "a" });
    }
    const config: Knex.Config = { ...resolved.knexConfig };
    if (resolved.dialect === "sqlite") {
      config.pool = {
        ...config.pool,
        afterCreate(
          connection: { pragma(sql: string): unknown },
          done: (error: Error | null, connection: unknown) => void,
        ) {
          try {
            // WAL lets readers run beside a writer; the busy timeout makes writers from several processes queue.
            if (resolved.sqliteFile !== undefined) connection.pragma("journal_mode = WAL");
            connection.pragma("busy_timeout = 15000");
            done(null, connection);
          } catch (error) {
            done(error as Error, connection);
          }
        },
      };
    }
    db = knex(config);
    return db;
  };

  const start = async (): Promise<Store> => {
    const client = connect();
    if (resolved.autoMigrate) await migrate(client, names, resolved.dialect);
    else await checkSchema(client, names);
    await verifyKey(client, names, cipher, keyScope);
    const built: Store = {
      db: client,
      dialect: resolved.dialect,
      names,
      prefix: resolved.prefix,
      scopeHead: scopeHead(names.secrets, resolved.prefix),
      cipher,
      defaultTags: resolved.tags,
      read: pointReader(client, resolved.dialect),
    };
    getCurrent = getSql(built, false);
    getVersion = getSql(built, true);
    store = built;
    return built;
  };

  const open = async (operation: string, ref?: SecretRef): Promise<Store> => {
    if (store !== undefined) return store;
    ready ??= start();
    try {
      return await ready;
    } catch (error) {
      ready = undefined; // a database that was down may be up at the next call
      throw toStrongboxError(error, operation, ref);
    }
  };

  const run = async <T>(
    operation: string,
    ref: SecretRef | undefined,
    fn: (store: Store) => Promise<T>,
  ): Promise<T> => {
    const opened = store ?? (await open(operation, ref));
    try {
      return await fn(opened);
    } catch (error) {
      throw toStrongboxError(error, operation, ref);
    }
  };

  const backend: JdbcBackend = {
    type: "jdbc",
    dialect: resolved.dialect,
    capabilities,
    async get(ref, getOptions = {}) {
      validateRef(ref);
      // The hot path: one await when the store is open and the read completes synchronously (SQLite).
      const opened = store ?? (await open("get", ref));
      try {
        const version = getOptions.version;
        if (version !== undefined && !/^[1-9]\d{0,9}$/.test(version)) return undefined;
        const hash = refHash(opened.prefix, ref);
        let row = opened.read(
          version === undefined ? getCurrent : getVersion,
          version === undefined ? [hash] : [Number(version), hash],
        );
        if (row instanceof Promise) row = await row;
        return row === undefined
          ? undefined
          : secretOf(opened, row as unknown as SecretRow & { envelope: string | null });
      } catch (error) {
        throw toStrongboxError(error, "get", ref);
      }
    },
    async getMany(refs) {
      for (const ref of refs) validateRef(ref);
      return await run("getMany", undefined, (opened) => readMany(opened, refs));
    },
    async *list(query = {}) {
      let after = 0;
      for (;;) {
        const rows = await run("list", undefined, (opened) => listPage(opened, query, after, PAGE));
        for (const row of rows) yield entryOf(row);
        if (rows.length < PAGE) return;
        after = Number((rows[rows.length - 1] as SecretRow).id);
      }
    },
    async put(ref, value, putOptions = {}) {
      validateRef(ref);
      return await run("put", ref, (opened) => writeSecret(opened, ref, SecretValue.from(value), putOptions));
    },
    async delete(ref) {
      validateRef(ref);
      return await run("delete", ref, (opened) => deleteSecret(opened, ref));
    },
    async migrate() {
      try {
        return await migrate(connect(), names, resolved.dialect);
      } catch (error) {
        throw toStrongboxError(error, "migrate");
      }
    },
    rotate(rotateOptions = {}) {
      return run("rotate", undefined, async (opened) => {
        const batchSize = rotateOptions.batchSize ?? resolved.rotationBatchSize;
        const result = await rotateAll(opened, batchSize, rotateOptions.onBatch);
        await rewriteKeyCheck(opened.db, names, cipher, keyScope);
        return result;
      });
    },
    check() {
      return run("check", undefined, async (opened) => {
        const counted = (await opened
          .db(names.secrets)
          .where({ prefix: opened.prefix })
          .count({ n: "*" })) as { n: number | string }[];
        const older = (await opened
          .db(`${names.versions} as v`)
          .join(`${names.secrets} as s`, "s.id", "v.secret_id")
          .where("s.prefix", opened.prefix)
          .andWhere("v.key_id", "<>", cipher.currentKeyId)
          .count({ n: "*" })) as { n: number | string }[];
        return {
          dialect: resolved.dialect,
          table: names.secrets,
          secrets: Number(counted[0]?.n ?? 0),
          keyId: cipher.currentKeyId,
          olderKeyVersions: Number(older[0]?.n ?? 0),
        };
      });
    },
    async close() {
      const client = db;
      const reader = store?.read;
      db = undefined;
      store = undefined;
      ready = undefined;
      await reader?.release();
      await client?.destroy();
    },
  };
  return backend;
}
