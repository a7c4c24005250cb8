import type { ListQuery, SecretRef, Tags } from "./types.ts";

/** A string that is equal for equal refs and different for different ones (a map key). */
export function refId(ref: SecretRef): string {
  return JSON.stringify([ref.tenant ?? null, ref.namespace ?? null, ref.key]);
}

/** A copy of a ref with only its defined parts. */
export function cleanRef(ref: SecretRef): SecretRef {
  const out: SecretRef = { key: ref.key };
  if (ref.tenant !== undefined) out.tenant = ref.tenant;
  if (ref.namespace !== undefined) out.namespace = ref.namespace;
  return out;
}

/** True when every tag of `filter` is on `tags` with the same value. */
export function matchesTags(tags: Tags, filter: Tags | undefined): boolean {
  if (filter === undefined) return true;
  return Object.entries(filter).every(([name, value]) => tags[name] === value);
}

/** True when the ref falls within the query's tenant and namespace. */
export function matchesScope(ref: SecretRef, query: ListQuery | undefined): boolean {
  if (query === undefined) return true;
  if (query.tenant !== undefined && (ref.tenant ?? null) !== query.tenant) return false;
  if (query.namespace !== undefined && (ref.namespace ?? null) !== query.namespace) return false;
  return true;
}
