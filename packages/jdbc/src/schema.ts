import { createHash } from "node:crypto";
import { type SecretCipher, SecretValue, StrongboxError } from "@strongbox/core";
import type { Knex } from "knex";

/** The names of the tables one store owns. */
export interface TableNames {
  secrets: string;
  versions: string;
  tags: string;
  migrations: string;
  meta: string;
}

/** The tables a store named `table` owns. */
export function tableNames(table: string): TableNames {
  return {
    secrets: table,
    versions: `${table}_versions`,
    tags: `${table}_tags`,
    migrations: `${table}_migrations`,
    meta: `${table}_meta`,
  };
}

interface Migration {
  version: number;
  name: string;
  up(db: Knex.Transaction, names: TableNames, dialect: string): Promise<void>;
}

/**
 * The schema, one migration per change, never edited once released. Refs are columns ('' for an
 * absent tenant or namespace, since validated refs never hold ''), and `ref_hash` (SHA-256 of the
 * prefix and the ref) is the unique key: it keeps the unique index short on every database.
 * Each table is created only if missing: MySQL commits DDL at once, so a migration cut short by a
 * crash must be able to run again.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "secrets, versions, tags and meta",
    async up(db, names, dialect) {
      if (!(await db.schema.hasTable(names.secrets)))
        await db.schema.createTable(names.secrets, (t) => {
          t.bigIncrements("id").primary();
          t.string("ref_hash", 64).notNullable().unique(`${names.secrets}_ref_uq`);
          t.string("prefix", 190).notNullable();
          t.string("tenant", 190).notNullable();
          t.string("namespace", 255).notNullable();
          t.string("ref_key", 1024).notNullable();
          t.text("description").nullable();
          t.text("tags").notNullable();
          t.integer("version").notNullable();
          t.bigInteger("created_at").notNullable();
          t.bigInteger("updated_at").notNullable();
          t.index(["prefix", "namespace", "id"], `${names.secrets}_ns_ix`);
          t.index(["prefix", "tenant", "id"], `${names.secrets}_tenant_ix`);
        });
      if (!(await db.schema.hasTable(names.versions)))
        await db.schema.createTable(names.versions, (t) => {
          t.bigInteger("secret_id").notNullable();
          t.integer("version").notNullable();
          t.string("key_id", 64).notNullable();
          // Envelopes of large values run past MySQL's 64 KB TEXT.
          if (dialect === "mysql") t.text("envelope", "longtext").notNullable();
          else t.text("envelope").notNullable();
          t.bigInteger("created_at").notNullable();
          t.primary(["secret_id", "version"]);
        });
      if (!(await db.schema.hasTable(names.tags)))
        await db.schema.createTable(names.tags, (t) => {
          t.bigInteger("secret_id").notNullable();
          t.string("tag_name", 128).notNullable();
          t.string("tag_value", 512).notNullable();
          t.primary(["secret_id", "tag_name"]);
          t.index(["tag_name", "tag_value", "secret_id"], `${names.tags}_filter_ix`);
        });
      if (!(await db.schema.hasTable(names.meta)))
        await db.schema.createTable(names.meta, (t) => {
          t.string("name", 64).primary();
          t.text("content").notNullable();
        });
    },
  },
];

/** The newest schema version this package knows. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;

/** Applies the pending migrations; refuses a schema newer than this package knows. Resolves the versions applied. */
export async function migrate(db: Knex, names: TableNames, dialect: string): Promise<number[]> {
  await ensureMigrationsTable(db, names);
  const applied: number[] = [];
  const done = await appliedVersions(db, names);
  refuseNewer(done, names);
  for (const migration of MIGRATIONS) {
    if (done.has(migration.version)) continue;
    try {
      await db.transaction(async (trx) => {
        await migration.up(trx, names, dialect);
        await trx(names.migrations).insert({
          version: migration.version,
          name: migration.name,
          applied_at: Date.now(),
        });
      });
      applied.push(migration.version);
    } catch (error) {
      // Another process may be applying it at this moment: wait for its commit rather than fail.
      if (!(await appliedSoon(db, names, migration.version))) throw error;
    }
  }
  return applied;
}

