import { createHash } from "node:crypto";
import {
  type Secret,
  type SecretCipher,
  type SecretEntry,
  type SecretRef,
  StrongboxError,
  type Tags,
} from "@strongbox/core";
import type { Knex } from "knex";
import type { JdbcDialect } from "./options.ts";
import type { PointReader } from "./reader.ts";
import type { TableNames } from "./schema.ts";

/** What the queries need to know about one store. */
export interface Store {
  db: Knex;
  dialect: JdbcDialect;
  names: TableNames;
  prefix: string;
  /** {@link scopeHead} of the table and the prefix. */
  scopeHead: string;
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

/** The columns of a secret's row that every read maps (`entryOf`); `version` and `envelope` come per query. */
export const SECRET_COLUMNS: readonly string[] = [
  "s.id",
  "s.tenant",
  "s.namespace",
  "s.ref_key",
  "s.description",
  "s.tags",
  "s.created_at",
  "s.updated_at",
];
const COLUMNS = SECRET_COLUMNS.join(", ");

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

/** The start every envelope scope of a store shares: `JSON.stringify([table, prefix])` without its `]`. */
export function scopeHead(table: string, prefix: string): string {
  return JSON.stringify([table, prefix]).slice(0, -1);
}

/**
 * What binds an envelope beside its ref: the table, the prefix and the version it was written as,
 * `JSON.stringify([table, prefix, version])`, from the store's {@link scopeHead} (every read needs one).
 */
export function envelopeScope(store: Pick<Store, "scopeHead">, version: number): string {
  return `${store.scopeHead},${version}]`;
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
