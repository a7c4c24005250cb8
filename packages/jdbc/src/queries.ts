import { createHash } from "node:crypto";
import {
  type ListQuery,
  type PutOptions,
  type Secret,
  type SecretCipher,
  type SecretEntry,
  type SecretMetadata,
  type SecretRef,
  type SecretValue,
  StrongboxError,
  type Tags,
} from "@strongbox/core";
import type { Knex } from "knex";
import type { JdbcDialect } from "./options.ts";
import type { PointReader } from "./reader.ts";
import type { TableNames } from "./schema.ts";
import { isRetryable, sqlCode } from "./sql-errors.ts";

/** What the queries need to know about one store. */
export interface Store {
  db: Knex;
  dialect: JdbcDialect;
  names: TableNames;
  prefix: string;
  cipher: SecretCipher;
  defaultTags: Tags;
  read: PointReader;
}

/** A row of the secrets table, as the drivers return it. */
export interface SecretRow {
  id: number | string;
  tenant: string;
  namespace: string;
  ref_key: string;
  description: string | null;
  tags: string;
  version: number | string;
  created_at: number | string;
  updated_at: number | string;
}

const COLUMNS = "s.id, s.tenant, s.namespace, s.ref_key, s.description, s.tags, s.created_at, s.updated_at";

const hashes = new Map<string, string>();

/** The unique key of a ref under a prefix (remembered for the refs read most: hashing costs more than the read). */
export function refHash(prefix: string, ref: SecretRef): string {
  const id = JSON.stringify([prefix, ref.tenant ?? "", ref.namespace ?? "", ref.key]);
  let hash = hashes.get(id);
  if (hash === undefined) {
    hash = createHash("sha256").update(id).digest("hex");
    if (hashes.size >= 10_000) hashes.clear();
    hashes.set(id, hash);
  }
  return hash;
}

/** What binds an envelope beside its ref: the table, the prefix and the version it was written as. */
export function envelopeScope(store: Pick<Store, "names" | "prefix">, version: number): string {
  return JSON.stringify([store.names.secrets, store.prefix, version]);
}

/** `"name"` or `` `name` ``. */
export function quote(dialect: JdbcDialect, identifier: string): string {
  return dialect === "mysql" ? `\`${identifier}\`` : `"${identifier}"`;
}

/**
 * The SQL of `get`: the current version, or the one given as the first binding. The current
 * version's envelope comes from a correlated subquery on the versions' primary key, which SQLite
 * runs in a fifth of the time of the equivalent join.
 */
export function getSql(store: Pick<Store, "names" | "dialect">, withVersion: boolean): string {
  const q = (name: string) => quote(store.dialect, name);
  if (withVersion) {
    return `SELECT ${COLUMNS}, v.version, v.envelope FROM ${q(store.names.secrets)} s JOIN ${q(store.names.versions)} v ON v.secret_id = s.id AND v.version = ? WHERE s.ref_hash = ?`;
  }
  return `SELECT ${COLUMNS}, s.version, (SELECT v.envelope FROM ${q(store.names.versions)} v WHERE v.secret_id = s.id AND v.version = s.version) AS envelope FROM ${q(store.names.secrets)} s WHERE s.ref_hash = ?`;
}

/** A ref from a row's columns ('' is absent). */
export function refOf(row: Pick<SecretRow, "tenant" | "namespace" | "ref_key">): SecretRef {
  const ref: SecretRef = { key: row.ref_key };
  if (row.tenant !== "") ref.tenant = row.tenant;
  if (row.namespace !== "") ref.namespace = row.namespace;
  return ref;
}

/** A row's metadata as `list` returns it. */
export function entryOf(row: SecretRow): SecretEntry {
  const entry: SecretEntry = {
    ref: refOf(row),
    tags: JSON.parse(row.tags) as Tags,
    version: String(row.version),
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
  if (row.description !== null) entry.description = row.description;
  return entry;
}

/** Decrypts a row read by {@link getSql}. */
export function secretOf(store: Store, row: SecretRow & { envelope: string | null }): Secret {
  const entry = entryOf(row);
  if (row.envelope === null) {
    throw new StrongboxError(
      "BACKEND",
      `the secret's row names version ${String(row.version)}, which is missing`,
      {
        backend: "jdbc",
        operation: "get",
        ref: entry.ref,
      },
    );
  }
  const value = store.cipher.decrypt(row.envelope, entry.ref, envelopeScope(store, Number(row.version)));
  return { ...entry, value };
}

/**
 * Writes a new version in one transaction. The first statement is the UPDATE that bumps the
 * version, so it takes the row's write lock (or SQLite's database lock) before anything is read:
 * concurrent writers queue instead of reading a stale version. A lost insert race or a deadlock
 * retries the whole transaction; a failed check-and-set is a CONFLICT.
 */
export async function writeSecret(
  store: Store,
  ref: SecretRef,
  value: SecretValue,
  options: PutOptions,
): Promise<SecretMetadata> {
  const expected = options.expectedVersion === "0" ? null : options.expectedVersion;
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.db.transaction((trx) => writeOnce(store, trx, ref, value, options, expected));
    } catch (error) {
      const insertRace = expected === undefined && isUniqueViolation(error);
      if ((insertRace || isRetryable(error)) && attempt < 8) {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
        continue;
      }
      if (expected === null && isUniqueViolation(error)) {
        throw new StrongboxError("CONFLICT", "expected no secret, found one", {
          backend: "jdbc",
          operation: "put",
          ref,
        });
      }
      throw error;
    }
  }
}