/** Checks the schema is exactly the one this package knows, without changing it. */
export async function checkSchema(db: Knex, names: TableNames): Promise<void> {
  const done = (await db.schema.hasTable(names.migrations))
    ? await appliedVersions(db, names)
    : new Set<number>();
  refuseNewer(done, names);
  if (done.size < SCHEMA_VERSION) {
    throw new StrongboxError(
      "UNAVAILABLE",
      `the schema of table "${names.secrets}" is at version ${done.size}, this package needs ${SCHEMA_VERSION}: call migrate() or set autoMigrate: true`,
      { backend: "jdbc", operation: "start" },
    );
  }
}

async function ensureMigrationsTable(db: Knex, names: TableNames): Promise<void> {
  if (await db.schema.hasTable(names.migrations)) return;
  try {
    await db.schema.createTable(names.migrations, (t) => {
      t.integer("version").primary();
      t.string("name", 255).notNullable();
      t.bigInteger("applied_at").notNullable();
    });
  } catch (error) {
    if (!(await db.schema.hasTable(names.migrations))) throw error;
  }
}

async function appliedSoon(db: Knex, names: TableNames, version: number): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    if ((await appliedVersions(db, names)).has(version)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

async function appliedVersions(db: Knex, names: TableNames): Promise<Set<number>> {
  const rows = (await db(names.migrations).select("version")) as { version: number | string }[];
  return new Set(rows.map((row) => Number(row.version)));
}

function refuseNewer(done: Set<number>, names: TableNames): void {
  const newest = Math.max(0, ...done);
  if (newest > SCHEMA_VERSION) {
    throw new StrongboxError(
      "UNSUPPORTED",
      `the schema of table "${names.secrets}" is at version ${newest}, newer than this @strongbox/jdbc knows (${SCHEMA_VERSION}): upgrade @strongbox/jdbc; nothing was changed`,
      { backend: "jdbc", operation: "start" },
    );
  }
}

/** One key check per prefix (stores sharing a table may use different keys). */
function keyCheckName(scope: string): string {
  return `key_check:${createHash("sha256").update(scope).digest("hex").slice(0, 40)}`;
}

const KEY_CHECK_REF = { key: "strongbox-key-check" };
const KEY_CHECK_TEXT = "strongbox key check v1";

/**
 * The key check value: a known text encrypted when the store is created. A wrong key fails here,
 * at start-up, with a clear error, rather than at the first read of a secret.
 */
export async function verifyKey(
  db: Knex,
  names: TableNames,
  cipher: SecretCipher,
  scope: string,
): Promise<void> {
  const name = keyCheckName(scope);
  const row = (await db(names.meta).where({ name }).first("content")) as { content: string } | undefined;
  if (row === undefined) {
    await db(names.meta)
      .insert({ name, content: cipher.encrypt(SecretValue.from(KEY_CHECK_TEXT), KEY_CHECK_REF, scope) })
      .onConflict("name")
      .ignore();
    return;
  }
  let opened: string;
  try {
    opened = cipher.decrypt(row.content, KEY_CHECK_REF, scope).reveal();
  } catch (cause) {
    throw new StrongboxError(
      "DECRYPT_FAILED",
      `none of the configured keys opens table "${names.secrets}" (it was written with key id "${cipher.keyIdOf(row.content) ?? "?"}"; the configured key ids are not it). To change keys, list the new key first and keep the old one, then rotate`,
      { backend: "jdbc", operation: "start", cause },
    );
  }
  if (opened !== KEY_CHECK_TEXT) {
    throw new StrongboxError("DECRYPT_FAILED", "the key check value is not what it should be", {
      backend: "jdbc",
      operation: "start",
    });
  }
}

/** Rewrites the key check value under the current key (after a complete rotation). */
export async function rewriteKeyCheck(
  db: Knex,
  names: TableNames,
  cipher: SecretCipher,
  scope: string,
): Promise<void> {
  await db(names.meta)
    .where({ name: keyCheckName(scope) })
    .update({ content: cipher.encrypt(SecretValue.from(KEY_CHECK_TEXT), KEY_CHECK_REF, scope) });
}
