import { StrongboxError } from "../errors.ts";
import type { SecretBackend, Tags } from "../types.ts";

/**
 * Merges `tags` into the tags of every secret written; tags given to `put` win. A `put`
 * without tags keeps the secret's current tags (one read), with the defaults added.
 *
 * @example
 * const backend = withDefaultTags(memory(), { application: "billing" });
 */
export function withDefaultTags(backend: SecretBackend, tags: Tags): SecretBackend {
  if (Object.keys(tags).length === 0) return backend;
  if (!backend.capabilities.tags) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      "tags: this store keeps no tags, so default tags cannot be applied",
      {
        backend: backend.type,
      },
    );
  }
  const put = backend.put;
  if (put === undefined) return backend;
  return {
    ...backend,
    put: async (ref, value, options = {}) => {
      // Without tags, a put keeps the secret's tags; the defaults are added to them, not put in their place.
      const given = options.tags ?? (await backend.get(ref))?.tags;
      return put.call(backend, ref, value, { ...options, tags: { ...tags, ...given } });
    },
  };
}