async function writeOnce(
  store: Store,
  trx: Knex.Transaction,
  ref: SecretRef,
  value: SecretValue,
  options: PutOptions,
  expected: string | null | undefined,
): Promise<SecretMetadata> {
  const { names } = store;
  const hash = refHash(store.prefix, ref);
  const now = Date.now();
  const tags = options.tags === undefined ? undefined : { ...store.defaultTags, ...options.tags };
  let updated = 0;
  if (expected !== null) {
    const changes: Record<string, unknown> = { version: trx.raw("version + 1"), updated_at: now };
    if (tags !== undefined) changes.tags = JSON.stringify(tags);
    if (options.description !== undefined) changes.description = options.description;
    const query = trx(names.secrets).where({ ref_hash: hash });
    if (expected !== undefined) query.andWhere({ version: Number(expected) });
    updated = Number(await query.update(changes));
  }
  if (updated === 0) {
    if (expected !== undefined && expected !== null) {
      const current = (await trx(names.secrets).where({ ref_hash: hash }).first("version")) as
        | { version: number }
        | undefined;
      throw new StrongboxError(
        "CONFLICT",
        `expected version ${expected}, found ${current === undefined ? "none" : String(current.version)}`,
        {
          backend: "jdbc",
          operation: "put",
          ref,
        },
      );
    }
    await trx(names.secrets).insert({
      ref_hash: hash,
      prefix: store.prefix,
      tenant: ref.tenant ?? "",
      namespace: ref.namespace ?? "",
      ref_key: ref.key,
      description: options.description ?? null,
      tags: JSON.stringify(tags ?? store.defaultTags),
      version: 1,
      created_at: now,
      updated_at: now,
    });
  }
  const row = (await trx(names.secrets).where({ ref_hash: hash }).first()) as SecretRow;
  const version = Number(row.version);
  const id = row.id;
  await trx(names.versions).insert({
    secret_id: id,
    version,
    key_id: store.cipher.currentKeyId,
    envelope: store.cipher.encrypt(value, ref, envelopeScope(store, version)),
    created_at: now,
  });
  const newTags = updated === 0 ? (tags ?? store.defaultTags) : tags;
  if (newTags !== undefined) {
    if (updated > 0) await trx(names.tags).where({ secret_id: id }).delete();
    const rows = Object.entries(newTags).map(([tag_name, tag_value]) => ({
      secret_id: id,
      tag_name,
      tag_value,
    }));
    if (rows.length > 0) await trx(names.tags).insert(rows);
  }
  return entryOf(row);
}

function isUniqueViolation(error: unknown): boolean {
  const code = sqlCode(error);
  return (
    code === "23505" ||
    code === "ER_DUP_ENTRY" ||
    code === "SQLITE_CONSTRAINT_UNIQUE" ||
    code === "SQLITE_CONSTRAINT_PRIMARYKEY"
  );
}

/** Deletes a secret with its versions and tags; false when there was none. */
export async function deleteSecret(store: Store, ref: SecretRef): Promise<boolean> {
  const { names } = store;
  const hash = refHash(store.prefix, ref);
  return store.db.transaction(async (trx) => {
    const row = (await trx(names.secrets).where({ ref_hash: hash }).first("id")) as
      | { id: number }
      | undefined;
    if (row === undefined) return false;
    // Deleting the secret's row first takes its lock, so a concurrent writer waits and then starts afresh.
    const deleted = Number(await trx(names.secrets).where({ id: row.id }).delete());
    if (deleted === 0) return false;
    await trx(names.versions).where({ secret_id: row.id }).delete();
    await trx(names.tags).where({ secret_id: row.id }).delete();
    return true;
  });
}

/**
 * One page of `list`, in id order after `afterId` (keyset pagination: stable while others write).
 * With a tag filter the page is read from the tags index, first tag first (its range is ordered
 * by secret id), and each further tag is one indexed EXISTS: the filter runs in SQL and touches
 * the rows of one tag, not the whole table.
 */
export async function listPage(
  store: Store,
  query: ListQuery,
  afterId: number,
  limit: number,
): Promise<SecretRow[]> {
  const { db, names } = store;
  const [first, ...rest] = Object.entries(query.tags ?? {});
  const select =
    first === undefined
      ? db(`${names.secrets} as s`).where("s.id", ">", afterId).orderBy("s.id")
      : db(`${names.tags} as t0`)
          .join(`${names.secrets} as s`, "s.id", "t0.secret_id")
          .where({ "t0.tag_name": first[0], "t0.tag_value": first[1] })
          .andWhere("t0.secret_id", ">", afterId)
          .orderBy("t0.secret_id");
  select
    .select(
      "s.id",
      "s.tenant",
      "s.namespace",
      "s.ref_key",
      "s.description",
      "s.tags",
      "s.version",
      "s.created_at",
      "s.updated_at",
    )
    .andWhere("s.prefix", store.prefix);
  if (query.tenant !== undefined) select.andWhere("s.tenant", query.tenant ?? "");
  if (query.namespace !== undefined) select.andWhere("s.namespace", query.namespace ?? "");
  for (const [index, [name, value]] of rest.entries()) {
    const alias = `t${index + 1}`;
    select.whereExists(
      db(`${names.tags} as ${alias}`)
        .select(db.raw("1"))
        .whereRaw(`${alias}.secret_id = s.id`)
        .andWhere({ [`${alias}.tag_name`]: name, [`${alias}.tag_value`]: value }),
    );
  }
  return (await select.limit(limit)) as SecretRow[];
}
