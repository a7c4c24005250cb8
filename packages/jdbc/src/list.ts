import { type ListQuery, refId, type Secret, type SecretRef } from "@strongbox/core";
import { refHash, SECRET_COLUMNS, type SecretRow, type Store, secretOf } from "./queries.ts";

/**
 * One page of `list`, in id order after `afterId` (keyset pagination: stable while others write).
 * Tag filters run in SQL. Without a namespace, the page is read from the tags index, first tag
 * first (its range is ordered by secret id), so it touches the rows of one tag, never the whole
 * table; with a namespace (usually the narrower filter), from the namespace index. Every other
 * tag is one indexed EXISTS per row.
 */
export async function listPage(
  store: Store,
  query: ListQuery,
  afterId: number,
  limit: number,
): Promise<SecretRow[]> {
  const { db, names } = store;
  const tags = Object.entries(query.tags ?? {});
  const drive = query.namespace === undefined ? tags[0] : undefined;
  const select =
    drive === undefined
      ? db(`${names.secrets} as s`).where("s.id", ">", afterId).orderBy("s.id")
      : db(`${names.tags} as t0`)
          .join(`${names.secrets} as s`, "s.id", "t0.secret_id")
          .where({ "t0.tag_name": drive[0], "t0.tag_value": drive[1] })
          .andWhere("t0.secret_id", ">", afterId)
          .orderBy("t0.secret_id");
  select.select(...SECRET_COLUMNS, "s.version").andWhere("s.prefix", store.prefix);
  if (query.tenant !== undefined) select.andWhere("s.tenant", query.tenant ?? "");
  if (query.namespace !== undefined) select.andWhere("s.namespace", query.namespace ?? "");
  for (const [index, [name, value]] of tags.entries()) {
    if (drive !== undefined && index === 0) continue;
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

/** Reads many secrets in one query per 500 refs; missing ones are absent from the map (keyed by `refId`). */
export async function readMany(store: Store, refs: readonly SecretRef[]): Promise<Map<string, Secret>> {
  const { db, names } = store;
  const hashes = [...new Set(refs.map((ref) => refHash(store.prefix, ref)))];
  const found = new Map<string, Secret>();
  for (let start = 0; start < hashes.length; start += 500) {
    const envelope = db(`${names.versions} as v`)
      .select("v.envelope")
      .whereRaw("v.secret_id = s.id AND v.version = s.version")
      .as("envelope");
    const rows = (await db(`${names.secrets} as s`)
      .select(...SECRET_COLUMNS, "s.version", envelope)
      .whereIn("s.ref_hash", hashes.slice(start, start + 500))) as (SecretRow & {
      envelope: string | null;
    })[];
    for (const row of rows) {
      const secret = secretOf(store, row);
      found.set(refId(secret.ref), secret);
    }
  }
  return found;
}
