import {
  cleanRef,
  type GetOptions,
  type ListQuery,
  matchesScope,
  matchesTags,
  type Secret,
  type SecretEntry,
  type SecretRef,
  StrongboxError,
} from "@strongbox/core";
import { Code, codeOf, fail, toError } from "./client.ts";
import {
  crc32c,
  entryOf,
  listFilter,
  readMetadata,
  toBytes,
  toDate,
  toValue,
  versionOf,
} from "./metadata.ts";
import { TYPE } from "./options.ts";
import type { Store } from "./store.ts";

const VERSION = /^(?:\d+|latest|[A-Za-z0-9_-]{1,63})$/;
const PAGE_SIZE = 500;

/**
 * `AccessSecretVersion` (the value; all `secretmanager.secretAccessor` grants), and with
 * `readMetadata`, `GetSecret` at the same time (tags, description, creation time).
 */
export async function readSecret(
  store: Store,
  ref: SecretRef,
  options: GetOptions = {},
): Promise<Secret | undefined> {
  const name = await store.secretName(ref, "get");
  const where = { operation: "get", ref };
  const version = options.version ?? "latest";
  if (!VERSION.test(version))
    throw new StrongboxError("INVALID_NAME", "a version is a number, `latest` or an alias", {
      backend: TYPE,
      ...where,
    });
  const [accessed, metadata] = await Promise.allSettled([
    store.call((o) => store.sdk().accessSecretVersion({ name: `${name}/versions/${version}` }, o), where),
    store.readMetadata
      ? store.call((o) => store.sdk().getSecret({ name }, o), where)
      : Promise.resolve(undefined),
  ]);
  for (const outcome of [accessed, metadata]) {
    if (outcome.status === "rejected" && codeOf(outcome.reason) !== Code.NOT_FOUND)
      throw toError(outcome.reason, where, hintFor(codeOf(outcome.reason), outcome === metadata));
  }
  // NOT_FOUND from either call (the secret, or its version, is not there): absent.
  if (accessed.status === "rejected" || metadata.status === "rejected") return undefined;
  const [response] = accessed.value;
  const data = toBytes(response.payload?.data ?? new Uint8Array());
  const expected = response.payload?.dataCrc32c;
  if (expected !== undefined && expected !== null && Number(expected) !== crc32c(data))
    throw new StrongboxError("BACKEND", "the payload failed its CRC32C check", { backend: TYPE, ...where });
  const secret = metadata.value?.[0];
  const createdAt = toDate(secret?.createTime);
  return {
    ref: cleanRef(ref),
    value: toValue(data),
    ...(secret === undefined ? { tags: {} } : readMetadata(secret)),
    version: versionOf(response.name),
    ...(createdAt && { createdAt }),
  };
}

function hintFor(code: number | undefined, metadataCall: boolean): string | undefined {
  if (code === Code.PERMISSION_DENIED && metadataCall)
    return "reading tags needs secretmanager.secrets.get; set readMetadata: false to read with secretAccessor alone";
  if (code === Code.FAILED_PRECONDITION) return "the version is disabled or destroyed";
  return undefined;
}

/**
 * `ListSecrets`, page by page, filtered on the server by name prefix and by the tags that
 * are labels; the tenant, namespace and the other tags are checked here.
 */
export async function* listSecrets(store: Store, query: ListQuery = {}): AsyncGenerator<SecretEntry> {
  const where = { operation: "list" };
  const request = {
    parent: await store.parent(where),
    filter: listFilter(query.tags, store.codec.listPrefix(query)),
    pageSize: PAGE_SIZE,
    pageToken: "",
  };
  for (;;) {
    const [secrets, , response] = await store
      .call((o) => store.sdk().listSecrets(request, { ...o, autoPaginate: false }), where)
      .catch(fail(where));
    for (const secret of secrets) {
      const entry = entryOf(secret, store.codec);
      if (entry && matchesScope(entry.ref, query) && matchesTags(entry.tags, query.tags)) yield entry;
    }
    if (!response?.nextPageToken) return;
    request.pageToken = response.nextPageToken;
  }
}
