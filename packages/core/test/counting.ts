import type { SecretBackend } from "../src/index.ts";

/** Wraps a backend and counts the calls that reach it, per operation. */
export function counting(backend: SecretBackend): SecretBackend & { calls: Record<string, number> } {
  const calls: Record<string, number> = { get: 0, getMany: 0, list: 0, put: 0, delete: 0 };
  const count = (operation: string) => {
    calls[operation] = (calls[operation] ?? 0) + 1;
  };
  return {
    ...backend,
    calls,
    get: (ref, options) => {
      count("get");
      return backend.get(ref, options);
    },
    list: (query) => {
      count("list");
      return (backend.list as NonNullable<SecretBackend["list"]>)(query);
    },
    put: (ref, value, options) => {
      count("put");
      return (backend.put as NonNullable<SecretBackend["put"]>)(ref, value, options);
    },
    delete: (ref) => {
      count("delete");
      return (backend.delete as NonNullable<SecretBackend["delete"]>)(ref);
    },
  };
}
