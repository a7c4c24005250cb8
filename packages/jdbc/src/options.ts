import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type EncryptionKey, parseOptions, StrongboxError, type Tags, tagsSchema, z } from "@strongbox/core";
import type { Knex } from "knex";

/** The SQL databases the store speaks to. */
export type JdbcDialect = "sqlite" | "postgres" | "mysql";

/** Options of {@link jdbc}. */
export interface JdbcOptions {
  /**
   * Where the database is: `sqlite:./secrets.db` (the file and its directory are created on
   * first use), `sqlite::memory:`, `postgres://user:pass@host:5432/db`, `mysql://user:pass@host:3306/db`
   * (also `mariadb://`; a leading `jdbc:` is accepted). Give `url` or `connection`.
   * @default undefined
   */
  url?: string;
  /**
   * A knex connection object (`{ host, port, user, password, database }`, or `{ filename }` for SQLite),
   * used with `dialect` instead of `url`.
   * @default undefined
   */
  connection?: Record<string, unknown>;
  /** The database kind for `connection`; with `url` it comes from the scheme. @default "sqlite" */
  dialect?: JdbcDialect;
  /**
   * The encryption key (at least 32 characters, or base64 of 32 bytes), or a list of keys newest
   * first: the first encrypts, all decrypt, and `rotate()` moves every value to the first.
   */
  secret?: EncryptionKey | readonly EncryptionKey[];
  /**
   * A file holding the key (one key per line, newest first), read when the factory runs: keep it
   * out of the configuration with mode 0600. Give `secret` or `secretFile`.
   * @default undefined
   */
  secretFile?: string;
  /** Name of the secrets table; the store also owns `<table>_versions`, `<table>_tags`, `<table>_migrations`, `<table>_meta`. @default "strongbox_secrets" */
  table?: string;
  /** Every secret this store writes or reads lives under this prefix (a column), so applications can share a table. @default "" */
  prefix?: string;
  /** Tags merged into the tags of every secret this store creates or updates. @default {} */
  tags?: Tags;
  /** Creates or upgrades the schema on first use; when false, call `migrate()` yourself. @default true */
  autoMigrate?: boolean;
  /** Largest connection pool (SQLite always uses one connection). @default 10 */
  poolSize?: number;
  /** Rows per batch in `rotate()`. @default 500 */
  rotationBatchSize?: number;
}

/** Options once validated, with defaults. */
export interface ResolvedOptions {
  dialect: JdbcDialect;
  knexConfig: Knex.Config;
  /** The SQLite file to create with its directory, if any. */
  sqliteFile: string | undefined;
  keys: EncryptionKey[];
  table: string;
  prefix: string;
  tags: Tags;
  autoMigrate: boolean;
  rotationBatchSize: number;
}

const keySchema = z.union([
  z.string().min(32),
  z.object({ id: z.string().optional(), secret: z.string().min(32) }),
]);

/** The options schema (also used by `fromConfig`). */
export const optionsSchema: z.ZodType<JdbcOptions> = z
  .object({
    url: z.string().min(1).optional(),
    connection: z.record(z.string(), z.unknown()).optional(),
    dialect: z.enum(["sqlite", "postgres", "mysql"]).optional(),
    secret: z.union([keySchema, z.array(keySchema).min(1)]).optional(),
    secretFile: z.string().min(1).optional(),
    table: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,39}$/, "a letter or _, then up to 39 letters, digits or _")
      .optional(),
    prefix: z.string().max(190).optional(),
    tags: tagsSchema.optional(),
    autoMigrate: z.boolean().optional(),
    poolSize: z.number().int().positive().optional(),
    rotationBatchSize: z.number().int().positive().optional(),
  })
  .strict()
  .refine((options) => (options.url === undefined) !== (options.connection === undefined), {
    message: "give either url or connection",
    path: ["url"],
  })
  .refine((options) => (options.secret === undefined) !== (options.secretFile === undefined), {
    message: "give either secret (the encryption key) or secretFile",
    path: ["secret"],
  }) as unknown as z.ZodType<JdbcOptions>;

