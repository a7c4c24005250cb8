import { LRUCache } from "lru-cache";
import { isStrongboxError } from "../errors.ts";
import { validateRef } from "../naming.ts";
import { cleanRef, refId } from "../refs.ts";
import type { GetOptions, Secret, SecretBackend, SecretRef } from "../types.ts";

/** Options of {@link withCache}. */
export interface CacheOptions {
  /** Most entries kept (found secrets and cached misses). @default 1000 */
  maximumSize?: number;
  /** How long an entry stays fresh after it was read from the store, in ms. @default 60_000 */
  expireAfterWrite?: number;
  /** Bound on the bytes of values held, so that a few huge values cannot exhaust memory. @default unbounded */
  maximumBytes?: number;
  /**
   * Serve an expired value when the store fails with `UNAVAILABLE`; `true`, or the
   * longest time past expiry (ms) a value may be served. @default false
   */
  staleIfError?: boolean | number;
  /** How long a miss is remembered, in ms; 0 turns negative caching off. @default min(expireAfterWrite, 5000) */
  negativeTtl?: number;
  /**
   * Source of time in ms (a test seam for fake timers). lru-cache reads a start time of 0 as
   * "never expires", so a fake clock must start above 0 (`Date` under vitest fake timers does).
   * @default performance
   */
  clock?: { now(): number };
}

const MISS = Symbol("miss");
type Entry = Secret | typeof MISS;
interface Context {
  ref: SecretRef;
}
/** What the LRU holds per ref: the ref (to keep the index in step) and the secret or a miss. */
interface Slot {
  ref: SecretRef;
  entry: Entry;
}
// Fixed cost of an entry in the byte bound, beside its value and key.
const ENTRY_OVERHEAD = 256;

/** The cache key of a ref: injective (lengths prefix the free-text parts). */
function compositeKey(ref: SecretRef): string {
  const { tenant, namespace } = ref;
  return `${tenant === undefined ? "-" : `${tenant.length}:${tenant}`}|${namespace === undefined ? "-" : `${namespace.length}:${namespace}`}|${ref.key}`;
}

/**
 * tenant -> namespace -> key -> the LRU's key for that ref. A composite key built
 * per call would be hashed per call (about a microsecond); the caller's strings
 * and the stored key keep their hashes, so a hit costs three small map lookups.
 */
class KeyIndex {
  readonly #tenants = new Map<string | undefined, Map<string | undefined, Map<string, string>>>();

  find(ref: SecretRef): string | undefined {
    return this.#tenants.get(ref.tenant)?.get(ref.namespace)?.get(ref.key);
  }

  keyFor(ref: SecretRef): string {
    const found = this.find(ref);
    if (found !== undefined) return found;
    let namespaces = this.#tenants.get(ref.tenant);
    if (namespaces === undefined) {
      namespaces = new Map();
      this.#tenants.set(ref.tenant, namespaces);
    }
    let keys = namespaces.get(ref.namespace);
    if (keys === undefined) {
      keys = new Map();
      namespaces.set(ref.namespace, keys);
    }
    const key = compositeKey(ref);
    keys.set(ref.key, key);
    return key;
  }

  remove(ref: SecretRef): void {
    const namespaces = this.#tenants.get(ref.tenant);
    const keys = namespaces?.get(ref.namespace);
    if (keys === undefined || namespaces === undefined) return;
    keys.delete(ref.key);
    if (keys.size > 0) return;
    namespaces.delete(ref.namespace);
    if (namespaces.size === 0) this.#tenants.delete(ref.tenant);
  }

  clear(): void {
    this.#tenants.clear();
  }
}

/**
 * An LRU cache with expiry in front of a store: `get` hits are served from
 * memory, concurrent misses of one ref make one store call, misses are
 * remembered briefly, writes and deletes through it invalidate. Versioned reads
 * and `list` go to the store. Values stay in this process's memory only.
 *
 * @example
 * const backend = withCache(awsSecretsManager({ region: "eu-west-1" }), { maximumSize: 500, expireAfterWrite: 60_000 });
 */
