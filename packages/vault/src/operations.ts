import {
  cleanRef,
  type GetOptions,
  isStrongboxError,
  type ListQuery,
  type NameCodec,
  type PutOptions,
  type Secret,
  type SecretEntry,
  type SecretInput,
  type SecretMetadata,
  type SecretRef,
  StrongboxError,
  validateRef,
} from "@strongbox/core";
import type { VaultSession } from "./auth.ts";
import { isRecord, type VaultHttp, type VaultReply } from "./client.ts";
import { runner } from "./errors.ts";
import {
  checkTags,
  dateOf,
  decodeValue,
  encodeValue,
  kv1Data,
  kvPaths,
  nextCustomMetadata,
  readCustomMetadata,
  readKv1Meta,
  type StoredMeta,
} from "./kv.ts";
import { listEntries } from "./list.ts";

const TYPE = "vault";

/** What {@link vaultOperations} needs. */
export interface OperationsSettings {
  http: VaultHttp;
  session: VaultSession;
  codec: NameCodec;
  version: 1 | 2;
  mount: string;
  field: string;
  softDelete: boolean;
}

/** The backend's operations once the client exists. */
export interface Operations {
  get(ref: SecretRef, options?: GetOptions): Promise<Secret | undefined>;
  put(ref: SecretRef, value: SecretInput, options?: PutOptions): Promise<SecretMetadata>;
  delete(ref: SecretRef): Promise<boolean>;
  list(query?: ListQuery): AsyncIterable<SecretEntry>;
}

