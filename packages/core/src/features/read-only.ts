import { StrongboxError } from "../errors.ts";
import { matchesTags } from "../refs.ts";
import type { SecretBackend, Tags } from "../types.ts";

/** Options of {@link readOnly}. */
export interface ReadOnlyOptions {
  /** Only secrets carrying all these tags can be seen; the others read as missing. */
  tags?: Tags;
}

/**
 * Refuses `put` and `delete` with `READ_ONLY` before any call to the store, and
 * with a tag filter, shows `get` and `list` only the secrets that match it
 * (the filter goes to the store when it can filter on tags).
 *
 * @example
 * const backend = readOnly(awsSecretsManager({ region: "us-east-1" }), { tags: { application: "billing" } });
 */
export function readOnly(backend: SecretBackend, options: ReadOnlyOptions = {}): SecretBackend {
  const filter =
    options.tags !== undefined && Object.keys(options.tags).length > 0 ? options.tags : undefined;
  if (filter !== undefined && !backend.capabilities.tags) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      "read-only.tags: this store keeps no tags, so it cannot filter by them",
      {
        backend: backend.type,
      },
    );
  }
  const refuse = (operation: string) => (ref: Parameters<NonNullable<SecretBackend["delete"]>>[0]) =>
    Promise.reject(
      new StrongboxError("READ_ONLY", "the secret manager is read-only", {
        backend: backend.type,
        operation,
        ref,
      }),
    );
  const wrapped: SecretBackend = {
    type: backend.type,
    capabilities: backend.capabilities,
    get:
      filter === undefined
        ? (ref, getOptions) => backend.get(ref, getOptions)
        : async (ref, getOptions) => {
            const secret = await backend.get(ref, getOptions);
            return secret !== undefined && matchesTags(secret.tags, filter) ? secret : undefined;
          },
    put: refuse("put"),
    delete: refuse("delete"),
  };
  if (backend.getMany !== undefined) {
    const getMany = backend.getMany.bind(backend);
    wrapped.getMany = async (refs) => {
      const found = await getMany(refs);
      if (filter !== undefined)
        for (const [id, secret] of found) if (!matchesTags(secret.tags, filter)) found.delete(id);
      return found;
    };
  }
  if (backend.list !== undefined) {
    const list = backend.list.bind(backend);
    wrapped.list = (query = {}) =>
      list(filter === undefined ? query : { ...query, tags: { ...query.tags, ...filter } });
  }
  if (backend.close !== undefined) wrapped.close = backend.close.bind(backend);
  return wrapped;
}
