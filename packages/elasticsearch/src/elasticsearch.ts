import type { Client, estypes } from "@elastic/elasticsearch";
import {
  type Capabilities,
  cleanRef,
  createCipher,
  refId,
  type Secret,
  type SecretBackend,
  type SecretEntry,
  type SecretRef,
  SecretValue,
  StrongboxError,
  validateRef,
} from "@strongbox/core";
import { buildClient, isTooManyRequests, responseInfo, toStrongboxError } from "./client.ts";
import {
  documentId,
  formatVersion,
  isMissing,
  metadataOf,
  pageRequest,
  readDocument,
  refOf,
  type SecretDocument,
  scan,
  scopeQuery,
} from "./documents.ts";
import { ensureIndex } from "./mapping.ts";
import { type ElasticsearchOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { type RotationReport, rotateKeys } from "./rotate.ts";

/** The Elasticsearch backend: a `SecretBackend` that can also rotate its encryption key. */
export interface ElasticsearchBackend extends SecretBackend {
  /**
   * Re-encrypts every secret of this backend's prefix under the current (first) key,
   * so older keys can then be removed from `secret`.
   */
  rotate(): Promise<RotationReport>;
}

const TYPE = "elasticsearch";
/** Attempts of a plain `put` that keeps losing races to other writers before it reports CONFLICT. */
const PUT_ATTEMPTS = 5;
/** Documents per `_mget` call. */
const MGET_BATCH = 500;

/**
 * Elasticsearch as a secret store (`type: elasticsearch`). Values are kept only as
 * AES-256-GCM envelopes bound to their ref and prefix; refs, tags and dates are
 * fields of one document per secret. Writes use optimistic concurrency
 * (`if_seq_no`/`if_primary_term`, `op_type=create`), so no update is lost silently.
 *
 * @example
 * const backend = elasticsearch({
 *   node: "https://es.internal:9200",
 *   auth: { apiKey: process.env.ES_API_KEY! },
 *   secret: process.env.STRONGBOX_SECRET!,
 * });
 * await backend.put({ namespace: "billing", key: "DB_PASSWORD" }, "hunter2");
 * // later, with secret: [newKey, oldKey]:
 * await backend.rotate(); // { rotated, current, changedMeanwhile }
 */
export function elasticsearch(options: ElasticsearchOptions): ElasticsearchBackend {
  return createBackend(resolveOptions(options, TYPE));
}

/** Builds the backend from validated options (shared by the factory and `fromConfig`). */
export function createBackend(options: ResolvedOptions): ElasticsearchBackend {
  const cipher = createCipher({ keys: options.keys, backend: TYPE });
  const { index, prefix } = options;
  const scope = prefix ?? "";
  const ownsClient = options.client === undefined;
  let client: Client | undefined = options.client;
  let ready: Promise<void> | undefined;
  const refresh = options.refresh;

  const capabilities: Capabilities = {
    tags: true,
    tagFilter: "server",
    versions: false,
    binary: true,
    description: true,
    checkAndSet: true,
    ...(refresh === false && { eventualList: true }),
  };

  /** Runs one call to the cluster: index ready first, 429 retried, errors mapped. */
  async function call<T>(
    operation: string,
    ref: SecretRef | undefined,
    run: (es: Client) => Promise<T>,
  ): Promise<T> {
    client ??= buildClient(options);
    const es = client;
    ready ??= ensureIndex(es, index, options.createIndex, operation).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    await ready;
    for (let attempt = 0; ; attempt++) {
      try {
        return await run(es);
      } catch (error) {
        if (isTooManyRequests(error) && attempt < options.maxRetries) {
          await new Promise((resolve) => setTimeout(resolve, options.retryDelay * 2 ** attempt));
          continue;
        }
        if (responseInfo(error)?.type === "index_not_found_exception") ready = undefined;
        throw toStrongboxError(error, operation, ref);
      }
    }
  }

  /** Decrypts a document read for `ref`: its envelope must have been made for this ref and prefix. */
  function secretOf(ref: SecretRef, found: estypes.GetGetResult<SecretDocument>): Secret {
    const source = found._source as SecretDocument;
    return {
      ref: cleanRef(ref),
      value: cipher.decrypt(source.envelope, cleanRef(ref), scope),
      ...metadataOf(source, formatVersion(found._seq_no, found._primary_term)),
    };
  }

  const conflict = (ref: SecretRef, message: string) =>
    new StrongboxError("CONFLICT", message, { backend: TYPE, operation: "put", ref });

  return {
    type: TYPE,
    capabilities,

    async get(ref, getOptions = {}) {
      validateRef(ref);
      if (getOptions.version !== undefined) {
        // The version ("<seq_no>:<primary_term>") serves check-and-set; no older one is kept to read.
        throw new StrongboxError("UNSUPPORTED", "Elasticsearch keeps no history: it cannot read a version", {
          backend: TYPE,
          operation: "get",
          ref: cleanRef(ref),
        });
      }
      const found = await call("get", ref, (es) => readDocument(es, index, documentId(prefix, ref), true));
      return found?._source === undefined ? undefined : secretOf(ref, found);
    },

    async getMany(refs) {
      for (const ref of refs) validateRef(ref);
      const out = new Map<string, Secret>();
      for (let start = 0; start < refs.length; start += MGET_BATCH) {
        const batch = refs.slice(start, start + MGET_BATCH);
        const ids = batch.map((ref) => documentId(prefix, ref));
        const reply = await call("getMany", undefined, (es) => es.mget<SecretDocument>({ index, ids }));
        for (const [i, doc] of reply.docs.entries()) {
          const ref = batch[i] as SecretRef;
          if ("error" in doc) {
            throw new StrongboxError("BACKEND", `Elasticsearch could not read it (${doc.error.type})`, {
              backend: TYPE,
              operation: "getMany",
              ref,
            });
          }
          if (doc.found && doc._source !== undefined) out.set(refId(ref), secretOf(ref, doc));
        }
      }
      return out;
    },

    async *list(query = {}) {
      const request = scopeQuery(prefix, query);
      const pages = scan(
        (after) =>
          call("list", undefined, (es) =>
            es.search<SecretDocument>({ index, ...pageRequest(request, options.pageSize, after, false) }),
          ),
        options.pageSize,
      );
      for await (const hit of pages) {
        if (hit._source === undefined) continue;
        const entry: SecretEntry = {
          ref: refOf(hit._source),
          ...metadataOf(hit._source, formatVersion(hit._seq_no, hit._primary_term)),
        };
        yield entry;
      }
    },

    async rotate() {
      const request = scopeQuery(prefix);
      return rotateKeys({
        cipher,
        scope,
        documents: scan(
          (after) =>
            call("rotate", undefined, (es) =>
              es.search<SecretDocument>({ index, ...pageRequest(request, options.pageSize, after, true) }),
            ),
          options.pageSize,
        ),
        async replace(hit, document) {
          const ref = refOf(document);
          try {
            await call("rotate", ref, (es) =>
              es.index({
                index,
                id: hit._id as string,
                document,
                refresh,
                include_source_on_error: false,
                if_seq_no: hit._seq_no as number,
                if_primary_term: hit._primary_term as number,
              }),
            );
            return true;
          } catch (error) {
            if (error instanceof StrongboxError && error.code === "CONFLICT") return false;
            throw error;
          }
        },
      });
    },

    async put(ref, input, putOptions = {}) {
      validateRef(ref);
      const id = documentId(prefix, ref);
      const expected = putOptions.expectedVersion;
      const onlyIfAbsent = expected === null || expected === "0";
      const value = SecretValue.from(input);
      for (let attempt = 1; ; attempt++) {
        const current = await call("put", ref, (es) => readDocument(es, index, id, false));
        const currentVersion = current && formatVersion(current._seq_no, current._primary_term);
        if (expected !== undefined && (onlyIfAbsent ? current !== undefined : expected !== currentVersion)) {
          throw conflict(ref, `expected version ${expected ?? "none"}, found ${currentVersion ?? "none"}`);
        }
        const now = new Date().toISOString();
        const before = current?._source;
        const tags = { ...options.tags, ...(putOptions.tags ?? before?.tags) };
        const description = putOptions.description ?? before?.description;
        const document: SecretDocument = {
          ...(prefix !== undefined && { prefix }),
          ...cleanRef(ref),
          doc_id: id,
          tags,
          ...(description !== undefined && { description }),
          envelope: cipher.encrypt(value, cleanRef(ref), scope),
          created_at: before?.created_at ?? now,
          updated_at: now,
        };
        const guard =
          current === undefined
            ? { op_type: "create" as const }
            : { if_seq_no: current._seq_no as number, if_primary_term: current._primary_term as number };
        try {
          const written = await call("put", ref, (es) =>
            es.index({ index, id, document, refresh, include_source_on_error: false, ...guard }),
          );
          return metadataOf(document, formatVersion(written._seq_no, written._primary_term));
        } catch (error) {
          // A plain put that lost a race reads again and retries; a check-and-set does not.
          const lostRace = error instanceof StrongboxError && error.code === "CONFLICT";
          if (!lostRace) throw error;
          if (expected !== undefined)
            throw conflict(ref, `another writer changed it first (expected version ${expected ?? "none"})`);
          if (attempt >= PUT_ATTEMPTS)
            throw conflict(ref, `lost ${PUT_ATTEMPTS} races in a row to concurrent writers`);
        }
      }
    },

    async delete(ref) {
      validateRef(ref);
      const id = documentId(prefix, ref);
      return call("delete", ref, async (es) => {
        try {
          return (await es.delete({ index, id, refresh })).result === "deleted";
        } catch (error) {
          if (isMissing(error, (body) => body.result === "not_found")) return false;
          throw error;
        }
      });
    },

    async close() {
      if (ownsClient && client !== undefined) await client.close();
      client = undefined;
      ready = undefined;
    },
  };
}
