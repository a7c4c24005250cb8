import { createHash } from "node:crypto";
import { Client, errors, type estypes } from "@elastic/elasticsearch";
import { type SecretRef, StrongboxError, type StrongboxErrorCode } from "@strongbox/core";
import type { ResolvedOptions } from "./options.ts";

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

/** The mapping of the secrets index. */
export const MAPPING: estypes.MappingTypeMapping = {
  dynamic: "strict",
  _meta: { created_by: "strongbox", version: 1 },
  properties: {
    // Lucene refuses terms over 32766 bytes: 8191 characters always fit.
    prefix: { type: "keyword", ignore_above: 8191 },
    tenant: { type: "keyword", ignore_above: 8191 },
    namespace: { type: "keyword", ignore_above: 8191 },
    key: { type: "keyword", ignore_above: 8191 },
    doc_id: { type: "keyword" },
    description: { type: "text", index: false },
    tags: { type: "flattened" },
    envelope: { type: "keyword", index: false, doc_values: false },
    created_at: { type: "date" },
    updated_at: { type: "date" },
  },
};

/** The field types a compatible index must have. */
const REQUIRED_TYPES: Record<string, string> = {
  prefix: "keyword",
  tenant: "keyword",
  namespace: "keyword",
  key: "keyword",
  doc_id: "keyword",
  tags: "flattened",
  envelope: "keyword",
  created_at: "date",
  updated_at: "date",
};

/** What is wrong with an existing index's mapping for Strongbox (empty when it fits). */
export function mappingProblems(mapping: unknown): string[] {
  const properties = ((mapping as { properties?: Record<string, { type?: string; index?: boolean }> })
    ?.properties ?? {}) as Record<string, { type?: string; index?: boolean } | undefined>;
  const problems: string[] = [];
  for (const [field, type] of Object.entries(REQUIRED_TYPES)) {
    const found = properties[field];
    if (found === undefined) problems.push(`field "${field}" is missing`);
    else if ((found.type ?? "object") !== type)
      problems.push(`field "${field}" is "${found.type ?? "object"}", expected "${type}"`);
  }
  if (properties.envelope !== undefined && properties.envelope.index !== false) {
    problems.push('field "envelope" is indexed; it must be mapped with "index": false');
  }
  return problems;
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

/** Builds the client from the options (no network call happens here). */
export function buildClient(options: ResolvedOptions): Client {
  return new Client({
    node: options.node,
    ...(options.auth !== undefined && { auth: options.auth }),
    ...(options.tls !== undefined && { tls: options.tls }),
    maxRetries: options.maxRetries,
    requestTimeout: options.requestTimeout,
  });
}

/** The status and Elasticsearch error type of a client error, if it has them. */
export function responseInfo(error: unknown): { status: number; type: string | undefined } | undefined {
  if (!(error instanceof errors.ResponseError)) return undefined;
  const body = error.meta.body as { error?: { type?: string } } | undefined;
  return { status: error.meta.statusCode ?? 0, type: body?.error?.type };
}

/** True for a 429: the adapter retries it. */
export function isTooManyRequests(error: unknown): boolean {
  return responseInfo(error)?.status === 429;
}

/**
 * Turns a client error into a `StrongboxError`. The client's errors carry the
 * request (with the document and its envelope): the cause is rebuilt from the
 * status, type and reason only, so no ciphertext or credential travels on.
 */
export function toStrongboxError(
  error: unknown,
  operation: string,
  ref: SecretRef | undefined,
  message?: string,
): StrongboxError {
  if (error instanceof StrongboxError) return error;
  const context = { backend: "elasticsearch", operation, ...(ref !== undefined && { ref }) };
  const cause = safeCause(error);
  const info = responseInfo(error);
  let code: StrongboxErrorCode = "BACKEND";
  if (info !== undefined) {
    if (info.status === 401 || info.status === 403) code = "ACCESS_DENIED";
    else if (info.status === 409) code = "CONFLICT";
    else if ([429, 502, 503, 504].includes(info.status)) code = "UNAVAILABLE";
  } else if (
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError
  ) {
    code = "UNAVAILABLE";
  }
  const what =
    message ??
    (code === "UNAVAILABLE"
      ? `Elasticsearch is unavailable (${cause.message})`
      : code === "ACCESS_DENIED"
        ? `access denied by Elasticsearch (${cause.message})`
        : cause.message);
  return new StrongboxError(code, what, { ...context, cause });
}

function safeCause(error: unknown): Error {
  const info = responseInfo(error);
  let message: string;
  if (info !== undefined && error instanceof errors.ResponseError) {
    const body = error.meta.body as { error?: { reason?: string } | string } | undefined;
    const reason = typeof body?.error === "object" ? body.error.reason : body?.error;
    // Parsing errors can quote a preview of a field's value: cut it off.
    const clean = reason?.replace(/Preview of field's value:.*$/s, "").trim();
    message = `${info.status} ${info.type ?? "error"}${clean ? `: ${clean}` : ""}`;
  } else if (error instanceof Error) {
    message = error.message.replace(/\/\/[^/@\s]*@/g, "//***@");
  } else {
    message = String(error);
  }
  const cause = new Error(message);
  cause.name = error instanceof Error ? error.name : "Error";
  return cause;
}
