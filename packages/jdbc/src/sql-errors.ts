import { isStrongboxError, type SecretRef, StrongboxError, type StrongboxErrorCode } from "@strongbox/core";

const UNAVAILABLE = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "EAI_AGAIN",
  "PROTOCOL_CONNECTION_LOST",
  "SQLITE_BUSY",
  "SQLITE_LOCKED",
  "SQLITE_CANTOPEN",
  "57P01",
  "57P03",
  "53300",
  "3D000",
  "ER_BAD_DB_ERROR",
  "ER_CON_COUNT_ERROR",
]);
const DENIED = new Set([
  "28P01",
  "28000",
  "ER_ACCESS_DENIED_ERROR",
  "ER_DBACCESS_DENIED_ERROR",
  "SQLITE_READONLY",
]);
const CONFLICT = new Set([
  "23505",
  "40001",
  "40P01",
  "ER_DUP_ENTRY",
  "ER_LOCK_DEADLOCK",
  "SQLITE_CONSTRAINT_PRIMARYKEY",
  "SQLITE_CONSTRAINT_UNIQUE",
]);

/** The driver's error code (`23505`, `ER_DUP_ENTRY`, `SQLITE_BUSY`, `ECONNREFUSED`), if any. */
export function sqlCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === "string") return code;
  if (typeof errno === "string") return errno;
  if (error instanceof AggregateError) return sqlCode(error.errors[0]);
  return undefined;
}

/** True when a retry may succeed: a serialization failure, a deadlock, a busy database. */
export function isRetryable(error: unknown): boolean {
  const code = sqlCode(error);
  return code === "40001" || code === "40P01" || code === "ER_LOCK_DEADLOCK" || code === "SQLITE_BUSY";
}

/**
 * A cause safe to keep: the driver's code and the first line of its message, without the SQL
 * text, the bindings (which hold ciphertext) or anything that looks like an envelope.
 */
export function safeCause(error: unknown): Error {
  const code = sqlCode(error);
  let message = error instanceof Error ? error.message : String(error);
  // knex prefixes the driver's message with the SQL: keep what follows it.
  const split = message.lastIndexOf(" - ");
  if (split >= 0) message = message.slice(split + 3);
  message = (message.split("\n")[0] ?? "")
    .replace(/v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+/g, "<envelope>")
    .slice(0, 300);
  const cause = new Error(code === undefined ? message : `${code}: ${message}`);
  (cause as Error & { code?: string }).code = code;
  cause.stack = undefined;
  return cause;
}

/** Turns any failure into a StrongboxError (a StrongboxError passes through unchanged). */
export function toStrongboxError(error: unknown, operation: string, ref?: SecretRef): StrongboxError {
  if (isStrongboxError(error)) return error;
  const code = sqlCode(error);
  const kind: StrongboxErrorCode =
    code !== undefined && UNAVAILABLE.has(code)
      ? "UNAVAILABLE"
      : code !== undefined && DENIED.has(code)
        ? "ACCESS_DENIED"
        : code !== undefined && CONFLICT.has(code)
          ? "CONFLICT"
          : /pool is probably full|Timeout acquiring a connection/i.test(String((error as Error)?.message))
            ? "UNAVAILABLE"
            : "BACKEND";
  const cause = safeCause(error);
  const hint =
    kind === "UNAVAILABLE"
      ? "the database cannot be reached: "
      : kind === "ACCESS_DENIED"
        ? "the database refused the credentials: "
        : "";
  return new StrongboxError(kind, `${hint}${cause.message}`, { backend: "jdbc", operation, ref, cause });
}
