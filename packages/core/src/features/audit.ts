import { isStrongboxError, type StrongboxErrorCode } from "../errors.ts";
import { cleanRef } from "../refs.ts";
import type { ListQuery, SecretBackend, SecretRef } from "../types.ts";

/** One access, as the audit hook receives it: who, what, outcome, when; never the value. */
export interface AuditEvent {
  time: Date;
  /** The service the manager runs as. */
  service: string | undefined;
  backend: string;
  operation: "get" | "getMany" | "list" | "put" | "delete";
  /** The ref asked for (absent for list and getMany). */
  ref?: SecretRef;
  /** For `get`: the ref where the secret was found (namespace inheritance). */
  foundAt?: SecretRef;
  /** For `getMany`: how many refs were asked for; for `list`: the query. */
  count?: number;
  query?: ListQuery;
  outcome: "found" | "missing" | "ok" | "denied" | "error";
  /** The error code when the outcome is `denied` or `error`. */
  code?: StrongboxErrorCode;
  durationMs: number;
}

/** Receives every access. When it throws or rejects, the operation fails: an audit trail with holes is worse than none. */
export type AuditHook = (event: AuditEvent) => void | Promise<void>;

/**
 * Calls `hook` once for every operation, denied ones included.
 *
 * @example
 * const backend = withAudit(store, (event) => logger.info(event), "worker");
 */
export function withAudit(backend: SecretBackend, hook: AuditHook, service?: string): SecretBackend {
  const record = async (
    event: Omit<AuditEvent, "time" | "service" | "backend" | "durationMs">,
    started: number,
  ) => {
    await hook({
      time: new Date(),
      service,
      backend: backend.type,
      durationMs: performance.now() - started,
      ...event,
    });
  };
  const failure = (error: unknown): Pick<AuditEvent, "outcome" | "code"> => {
    const code = isStrongboxError(error) ? error.code : "BACKEND";
    return { outcome: code === "ACCESS_DENIED" || code === "READ_ONLY" ? "denied" : "error", code };
  };
  const around = async <T>(
    operation: AuditEvent["operation"],
    details: Partial<AuditEvent>,
    run: () => Promise<T>,
    outcome: (result: T) => Partial<AuditEvent>,
  ): Promise<T> => {
    const started = performance.now();
    let result: T;
    try {
      result = await run();
    } catch (error) {
      await record({ operation, ...details, ...failure(error) }, started);
      throw error;
    }
    await record({ operation, outcome: "ok", ...details, ...outcome(result) }, started);
    return result;
  };

  const wrapped: SecretBackend = {
    type: backend.type,
    capabilities: backend.capabilities,
    get: (ref, options) =>
      around(
        "get",
        { ref: cleanRef(ref) },
        () => backend.get(ref, options),
        (secret) =>
          secret === undefined ? { outcome: "missing" } : { outcome: "found", foundAt: cleanRef(secret.ref) },
      ),
  };
  const { getMany, list, put, delete: remove, close } = backend;
  if (getMany) {
    wrapped.getMany = (refs) =>
      around(
        "getMany",
        { count: refs.length },
        () => getMany.call(backend, refs),
        () => ({}),
      );
  }
  if (list) {
    wrapped.list = async function* (query) {
      const started = performance.now();
      let count = 0;
      try {
        for await (const entry of list.call(backend, query)) {
          count += 1;
          yield entry;
        }
      } catch (error) {
        await record({ operation: "list", ...(query && { query }), count, ...failure(error) }, started);
        throw error;
      }
      await record({ operation: "list", ...(query && { query }), count, outcome: "ok" }, started);
    };
  }
  if (put) {
    wrapped.put = (ref, value, options) =>
      around(
        "put",
        { ref: cleanRef(ref) },
        () => put.call(backend, ref, value, options),
        () => ({}),
      );
  }
  if (remove) {
    wrapped.delete = (ref) =>
      around(
        "delete",
        { ref: cleanRef(ref) },
        () => remove.call(backend, ref),
        (deleted) => ({ outcome: deleted ? "ok" : "missing" }),
      );
  }
  if (close) wrapped.close = () => close.call(backend);
  return wrapped;
}
