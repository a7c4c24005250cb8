import {
  cleanRef,
  type GetOptions,
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
import { isRecord, type VaultHttp, VaultRequestError } from "./client.ts";
import {
  checkTags,
  decodeValue,
  encodeValue,
  kv1Data,
  kvPaths,
  nextCustomMetadata,
  readCustomMetadata,
  readKv1Meta,
  refOf,
  type StoredMeta,
} from "./kv.ts";

const TYPE = "vault";
const LIST_BATCH = 8;

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

  /** Runs Vault calls with a ready token; one 403 gets a fresh login and a second try. */
  async function run<T>(operation: string, ref: SecretRef | undefined, work: () => Promise<T>): Promise<T> {
    try {
      await session.ready();
      const token = session.current();
      try {
        return await work();
      } catch (error) {
        if (error instanceof VaultRequestError && error.status === 403 && (await session.recover(token)))
          return await work();
        throw error;
      }
    } catch (error) {
      throw toStrongbox(error, operation, ref);
    }
  }

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
    const reply = await run("get", ref, () => http.call("GET", paths.data(name) + query));
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
    return run("put", ref, async () => {
      const write = (at: number | undefined) =>
        http.call("POST", paths.data(name), { data, ...(at !== undefined && { options: { cas: at } }) });
      let reply: Awaited<ReturnType<typeof write>>;
      try {
        reply = await write(cas);
      } catch (error) {
        // "Only if absent" also holds when every version left is deleted: CAS then needs the current number.
        if (cas !== 0 || !isCasMismatch(error)) throw error;
        const current = await currentVersion(name);
        if (current === undefined || current.live) throw error;
        reply = await write(current.number);
      }
      const written = isRecord(reply.body?.data) ? reply.body.data : {};
      const custom = nextCustomMetadata(written.custom_metadata, ref, options.tags, options.description);
      if (!sameMap(custom, written.custom_metadata)) {
        await http.call("POST", paths.metadata(name), { custom_metadata: custom });
      }
      const meta = readCustomMetadata(custom);
      return {
        tags: meta.tags,
        ...(meta.description !== undefined && { description: meta.description }),
        ...(written.version !== undefined && { version: String(written.version) }),
        ...dateOf("updatedAt", written.created_time),
      };
    });
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
        const reply = await http.call("GET", paths.data(name));
        const previous = isRecord(reply.body?.data) ? readKv1Meta(reply.body.data) : undefined;
        tags ??= previous?.tags ?? {};
        description ??= previous?.description;
      }
      await http.call("POST", paths.data(name), kv1Data(value, field, ref, tags, description));
      return { tags, ...(description !== undefined && { description }) };
    });
  }

  async function currentVersion(name: string): Promise<{ number: number; live: boolean } | undefined> {
    const reply = await http.call("GET", paths.metadata(name));
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
        const reply = await http.call("GET", paths.data(name));
        if (reply.status === 404) return false;
        await http.call("DELETE", paths.data(name));
        return true;
      }
      const current = await currentVersion(name);
      if (current === undefined) return false;
      if (settings.softDelete) {
        if (!current.live) return false;
        await http.call("DELETE", paths.data(name));
        return true;
      }
      await http.call("DELETE", paths.metadata(name));
      return current.live;
    });
  }

  async function* names(folder: string): AsyncIterable<string> {
    const reply = await run("list", undefined, () => http.call("GET", `${paths.list(folder)}?list=true`));
    const keys =
      isRecord(reply.body?.data) && Array.isArray(reply.body.data.keys) ? reply.body.data.keys : [];
    for (const key of keys) {
      if (typeof key !== "string") continue;
      if (key.endsWith("/")) yield* names(folder + key);
      else yield folder + key;
    }
  }

  async function entryOf(name: string): Promise<SecretEntry | undefined> {
    const reply = await run("list", undefined, () =>
      http.call("GET", version === 2 ? paths.metadata(name) : paths.data(name)),
    );
    const data = isRecord(reply.body?.data) ? reply.body.data : undefined;
    if (reply.status === 404 || data === undefined) return undefined; // deleted meanwhile
    const meta = version === 2 ? readCustomMetadata(data.custom_metadata) : readKv1Meta(data);
    const ref = refOf(codec, name, meta.ref);
    if (ref === undefined) return undefined; // not one of this codec's names
    if (version === 1)
      return {
        ref,
        tags: meta.tags,
        ...(meta.description !== undefined && { description: meta.description }),
      };
    const current = String(data.current_version ?? "");
    const state = isRecord(data.versions) ? data.versions[current] : undefined;
    if (!isRecord(state) || state.destroyed === true || (state.deletion_time ?? "") !== "") return undefined;
    return {
      ref,
      tags: meta.tags,
      ...(meta.description !== undefined && { description: meta.description }),
      version: current,
      ...dateOf("createdAt", data.created_time),
      ...dateOf("updatedAt", data.updated_time),
    };
  }

  async function* list(query?: ListQuery): AsyncIterable<SecretEntry> {
    const start = codec.listPrefix(query);
    const folder = start.slice(0, start.lastIndexOf("/") + 1);
    let batch: string[] = [];
    const flush = async function* (): AsyncIterable<SecretEntry> {
      const entries = await Promise.all(batch.map(entryOf));
      batch = [];
      for (const entry of entries) if (entry !== undefined) yield entry;
    };
    for await (const name of names(folder)) {
      if (!name.startsWith(start)) continue;
      batch.push(name);
      if (batch.length >= LIST_BATCH) yield* flush();
    }
    yield* flush();
  }

  return { get, put, delete: remove, list };
}

function toStrongbox(error: unknown, operation: string, ref: SecretRef | undefined): StrongboxError {
  if (error instanceof StrongboxError) return error;
  const context = { backend: TYPE, operation, ...(ref && { ref: cleanRef(ref) }), cause: error };
  if (!(error instanceof VaultRequestError))
    return new StrongboxError("BACKEND", "unexpected failure", context);
  const detail =
    error.errors.join("; ") || (error.status === undefined ? error.networkCode : `status ${error.status}`);
  if (error.status === 403 || error.status === 401)
    return new StrongboxError("ACCESS_DENIED", `Vault refused: ${detail}`, context);
  if (isCasMismatch(error))
    return new StrongboxError("CONFLICT", `Vault refused the write: ${detail}`, context);
  if (error.transient) return new StrongboxError("UNAVAILABLE", `Vault is unavailable: ${detail}`, context);
  return new StrongboxError("BACKEND", `Vault answered ${error.status ?? "nothing"}: ${detail}`, context);
}

function isCasMismatch(error: unknown): boolean {
  return (
    error instanceof VaultRequestError &&
    error.status === 400 &&
    error.errors.some((message) => message.includes("check-and-set parameter did not match"))
  );
}

function sameMap(a: Record<string, string>, b: unknown): boolean {
  if (!isRecord(b)) return Object.keys(a).length === 0;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => b[key] === a[key]);
}

function dateOf<K extends "createdAt" | "updatedAt">(key: K, text: unknown): Partial<Record<K, Date>> {
  if (typeof text !== "string" || text === "") return {};
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? {} : ({ [key]: date } as Partial<Record<K, Date>>);
}
