import {
  type PutOptions,
  type SecretMetadata,
  type SecretRef,
  type SecretValue,
  StrongboxError,
} from "@strongbox/core";
import type { Knex } from "knex";
import { entryOf, envelopeScope, refHash, type SecretRow, type Store } from "./queries.ts";
import { isRetryable, sqlCode } from "./sql-errors.ts";

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
  for (const [name, tag] of Object.entries(options.tags ?? {})) {
    // The tags table's columns: a longer tag would fail in the database with a less useful message.
    if (name.length === 0 || name.length > 128 || tag.length > 512) {
      throw new StrongboxError(
        "INVALID_OPTIONS",
        "a tag name is 1 to 128 characters and a tag value at most 512",
        {
          backend: "jdbc",
          operation: "put",
          ref,
        },
      );
    }
  }
  const expected = options.expectedVersion === "0" ? null : options.expectedVersion;
  if (typeof expected === "string" && !/^[1-9]\d{0,9}$/.test(expected)) {
    throw new StrongboxError("CONFLICT", `expected version "${expected}", which this store never issues`, {
      backend: "jdbc",
      operation: "put",
      ref,
    });
  }
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
