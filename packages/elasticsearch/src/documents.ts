import { createHash } from "node:crypto";
import type { Client, estypes } from "@elastic/elasticsearch";
import type { SecretMetadata, SecretRef } from "@strongbox/core";
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
