import { StrongboxError } from "../errors.ts";
import type { SecretBackend, SecretRef } from "../types.ts";

/** Who may resolve secrets: by service, then by namespace. */
export interface IsolationPolicy {
  /** Services that may never resolve secrets. */
  deniedServices?: readonly string[];
  /** When given, only these services may resolve secrets. */
  allowedServices?: readonly string[];
  /** Per-namespace patterns (`company.team`, `company.*`, `*`): an allow match wins over a deny match, then `default`. */
  namespaces?: {
    allow?: readonly string[];
    deny?: readonly string[];
    /** @default "allow" */
    default?: "allow" | "deny";
  };
}

/**
 * Refuses every call with `ACCESS_DENIED` when the service may not resolve
 * secrets, and each call on a namespace the policy denies. A refused call never
 * reaches the layers below (cache, store).
 *
 * @example
 * const backend = isolated(store, { deniedServices: ["executor"] }, "executor"); // every call fails
 */
export function isolated(
  backend: SecretBackend,
  policy: IsolationPolicy,
  service: string | undefined,
): SecretBackend {
  const serviceDenied =
    (service !== undefined && (policy.deniedServices ?? []).includes(service)) ||
    (policy.allowedServices !== undefined &&
      policy.allowedServices.length > 0 &&
      (service === undefined || !policy.allowedServices.includes(service)));
  const allowedNamespace = namespacePolicy(policy);
  const checksNamespaces = allowedNamespace !== undefined;

  const denied = (operation: string, ref?: SecretRef): StrongboxError =>
    new StrongboxError(
      "ACCESS_DENIED",
      serviceDenied
        ? `service "${service ?? "(unnamed)"}" may not resolve secrets`
        : `service "${service ?? "(unnamed)"}" may not use namespace "${ref?.namespace ?? "(root)"}"`,
      { backend: backend.type, operation, ref },
    );
  const namespaceAllowed = (namespace: string | undefined): boolean => allowedNamespace?.(namespace) ?? true;
  const check = (operation: string, ref: SecretRef): StrongboxError | undefined =>
    serviceDenied || !namespaceAllowed(ref.namespace) ? denied(operation, ref) : undefined;

  const wrapped: SecretBackend = {
    type: backend.type,
    capabilities: backend.capabilities,
    get: (ref, options) => {
      const error = check("get", ref);
      return error ? Promise.reject(error) : backend.get(ref, options);
    },
  };
  const { getMany, list, put, delete: remove, close } = backend;
  if (getMany) {
    wrapped.getMany = (refs) => {
      for (const ref of refs) {
        const error = check("get", ref);
        if (error) return Promise.reject(error);
      }
      return getMany.call(backend, refs);
    };
  }
  if (list) {
    wrapped.list = (query) => {
      if (serviceDenied) throw denied("list");
      if (checksNamespaces && !namespaceAllowed(query?.namespace ?? undefined)) {
        throw denied("list", { key: "*", ...(query?.namespace ? { namespace: query.namespace } : {}) });
      }
      return filterList(list.call(backend, query), (entry) => namespaceAllowed(entry.ref.namespace));
    };
  }
  if (put) {
    wrapped.put = (ref, value, options) => {
      const error = check("put", ref);
      return error ? Promise.reject(error) : put.call(backend, ref, value, options);
    };
  }
  if (remove) {
    wrapped.delete = (ref) => {
      const error = check("delete", ref);
      return error ? Promise.reject(error) : remove.call(backend, ref);
    };
  }
  if (close) wrapped.close = () => close.call(backend);
  return wrapped;
}

/**
 * The namespace part of a policy as a predicate (the root is `""` for patterns), or
 * `undefined` when the policy says nothing about namespaces. Namespace inheritance uses it
 * so that a lookup never falls back into a namespace the policy denies.
 */
export function namespacePolicy(
  policy: IsolationPolicy,
): ((namespace: string | undefined) => boolean) | undefined {
  const namespaces = policy.namespaces;
  const allow = (namespaces?.allow ?? []).map(compilePattern);
  const deny = (namespaces?.deny ?? []).map(compilePattern);
  const byDefault = namespaces?.default ?? "allow";
  if (allow.length === 0 && deny.length === 0 && byDefault === "allow") return undefined;
  return (namespace) => {
    const name = namespace ?? "";
    if (allow.some((matches) => matches(name))) return true;
    if (deny.some((matches) => matches(name))) return false;
    return byDefault === "allow";
  };
}

async function* filterList<T>(source: AsyncIterable<T>, keep: (item: T) => boolean): AsyncIterable<T> {
  for await (const item of source) if (keep(item)) yield item;
}

/** `a.b` matches itself; `a.*` matches `a` and every namespace below it; `*` matches all, the root included. */
function compilePattern(pattern: string): (namespace: string) => boolean {
  if (pattern === "*" || pattern === "**") return () => true;
  if (pattern.endsWith(".*") || pattern.endsWith(".**")) {
    const base = pattern.slice(0, pattern.lastIndexOf("."));
    return (namespace) => namespace === base || namespace.startsWith(`${base}.`);
  }
  return (namespace) => namespace === pattern;
}
