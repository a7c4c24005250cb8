import { StrongboxError } from "../errors.ts";
import type { SecretBackend, Tags } from "../types.ts";

/**
 * Merges `tags` into the tags of every secret written; tags given to `put` win.
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
    put: (ref, value, options = {}) =>
      put.call(backend, ref, value, { ...options, tags: { ...tags, ...options.tags } }),
  };
}