/** Validates options (INVALID_OPTIONS with the field path) and builds the knex configuration. */
export function resolveOptions(input: JdbcOptions, path = "jdbc"): ResolvedOptions {
  const options = parseOptions(optionsSchema, input, path, "jdbc");
  const keys =
    options.secretFile !== undefined
      ? readKeyFile(options.secretFile, path)
      : ((Array.isArray(options.secret) ? [...options.secret] : [options.secret]) as EncryptionKey[]);
  const { dialect, connection, sqliteFile } =
    options.url !== undefined
      ? fromUrl(options.url, path)
      : fromObject(options.connection ?? {}, options.dialect ?? "sqlite");
  const poolSize = options.poolSize ?? 10;
  const knexConfig: Knex.Config = {
    client: dialect === "sqlite" ? "better-sqlite3" : dialect === "postgres" ? "pg" : "mysql2",
    connection: connection as Knex.StaticConnectionConfig,
    useNullAsDefault: true,
    // Never let knex put bindings (ciphertext) into an error message.
    compileSqlOnError: false,
    pool: dialect === "sqlite" ? { min: 1, max: 1 } : { min: 0, max: poolSize },
    acquireConnectionTimeout: 10_000,
    // knex logs pool errors itself; they reach the caller as StrongboxErrors instead.
    log: { warn: quiet, error: quiet, deprecate: quiet, debug: quiet },
  };
  return {
    dialect,
    knexConfig,
    sqliteFile,
    keys,
    table: options.table ?? "strongbox_secrets",
    prefix: options.prefix ?? "",
    tags: options.tags ?? {},
    autoMigrate: options.autoMigrate ?? true,
    rotationBatchSize: options.rotationBatchSize ?? 500,
  };
}

function quiet(): void {}

/** Reads a key file: one key per line, newest first; blank lines and `#` comments are skipped. */
export function readKeyFile(file: string, path = "jdbc"): string[] {
  let text: string;
  try {
    text = readFileSync(resolve(file), "utf8");
  } catch (cause) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `invalid options: ${path}.secretFile: cannot read the key file ${resolve(file)}`,
      {
        backend: "jdbc",
        cause: safeFsError(cause),
      },
    );
  }
  const keys = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (keys.length === 0 || keys.some((key) => key.length < 32)) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `invalid options: ${path}.secretFile: ${resolve(file)} must hold keys of at least 32 characters, one per line`,
      { backend: "jdbc" },
    );
  }
  return keys;
}

function safeFsError(cause: unknown): Error {
  const code = (cause as NodeJS.ErrnoException)?.code;
  return new Error(code ?? "cannot read");
}

interface Target {
  dialect: JdbcDialect;
  connection: unknown;
  sqliteFile: string | undefined;
}

function fromUrl(raw: string, path: string): Target {
  const url = raw.startsWith("jdbc:") ? raw.slice(5) : raw;
  const scheme = url.slice(0, url.indexOf(":")).toLowerCase();
  if (scheme === "sqlite" || scheme === "sqlite3" || scheme === "file") {
    let file = url.slice(url.indexOf(":") + 1);
    if (file === ":memory:" || file === "")
      return { dialect: "sqlite", connection: { filename: ":memory:" }, sqliteFile: undefined };
    if (file.startsWith("//")) file = file.slice(2); // sqlite:///abs/path.db
    const filename = resolve(file);
    return { dialect: "sqlite", connection: { filename }, sqliteFile: filename };
  }
  if (scheme === "postgres" || scheme === "postgresql")
    return { dialect: "postgres", connection: url, sqliteFile: undefined };
  if (scheme === "mysql" || scheme === "mariadb") {
    return {
      dialect: "mysql",
      connection: `mysql:${url.slice(url.indexOf(":") + 1)}`,
      sqliteFile: undefined,
    };
  }
  throw new StrongboxError(
    "INVALID_OPTIONS",
    `invalid options: ${path}.url: expected a sqlite:, postgres:// or mysql:// URL (scheme "${scheme}" is not known)`,
    { backend: "jdbc" },
  );
}

function fromObject(connection: Record<string, unknown>, dialect: JdbcDialect): Target {
  if (dialect !== "sqlite") return { dialect, connection, sqliteFile: undefined };
  const filename = typeof connection.filename === "string" ? connection.filename : ":memory:";
  const file = filename === ":memory:" ? undefined : resolve(filename);
  return { dialect, connection: { ...connection, filename: file ?? filename }, sqliteFile: file };
}

/** The directory a SQLite file lives in. */
export function sqliteDirectory(file: string): string {
  return dirname(file);
}
