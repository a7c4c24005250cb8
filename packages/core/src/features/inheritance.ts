import { refId } from "../refs.ts";
import type { GetOptions, Secret, SecretBackend, SecretRef } from "../types.ts";

/** `company.team.etl` -> [`company.team.etl`, `company.team`, `company`, root]: the namespaces a lookup tries, in order. */
export function namespaceChain(namespace: string | undefined): (string | undefined)[] {
  if (namespace === undefined) return [undefined];
  const parts = namespace.split(".");
  const chain: (string | undefined)[] = [];
  for (let length = parts.length; length > 0; length--) chain.push(parts.slice(0, length).join("."));
  chain.push(undefined);
  return chain;
}

/** Options of {@link withInheritance}. */
export interface InheritanceOptions {
  /** Levels this returns false for are skipped (an isolation policy's denied namespaces). */
  visible?: (namespace: string | undefined) => boolean;
}

/**
 * Namespace inheritance: a `get` in `company.team.etl` falls back to
 * `company.team`, then `company`, then the tenant's root. The secret's `ref`
 * says where it was found. A read of a given version does not fall back.
 * Put the cache below this feature, so each level's lookup (misses included) is cached.
 *
 * @example
 * const backend = withInheritance(withCache(store));
 */
export function withInheritance(backend: SecretBackend, options: InheritanceOptions = {}): SecretBackend {
  const visible = options.visible;
  const parents = async (ref: SecretRef, options?: GetOptions): Promise<Secret | undefined> => {
    for (const namespace of namespaceChain(ref.namespace).slice(1)) {
      if (visible !== undefined && !visible(namespace)) continue;
      const level: SecretRef = namespace === undefined ? { key: ref.key } : { namespace, key: ref.key };
      if (ref.tenant !== undefined) level.tenant = ref.tenant;
      const found = await backend.get(level, options);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  // The first level is the common case: no chain is built unless it misses.
  const get = (ref: SecretRef, options?: GetOptions): Promise<Secret | undefined> =>
    ref.namespace === undefined || options?.version !== undefined
      ? backend.get(ref, options)
      : backend.get(ref, options).then((found) => found ?? parents(ref, options));
  const wrapped: SecretBackend = { ...backend, get };
  const getMany = backend.getMany;
  if (getMany !== undefined) {
    // One batch per level: every ref still missing moves up one namespace for the next batch.
    wrapped.getMany = async (refs) => {
      const found = new Map<string, Secret>();
      let pending = refs.map((ref) => ({
        ref,
        chain: namespaceChain(ref.namespace).filter(
          (namespace, depth) => depth === 0 || visible === undefined || visible(namespace),
        ),
      }));
      for (let depth = 0; pending.length > 0; depth++) {
        const levels = pending.map(({ ref, chain }) => {
          const namespace = chain[depth];
          const level: SecretRef = namespace === undefined ? { key: ref.key } : { namespace, key: ref.key };
          if (ref.tenant !== undefined) level.tenant = ref.tenant;
          return level;
        });
        const batch = await getMany.call(backend, levels);
        pending = pending.filter(({ ref, chain }, index) => {
          const secret = batch.get(refId(levels[index] as SecretRef));
          if (secret !== undefined) found.set(refId(ref), secret);
          return secret === undefined && depth + 1 < chain.length;
        });
      }
      return found;
    };
  }
  return wrapped;
}
