import { createHash } from "node:crypto";
import type { Client, estypes } from "@elastic/elasticsearch";
import type { ListQuery, SecretMetadata, SecretRef } from "@strongbox/core";
import { responseInfo } from "./client.ts";

/** The `_source` of a secret's document. */
export interface SecretDocument {
  prefix?: string;
  tenant?: string;
  namespace?: string;
  key: string;
  /** The document id again, as a keyword: the sort key of `list`. */
  doc_id: string;
  description?: string;
  tags: Record<string, string>;
  /** The AES-256-GCM envelope of the value (never indexed). */
  envelope: string;
  created_at: string;
  updated_at: string;
}

const MAX_ID_BYTES = 512;
const HASH_MARK = "#";

/**
 * The document id of a ref under a prefix: each part percent-encoded (so `/` never
 * appears inside one), absent parts empty, joined by `/`. Injective. Past 512 bytes
 * the id keeps a readable head and ends with `#` + SHA-256 of the full id; `#` is
 * always encoded inside parts, so hashed ids never meet plain ones.
 */
export function documentId(prefix: string | undefined, ref: SecretRef): string {
  const part = (text: string | undefined) => (text === undefined ? "" : encodeURIComponent(text));
  const full = [part(prefix), part(ref.tenant), part(ref.namespace), part(ref.key)].join("/");
  if (full.length <= MAX_ID_BYTES) return full;
  const hash = createHash("sha256").update(full, "utf8").digest("hex");
  return `${full.slice(0, MAX_ID_BYTES - hash.length - HASH_MARK.length)}${HASH_MARK}${hash}`;
}

/** A version as the adapter reports it: `"<seq_no>:<primary_term>"`. */
export function formatVersion(
  seqNo: number | undefined,
  primaryTerm: number | undefined,
): string | undefined {
  return seqNo === undefined || primaryTerm === undefined ? undefined : `${seqNo}:${primaryTerm}`;
}

/** The document of an id (without its envelope unless asked); `undefined` when there is none. */
export async function readDocument(
  es: Client,
  index: string,
  id: string,
  withEnvelope: boolean,
): Promise<estypes.GetGetResult<SecretDocument> | undefined> {
  try {
    return await es.get<SecretDocument>({
      index,
      id,
      ...(withEnvelope ? {} : { _source_excludes: ["envelope"] }),
    });
  } catch (error) {
    // Only a 404 that says `found: false` is a missing document; a missing index is an error.
    if (isMissing(error, (body) => body.found === false)) return undefined;
    throw error;
  }
}

/** True for a 404 whose body passes `test` (a missing document, not a missing index). */
export function isMissing(error: unknown, test: (body: Record<string, unknown>) => boolean): boolean {
  if (responseInfo(error)?.status !== 404) return false;
  const body = (error as { meta: { body?: unknown } }).meta.body;
  return typeof body === "object" && body !== null && test(body as Record<string, unknown>);
}

/** The metadata of a document's source. */
export function metadataOf(source: Partial<SecretDocument>, version: string | undefined): SecretMetadata {
  return {
    tags: { ...source.tags },
    ...(source.description !== undefined && { description: source.description }),
    ...(version !== undefined && { version }),
    ...(source.created_at !== undefined && { createdAt: new Date(source.created_at) }),
    ...(source.updated_at !== undefined && { updatedAt: new Date(source.updated_at) }),
  };
}

/** The query of the documents of one prefix, narrowed by a list query (tags filtered in the query). */
export function scopeQuery(
  prefix: string | undefined,
  query: ListQuery = {},
): estypes.QueryDslQueryContainer {
  const filter: estypes.QueryDslQueryContainer[] = [];
  const mustNot: estypes.QueryDslQueryContainer[] = [];
  const exact = (field: string, value: string | null | undefined) => {
    if (value === null) mustNot.push({ exists: { field } });
    else if (value !== undefined) filter.push({ term: { [field]: value } });
  };
  exact("prefix", prefix ?? null);
  exact("tenant", query.tenant);
  exact("namespace", query.namespace);
  for (const [name, value] of Object.entries(query.tags ?? {}))
    filter.push({ term: { [`tags.${name}`]: value } });
  return { bool: { filter, must_not: mustNot } };
}

/** The exact ref a document holds in its fields. */
export function refOf(source: SecretDocument): SecretRef {
  const ref: SecretRef = { key: source.key };
  if (source.tenant !== undefined) ref.tenant = source.tenant;
  if (source.namespace !== undefined) ref.namespace = source.namespace;
  return ref;
}

/** The body of one page of a scan sorted on the unique `doc_id` (stable `search_after` paging). */
export function pageRequest(
  query: estypes.QueryDslQueryContainer,
  size: number,
  after: estypes.SortResults | undefined,
  withEnvelope: boolean,
): estypes.SearchRequest {
  return {
    query,
    sort: [{ doc_id: "asc" }],
    size,
    ...(withEnvelope ? {} : { _source: { excludes: ["envelope"] } }),
    seq_no_primary_term: true,
    track_total_hits: false,
    ...(after !== undefined && { search_after: after }),
  };
}

/** Every hit of a scan, page after page, until a short page. */
export async function* scan(
  page: (after: estypes.SortResults | undefined) => Promise<estypes.SearchResponse<SecretDocument>>,
  size: number,
): AsyncGenerator<estypes.SearchHit<SecretDocument>> {
  let after: estypes.SortResults | undefined;
  for (;;) {
    const { hits } = (await page(after)).hits;
    yield* hits;
    const last = hits.at(-1);
    if (hits.length < size || last?.sort === undefined) return;
    after = last.sort;
  }
}
