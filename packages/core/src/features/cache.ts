import { LRUCache } from "lru-cache";
import { isStrongboxError } from "../errors.ts";
import { refId } from "../refs.ts";
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
  /** Source of time in ms (a test seam for fake timers). @default performance */
  clock?: { now(): number };
}

const MISS = Symbol("miss");
type Entry = Secret | typeof MISS;
interface Context {
  ref: SecretRef;
}
// Fixed cost of an entry in the byte bound, beside its value and key.
const ENTRY_OVERHEAD = 256;

/** The cache key of a ref: injective (lengths prefix the free-text parts). */
function cacheKey(ref: SecretRef): string {
  const { tenant, namespace } = ref;
  return `${tenant === undefined ? "-" : `${tenant.length}:${tenant}`}|${namespace === undefined ? "-" : `${namespace.length}:${namespace}`}|${ref.key}`;
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

  const lru: LRUCache<string, Entry, Context> = new LRUCache<string, Entry, Context>({
    max: options.maximumSize ?? 1000,
    ttl,
    perf: clock,
    ...(options.maximumBytes === undefined
      ? {}
      : {
          maxSize: options.maximumBytes,
          sizeCalculation: (entry: Entry, key: string) =>
            ENTRY_OVERHEAD + key.length * 2 + (entry === MISS ? 0 : entry.value.byteLength),
        }),
    // An expired entry stays until replaced, so that stale-if-error has something to serve.
    noDeleteOnStaleGet: staleLimit > 0,
    fetchMethod: async (_key, stale, { options: fetchOptions, context }) => {
      try {
        const secret = await backend.get(context.ref);
        if (secret === undefined) {
          if (negativeTtl <= 0) fetchOptions.ttl = 1;
          else fetchOptions.ttl = negativeTtl;
          return MISS;
        }
        readAt.set(secret, clock.now());
        return freeze(secret);
      } catch (error) {
        if (stale !== undefined && stale !== MISS && isStrongboxError(error, "UNAVAILABLE")) {
          const age = clock.now() - (readAt.get(stale) ?? 0) - ttl;
          if (age <= staleLimit) {
            fetchOptions.ttl = retryAfterStale;
            return stale;
          }
        }
        throw error;
      }
    },
  });

  const load = (key: string, ref: SecretRef): Promise<Secret | undefined> =>
    lru.fetch(key, { context: { ref } }).then((entry) => (entry === MISS ? undefined : entry));

  const wrapped: SecretBackend = {
    type: backend.type,
    capabilities: backend.capabilities,
    get(ref: SecretRef, getOptions?: GetOptions) {
      if (getOptions?.version !== undefined) return backend.get(ref, getOptions);
      const key = cacheKey(ref);
      const hit = lru.get(key);
      if (hit !== undefined) return Promise.resolve(hit === MISS ? undefined : hit);
      return load(key, ref);
    },
  };
  const { getMany, list, put, delete: remove, close } = backend;
  if (getMany) {
    wrapped.getMany = async (refs) => {
      const found = new Map<string, Secret>();
      const missing: SecretRef[] = [];
      for (const ref of refs) {
        const hit = lru.get(cacheKey(ref));
        if (hit === undefined) missing.push(ref);
        else if (hit !== MISS) found.set(refId(ref), hit);
      }
      if (missing.length === 0) return found;
      const fetched = await getMany.call(backend, missing);
      for (const ref of missing) {
        const secret = fetched.get(refId(ref));
        if (secret === undefined) {
          if (negativeTtl > 0) lru.set(cacheKey(ref), MISS, { ttl: negativeTtl });
          continue;
        }
        readAt.set(secret, clock.now());
        lru.set(cacheKey(ref), freeze(secret));
        found.set(refId(ref), secret);
      }
      return found;
    };
  }
  if (list) wrapped.list = (query) => list.call(backend, query);
  if (put) {
    wrapped.put = async (ref, value, putOptions) => {
      const key = cacheKey(ref);
      // Before: a read in flight must not store the old value. After: nor one that started meanwhile.
      lru.delete(key);
      try {
        return await put.call(backend, ref, value, putOptions);
      } finally {
        lru.delete(key);
      }
    };
  }
  if (remove) {
    wrapped.delete = async (ref) => {
      const key = cacheKey(ref);
      lru.delete(key);
      try {
        return await remove.call(backend, ref);
      } finally {
        lru.delete(key);
      }
    };
  }
  wrapped.close = async () => {
    lru.clear();
    await close?.call(backend);
  };
  return wrapped;
}

function freeze(secret: Secret): Secret {
  Object.freeze(secret.tags);
  Object.freeze(secret.ref);
  return Object.freeze(secret);
}
