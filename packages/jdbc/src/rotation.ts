import { StrongboxError } from "@strongbox/core";
import { envelopeScope, refOf, type SecretRow, type Store } from "./queries.ts";

/** Options of `rotate()`. */
export interface RotateOptions {
  /** Rows re-encrypted per transaction. @default the store's `rotationBatchSize` (500) */
  batchSize?: number;
  /** Called after each committed batch (a progress bar; throwing stops the rotation, which can resume later). */
  onBatch?: (progress: RotationProgress) => void | Promise<void>;
}

/** Where a rotation stands. */
export interface RotationProgress {
  /** Versions re-encrypted by this call so far. */
  rotated: number;
  /** Versions still under an older key when the rotation started. */
  total: number;
}

/** What a finished rotation did. */
export interface RotationResult {
  /** Versions re-encrypted by this call. */
  rotated: number;
  /** Id of the key everything is now encrypted with. */
  keyId: string;
}

interface RotationRow extends Pick<SecretRow, "tenant" | "namespace" | "ref_key"> {
  secret_id: number | string;
  version: number | string;
  envelope: string;
}

/**
 * Re-encrypts every version of this store's secrets that an older key wrote, under the current key,
 * in batches of one transaction each. Each row is swapped only if it still holds the envelope that
 * was read, and every configured key decrypts, so the store stays readable throughout; after a
 * crash, calling it again resumes with the rows still under an older key.
 */
export async function rotateAll(
  store: Store,
  batchSize: number,
  onBatch?: RotateOptions["onBatch"],
): Promise<RotationResult> {
  const { db, names, cipher } = store;
  const current = cipher.currentKeyId;
  const pending = () =>
    db(`${names.versions} as v`)
      .join(`${names.secrets} as s`, "s.id", "v.secret_id")
      .where("s.prefix", store.prefix)
      .andWhere("v.key_id", "<>", current);
  const counted = (await pending().count({ n: "*" })) as { n: number | string }[];
  const total = Number(counted[0]?.n ?? 0);
  let rotated = 0;
  let after = { id: 0, version: 0 };
  for (;;) {
    const rows = (await pending()
      .where((w) =>
        w
          .where("v.secret_id", ">", after.id)
          .orWhere((x) => x.where("v.secret_id", after.id).andWhere("v.version", ">", after.version)),
      )
      .orderBy([{ column: "v.secret_id" }, { column: "v.version" }])
      .limit(batchSize)
      .select(
        "v.secret_id",
        "v.version",
        "v.envelope",
        "s.tenant",
        "s.namespace",
        "s.ref_key",
      )) as RotationRow[];
    if (rows.length === 0) break;
    await db.transaction(async (trx) => {
      for (const row of rows) {
        const ref = refOf(row);
        const scope = envelopeScope(store, Number(row.version));
        const value = cipher.decrypt(row.envelope, ref, scope);
        await trx(names.versions)
          .where({ secret_id: row.secret_id, version: row.version, envelope: row.envelope })
          .update({ envelope: cipher.encrypt(value, ref, scope), key_id: current });
      }
    });
    rotated += rows.length;
    const last = rows[rows.length - 1] as RotationRow;
    after = { id: Number(last.secret_id), version: Number(last.version) };
    await onBatch?.({ rotated, total });
  }
  const left = (await pending().count({ n: "*" })) as { n: number | string }[];
  if (Number(left[0]?.n ?? 0) > 0) {
    throw new StrongboxError(
      "CONFLICT",
      "some versions were written under an older key during the rotation: run it again",
      {
        backend: "jdbc",
        operation: "rotate",
      },
    );
  }
  return { rotated, keyId: current };
}