/** KV v1/v2 mapped onto the backend contract. */
export function vaultOperations(settings: OperationsSettings): Operations {
  const { http, session, codec, version, field } = settings;
  const paths = kvPaths(settings.mount, version);
  const fail = (code: StrongboxError["code"], message: string, operation: string, ref?: SecretRef) =>
    new StrongboxError(code, message, { backend: TYPE, operation, ...(ref && { ref: cleanRef(ref) }) });

  const run = runner(session);

  function nameOf(ref: SecretRef): string {
    validateRef(ref);
    const name = codec.encode(ref);
    if (name.split("/").some((segment) => segment === "" || segment === "." || segment === "..")) {
      throw new StrongboxError("INVALID_NAME", `"${name}" has an empty, "." or ".." path segment`, {
        backend: TYPE,
        ref: cleanRef(ref),
      });
    }
    return name;
  }

  async function get(ref: SecretRef, options: GetOptions = {}): Promise<Secret | undefined> {
    const name = nameOf(ref);
    if (options.version !== undefined && version === 1)
      throw fail("UNSUPPORTED", "KV version 1 keeps no versions", "get", ref);
    if (options.version !== undefined && !/^[1-9]\d*$/.test(options.version)) return undefined;
    const query = options.version === undefined ? "" : `?version=${options.version}`;
    const reply = await run("get", ref, () => http.read(paths.data(name) + query));
    const body = isRecord(reply.body?.data) ? reply.body.data : undefined;
    if (reply.status === 404 || body === undefined) return undefined;
    if (version === 1) return secretOf(ref, body, readKv1Meta(body));
    const metadata = isRecord(body.metadata) ? body.metadata : {};
    if (!isRecord(body.data)) return undefined; // a deleted or destroyed version
    return secretOf(ref, body.data, readCustomMetadata(metadata.custom_metadata), metadata);
  }

  function secretOf(
    ref: SecretRef,
    data: Record<string, unknown>,
    meta: StoredMeta,
    metadata?: Record<string, unknown>,
  ): Secret {
    return {
      ref: cleanRef(ref),
      value: decodeValue(data, field),
      tags: meta.tags,
      ...(meta.description !== undefined && { description: meta.description }),
      ...(metadata?.version !== undefined && { version: String(metadata.version) }),
      ...dateOf("updatedAt", metadata?.created_time),
    };
  }

  async function put(ref: SecretRef, value: SecretInput, options: PutOptions = {}): Promise<SecretMetadata> {
    const name = nameOf(ref);
    checkTags(options.tags);
    if (version === 1) return putV1(ref, name, value, options);
    nextCustomMetadata({}, ref, options.tags, options.description); // rejects too many entries before writing
    const expected = options.expectedVersion;
    const cas =
      expected === undefined
        ? undefined
        : expected === null
          ? 0
          : /^\d+$/.test(expected)
            ? Number(expected)
            : -1;
    if (cas === -1)
      throw fail("CONFLICT", `expected version ${String(expected)} cannot exist in KV v2`, "put", ref);
    const data = encodeValue(value, field);
    // One run per call: a re-login retries that call alone, never a write that already landed.
    const write = (at: number | undefined): Promise<VaultReply> =>
      run("put", ref, () =>
        http.write(paths.data(name), { data, ...(at !== undefined && { options: { cas: at } }) }),
      );
    let reply: VaultReply;
    try {
      reply = await write(cas);
    } catch (error) {
      // "Only if absent" also holds when every version left is deleted: CAS then needs the current number.
      if (cas !== 0 || !isStrongboxError(error, "CONFLICT")) throw error;
      const current = await run("put", ref, () => currentVersion(name));
      if (current === undefined || current.live) throw error;
      reply = await write(current.number);
    }
    const written = isRecord(reply.body?.data) ? reply.body.data : {};
    const custom = nextCustomMetadata(written.custom_metadata, ref, options.tags, options.description);
    if (!sameMap(custom, written.custom_metadata)) {
      await run("put", ref, () => http.write(paths.metadata(name), { custom_metadata: custom }));
    }
    const meta = readCustomMetadata(custom);
    return {
      tags: meta.tags,
      ...(meta.description !== undefined && { description: meta.description }),
      ...(written.version !== undefined && { version: String(written.version) }),
      ...dateOf("updatedAt", written.created_time),
    };
  }

  async function putV1(
    ref: SecretRef,
    name: string,
    value: SecretInput,
    options: PutOptions,
  ): Promise<SecretMetadata> {
    if (options.expectedVersion !== undefined)
      throw fail("UNSUPPORTED", "KV version 1 has no check-and-set (use KV version 2)", "put", ref);
    return run("put", ref, async () => {
      let { tags, description } = options;
      if (tags === undefined || description === undefined) {
        const reply = await http.read(paths.data(name));
        const previous = isRecord(reply.body?.data) ? readKv1Meta(reply.body.data) : undefined;
        tags ??= previous?.tags ?? {};
        description ??= previous?.description;
      }
      await http.write(paths.data(name), kv1Data(value, field, ref, tags, description));
      return { tags, ...(description !== undefined && { description }) };
    });
  }

  async function currentVersion(name: string): Promise<{ number: number; live: boolean } | undefined> {
    const reply = await http.read(paths.metadata(name));
    const data = isRecord(reply.body?.data) ? reply.body.data : undefined;
    if (reply.status === 404 || data === undefined) return undefined;
    const number = Number(data.current_version ?? 0);
    const versions = isRecord(data.versions) ? data.versions : {};
    const entry = versions[String(number)];
    const live = isRecord(entry) && !entry.destroyed && (entry.deletion_time ?? "") === "";
    return { number, live };
  }

  async function remove(ref: SecretRef): Promise<boolean> {
    const name = nameOf(ref);
    return run("delete", ref, async () => {
      if (version === 1) {
        const reply = await http.read(paths.data(name));
        if (reply.status === 404) return false;
        await http.delete(paths.data(name));
        return true;
      }
      const current = await currentVersion(name);
      if (current === undefined) return false;
      if (settings.softDelete) {
        if (!current.live) return false;
        await http.delete(paths.data(name));
        return true;
      }
      await http.delete(paths.metadata(name));
      return current.live;
    });
  }

  const list = (query?: ListQuery): AsyncIterable<SecretEntry> =>
    listEntries({ http, codec, version, paths, run }, query);

  return { get, put, delete: remove, list };
}

function sameMap(a: Record<string, string>, b: unknown): boolean {
  if (!isRecord(b)) return Object.keys(a).length === 0;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}
