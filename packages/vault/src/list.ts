import type { ListQuery, NameCodec, SecretEntry } from "@strongbox/core";
import { isRecord, type VaultHttp } from "./client.ts";
import type { Runner } from "./errors.ts";
import { dateOf, type KvPaths, readCustomMetadata, readKv1Meta, refOf } from "./kv.ts";

const LIST_BATCH = 8;

/** What listing needs from the backend. */
export interface ListContext {
  http: VaultHttp;
  codec: NameCodec;
  version: 1 | 2;
  paths: KvPaths;
  run: Runner;
}

/**
 * Walks the folders under the query's literal prefix with `GET ?list=true`, then
 * reads each secret's metadata (KV v2) or data (KV v1), a few at a time, for its
 * exact ref and tags. Soft-deleted secrets and foreign names are left out; the
 * tenant, namespace and tag filters run in the caller.
 */
export async function* listEntries(context: ListContext, query?: ListQuery): AsyncIterable<SecretEntry> {
  const start = context.codec.listPrefix(query);
  let batch: string[] = [];
  const flush = async function* (): AsyncIterable<SecretEntry> {
    const entries = await Promise.all(batch.map((name) => entryOf(context, name)));
    batch = [];
    for (const entry of entries) if (entry !== undefined) yield entry;
  };
  for await (const name of names(context, start.slice(0, start.lastIndexOf("/") + 1))) {
    if (!name.startsWith(start)) continue;
    batch.push(name);
    if (batch.length >= LIST_BATCH) yield* flush();
  }
  yield* flush();
}

async function* names(context: ListContext, folder: string): AsyncIterable<string> {
  const { http, paths, run } = context;
  const reply = await run("list", undefined, () => http.list(paths.list(folder)));
  const keys = isRecord(reply.body?.data) && Array.isArray(reply.body.data.keys) ? reply.body.data.keys : [];
  for (const key of keys) {
    if (typeof key !== "string") continue;
    if (key.endsWith("/")) yield* names(context, folder + key);
    else yield folder + key;
  }
}

async function entryOf(context: ListContext, name: string): Promise<SecretEntry | undefined> {
  const { http, paths, run, version } = context;
  const reply = await run("list", undefined, () =>
    http.read(version === 2 ? paths.metadata(name) : paths.data(name)),
  );
  const data = isRecord(reply.body?.data) ? reply.body.data : undefined;
  if (reply.status === 404 || data === undefined) return undefined; // deleted meanwhile
  const meta = version === 2 ? readCustomMetadata(data.custom_metadata) : readKv1Meta(data);
  const ref = refOf(context.codec, name, meta.ref);
  if (ref === undefined) return undefined; // not one of this codec's names
  const described = meta.description === undefined ? {} : { description: meta.description };
  if (version === 1) return { ref, tags: meta.tags, ...described };
  const current = String(data.current_version ?? "");
  const state = isRecord(data.versions) ? data.versions[current] : undefined;
  if (!isRecord(state) || state.destroyed === true || (state.deletion_time ?? "") !== "") return undefined;
  return {
    ref,
    tags: meta.tags,
    ...described,
    version: current,
    ...dateOf("createdAt", data.created_time),
    ...dateOf("updatedAt", data.updated_time),
  };
}
