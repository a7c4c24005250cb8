import type { SecretBackend } from "../src/index.ts";

/** Wraps a backend and counts the calls that reach it, per operation. */
interface Calls {
  get: number;
  getMany: number;
  list: number;
  put: number;
  delete: number;
}

export function counting(backend: SecretBackend): SecretBackend & { calls: Calls } {
  const calls: Calls = { get: 0, getMany: 0, list: 0, put: 0, delete: 0 };
  const count = (operation: keyof Calls) => {
    calls[operation] += 1;
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