export function withCache(backend: SecretBackend, options: CacheOptions = {}): SecretBackend {
  const ttl = options.expireAfterWrite ?? 60_000;
  const negativeTtl = options.negativeTtl ?? Math.min(ttl, 5000);
  const staleLimit = options.staleIfError === true ? Number.POSITIVE_INFINITY : options.staleIfError || 0;
  const retryAfterStale = Math.min(ttl, 5000);
  const readAt = new WeakMap<Secret, number>();
  const clock = options.clock ?? performance;
  const index = new KeyIndex();
  // Errors thrown by the store, to tell them from lru-cache's abort reasons.
  const storeErrors = new WeakSet<object>();

  const lru: LRUCache<string, Slot, Context> = new LRUCache<string, Slot, Context>({
    max: options.maximumSize ?? 1000,
    ttl,
    // lru-cache's own clock is faster (it caches the time); a given clock is for tests.
    ...(options.clock === undefined ? {} : { perf: options.clock }),
    dispose: (slot, _key, reason) => {
      if (reason !== "set") index.remove(slot.ref);
    },
    ...(options.maximumBytes === undefined
      ? {}
      : {
          maxSize: options.maximumBytes,
          sizeCalculation: (slot: Slot, key: string) =>
            ENTRY_OVERHEAD + key.length * 2 + (slot.entry === MISS ? 0 : slot.entry.value.byteLength),
        }),
    // An expired entry stays until replaced, so that stale-if-error has something to serve.
    noDeleteOnStaleGet: staleLimit > 0,
    fetchMethod: async (_key, stale, { options: fetchOptions, context }) => {
      const { ref } = context;
      try {
        const secret = await backend.get(ref);
        if (secret === undefined) {
          fetchOptions.ttl = negativeTtl <= 0 ? 1 : negativeTtl;
          return { ref, entry: MISS };
        }
        readAt.set(secret, clock.now());
        return { ref, entry: freeze(secret) };
      } catch (error) {
        if (typeof error === "object" && error !== null) storeErrors.add(error);
        const old = stale?.entry;
        if (old !== undefined && old !== MISS && isStrongboxError(error, "UNAVAILABLE")) {
          const age = clock.now() - (readAt.get(old) ?? 0) - ttl;
          if (age <= staleLimit) {
            fetchOptions.ttl = retryAfterStale;
            return { ref, entry: old };
          }
        }
        throw error;
      }
    },
  });

  const secretOf = (slot: Slot | undefined): Secret | undefined =>
    slot === undefined || slot.entry === MISS ? undefined : slot.entry;
  // A fetch is aborted when a write or an eviction removes its entry meanwhile; lru-cache then
  // rejects with its own reason. The caller still deserves an answer: one direct read, not cached.
  const load = (ref: SecretRef): Promise<Secret | undefined> =>
    lru.fetch(index.keyFor(ref), { context: { ref: cleanRef(ref) } }).then(secretOf, (error: unknown) => {
      if (typeof error === "object" && error !== null && storeErrors.has(error)) throw error;
      return backend.get(ref);
    });
  const forget = (ref: SecretRef): void => {
    const key = index.find(ref);
    if (key !== undefined) lru.delete(key);
  };
  const remember = (ref: SecretRef, entry: Entry, ttlMs?: number): void => {
    const clean = cleanRef(ref);
    lru.set(index.keyFor(clean), { ref: clean, entry }, ttlMs === undefined ? undefined : { ttl: ttlMs });
  };

  const wrapped: SecretBackend = {
    type: backend.type,
    capabilities: backend.capabilities,
    get(ref: SecretRef, getOptions?: GetOptions) {
      if (getOptions?.version !== undefined) return backend.get(ref, getOptions);
      const key = index.find(ref);
      const slot = key === undefined ? undefined : lru.get(key);
      if (slot !== undefined) return Promise.resolve(slot.entry === MISS ? undefined : slot.entry);
      try {
        validateRef(ref);
      } catch (error) {
        return Promise.reject(error);
      }
      return load(ref);
    },
  };
  const { getMany, list, put, delete: remove, close } = backend;
  if (getMany) {
    wrapped.getMany = async (refs) => {
      const found = new Map<string, Secret>();
      const missing: SecretRef[] = [];
      for (const ref of refs) {
        const key = index.find(ref);
        const slot = key === undefined ? undefined : lru.get(key);
        if (slot === undefined) missing.push(ref);
        else if (slot.entry !== MISS) found.set(refId(ref), slot.entry);
      }
      if (missing.length === 0) return found;
      const fetched = await getMany.call(backend, missing);
      for (const ref of missing) {
        const secret = fetched.get(refId(ref));
        if (secret === undefined) {
          if (negativeTtl > 0) remember(ref, MISS, negativeTtl);
          continue;
        }
        readAt.set(secret, clock.now());
        remember(ref, freeze(secret));
        found.set(refId(ref), secret);
      }
      return found;
    };
  }
  if (list) wrapped.list = (query) => list.call(backend, query);
  if (put) {
    wrapped.put = async (ref, value, putOptions) => {
      // Before: a read in flight must not store the old value. After: nor one that started meanwhile.
      forget(ref);
      try {
        return await put.call(backend, ref, value, putOptions);
      } finally {
        forget(ref);
      }
    };
  }
  if (remove) {
    wrapped.delete = async (ref) => {
      forget(ref);
      try {
        return await remove.call(backend, ref);
      } finally {
        forget(ref);
      }
    };
  }
  wrapped.close = async () => {
    lru.clear();
    index.clear();
    await close?.call(backend);
  };
  return wrapped;
}

function freeze(secret: Secret): Secret {
  Object.freeze(secret.tags);
  Object.freeze(secret.ref);
  return Object.freeze(secret);
}
