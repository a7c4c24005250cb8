import { Client, errors } from "@elastic/elasticsearch";
import { type SecretRef, StrongboxError, type StrongboxErrorCode } from "@strongbox/core";
import type { ResolvedOptions } from "./options.ts";

/** Builds the client from the options (no network call happens here). */
export function buildClient(options: ResolvedOptions): Client {
  return new Client({
    node: options.node,
    ...(options.auth !== undefined && { auth: options.auth }),
    ...(options.tls !== undefined && { tls: options.tls }),
    maxRetries: options.maxRetries,
    requestTimeout: options.requestTimeout,
  });
}

/** The status and Elasticsearch error type of a client error, if it has them. */
export function responseInfo(error: unknown): { status: number; type: string | undefined } | undefined {
  if (!(error instanceof errors.ResponseError)) return undefined;
  const body = error.meta.body as { error?: { type?: string } } | undefined;
  return { status: error.meta.statusCode ?? 0, type: body?.error?.type };
}

/** True for a 429: the adapter retries it. */
export function isTooManyRequests(error: unknown): boolean {
  return responseInfo(error)?.status === 429;
}

/**
 * Turns a client error into a `StrongboxError`. The client's errors carry the
 * request (with the document and its envelope): the cause is rebuilt from the
 * status, type and reason only, so no ciphertext or credential travels on.
 */
export function toStrongboxError(
  error: unknown,
  operation: string,
  ref: SecretRef | undefined,
  message?: string,
): StrongboxError {
  if (error instanceof StrongboxError) return error;
  const context = { backend: "elasticsearch", operation, ...(ref !== undefined && { ref }) };
  const cause = safeCause(error);
  const info = responseInfo(error);
  let code: StrongboxErrorCode = "BACKEND";
  if (info !== undefined) {
    if (info.status === 401 || info.status === 403) code = "ACCESS_DENIED";
    else if (info.status === 409) code = "CONFLICT";
    else if ([429, 502, 503, 504].includes(info.status)) code = "UNAVAILABLE";
  } else if (
    error instanceof errors.ConnectionError ||
    error instanceof errors.TimeoutError ||
    error instanceof errors.NoLivingConnectionsError
  ) {
    code = "UNAVAILABLE";
  }
  const what =
    message ??
    (code === "UNAVAILABLE"
      ? `Elasticsearch is unavailable (${cause.message})`
      : code === "ACCESS_DENIED"
        ? `access denied by Elasticsearch (${cause.message})`
        : cause.message);
  return new StrongboxError(code, what, { ...context, cause });
}

function safeCause(error: unknown): Error {
  const info = responseInfo(error);
  let message: string;
  if (info !== undefined && error instanceof errors.ResponseError) {
    const body = error.meta.body as { error?: { reason?: string } | string } | undefined;
    const reason = typeof body?.error === "object" ? body.error.reason : body?.error;
    // Parsing errors can quote a preview of a field's value: cut it off.
    const clean = reason?.replace(/Preview of field's value:.*$/s, "").trim();
    message = `${info.status} ${info.type ?? "error"}${clean ? `: ${clean}` : ""}`;
  } else if (error instanceof Error) {
    message = error.message.replace(/\/\/[^/@\s]*@/g, "//***@");
  } else {
    message = String(error);
  }
  const cause = new Error(message);
  cause.name = error instanceof Error ? error.name : "Error";
  return cause;
}
