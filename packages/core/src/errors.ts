import type { SecretRef } from "./types.ts";

/** The reasons an operation fails. */
export type StrongboxErrorCode =
  | "NOT_FOUND"
  | "ACCESS_DENIED"
  | "READ_ONLY"
  | "UNSUPPORTED"
  | "INVALID_OPTIONS"
  | "INVALID_NAME"
  | "CONFLICT"
  | "DECRYPT_FAILED"
  | "UNAVAILABLE"
  | "BACKEND";

/** What an error is about: never the value. */
export interface StrongboxErrorContext {
  /** The backend's type, e.g. `"aws-secret-manager"`. */
  backend?: string;
  /** The operation that failed, e.g. `"get"`. */
  operation?: string;
  /** The ref of the secret concerned. */
  ref?: SecretRef;
  /** The error underneath. */
  cause?: unknown;
}

/**
 * The one error class of Strongbox. Its message reads
 * `[strongbox:aws] get "billing/DB_PASSWORD" failed: ...` and never holds a value.
 */
export class StrongboxError extends Error {
  override readonly name = "StrongboxError";
  readonly code: StrongboxErrorCode;
  readonly backend: string | undefined;
  readonly operation: string | undefined;
  readonly ref: SecretRef | undefined;

  constructor(code: StrongboxErrorCode, message: string, context: StrongboxErrorContext = {}) {
    super(
      formatMessage(message, context),
      context.cause === undefined ? undefined : { cause: context.cause },
    );
    this.code = code;
    this.backend = context.backend;
    this.operation = context.operation;
    this.ref = context.ref;
  }
}

/** True when `error` is a {@link StrongboxError}, optionally with the given code. */
export function isStrongboxError(error: unknown, code?: StrongboxErrorCode): error is StrongboxError {
  return error instanceof StrongboxError && (code === undefined || error.code === code);
}

/** `acme:company.team/DB_PASSWORD`: how a ref reads in messages and logs. */
export function formatRef(ref: SecretRef): string {
  const scope = ref.namespace === undefined ? "" : `${ref.namespace}/`;
  return `${ref.tenant === undefined ? "" : `${ref.tenant}:`}${scope}${ref.key}`;
}

function formatMessage(message: string, context: StrongboxErrorContext): string {
  const where = context.backend === undefined ? "[strongbox]" : `[strongbox:${context.backend}]`;
  if (context.operation === undefined) return `${where} ${message}`;
  const what =
    context.ref === undefined ? context.operation : `${context.operation} "${formatRef(context.ref)}"`;
  return `${where} ${what} failed: ${message}`;
}

/** Builds the message part that describes a cause, without stack or value. */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === "object" && cause !== null && "message" in cause) return String(cause.message);
  return String(cause);
}
