import { StrongboxError, type StrongboxErrorCode } from "@strongbox/core";
import * as oauth from "oauth4webapi";

/**
 * The error answer of a token endpoint (or of GitHub's API), as the `cause` of
 * the `StrongboxError` a mint fails with: its OAuth `error` code, description
 * and HTTP status, and nothing of the request.
 */
export class TokenEndpointError extends Error {
  override readonly name = "TokenEndpointError";
  /** OAuth error code (`invalid_client`, `invalid_grant`...) or, for GitHub, `http_<status>`. */
  readonly error: string;
  readonly description: string | undefined;
  readonly status: number;

  constructor(error: string, description: string | undefined, status: number) {
    super(description === undefined ? error : `${error}: ${description}`);
    this.error = error;
    this.description = description;
    this.status = status;
  }
}

/** What a failure is about: the credential and the scope it was asked in. */
export interface FailureContext {
  name: string;
  operation: string;
  tenant?: string;
  namespace?: string;
}

/** A `StrongboxError` about a credential: `[strongbox:credentials] token "acme:team/my_oauth" failed: ...`. */
export function credentialError(
  code: StrongboxErrorCode,
  message: string,
  context: FailureContext,
  cause?: unknown,
): StrongboxError {
  const ref = { key: context.name, tenant: context.tenant, namespace: context.namespace };
  return new StrongboxError(code, message, {
    backend: "credentials",
    operation: context.operation,
    ref,
    cause,
  });
}

type ErrorBody = { error?: unknown; error_description?: unknown } | null | undefined;

const DENIED = new Set([
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "access_denied",
  "invalid_scope",
]);
const UNAVAILABLE = new Set(["server_error", "temporarily_unavailable"]);

/** The code of an error answer: refusals are `ACCESS_DENIED`, server trouble `UNAVAILABLE`. */
export function codeOf(error: string, status: number): StrongboxErrorCode {
  if (DENIED.has(error) || status === 401 || status === 403) return "ACCESS_DENIED";
  if (UNAVAILABLE.has(error) || status >= 500 || status === 429) return "UNAVAILABLE";
  return "BACKEND";
}

/** Replaces each given secret in `text` by `******` (a server may echo what it was sent). */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join("******");
  return out;
}

/**
 * Turns what oauth4webapi, jose or fetch threw during a mint into a
 * `StrongboxError`. Their errors can hold the response (and so a token) or the
 * request: only codes, descriptions and statuses are carried over.
 */
export async function mintFailure(
  error: unknown,
  context: FailureContext,
  secrets: readonly string[],
): Promise<StrongboxError> {
  if (error instanceof StrongboxError) return error;
  if (error instanceof oauth.ResponseBodyError) {
    return answerError(error.error, error.error_description, error.status, context, secrets);
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    const parameters = error.cause[0]?.parameters;
    const code = parameters?.error ?? `http_${error.status}`;
    return answerError(code, parameters?.error_description, error.status, context, secrets);
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === oauth.HTTP_REQUEST_FORBIDDEN || code === oauth.REQUEST_PROTOCOL_FORBIDDEN) {
    const hint = "the endpoint is not https (allowInsecureRequests: true accepts http for local servers)";
    return credentialError("INVALID_OPTIONS", hint, context);
  }
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return credentialError("UNAVAILABLE", "the token endpoint did not answer in time", context);
  }
  if (error instanceof TypeError && error.message === "fetch failed") {
    const reason = error.cause instanceof Error ? error.cause.message : "network error";
    return credentialError("UNAVAILABLE", `cannot reach the token endpoint: ${reason}`, context, error.cause);
  }
  const response = error instanceof Error && error.cause instanceof Response ? error.cause : undefined;
  const status = response?.status;
  // oauth4webapi reads OAuth error bodies of 400 and 401 only; servers send them with 5xx too.
  const body =
    response?.bodyUsed === false ? ((await response.json().catch(() => undefined)) as ErrorBody) : undefined;
  if (status !== undefined && typeof body?.error === "string") {
    const description = typeof body.error_description === "string" ? body.error_description : undefined;
    return answerError(body.error, description, status, context, secrets);
  }
  const message = redact(error instanceof Error ? error.message : String(error), secrets);
  const failure = status !== undefined && (status >= 500 || status === 429) ? "UNAVAILABLE" : "BACKEND";
  const detail = status === undefined ? message : `${message} (HTTP ${status})`;
  // A fresh error: the original may hold the response body (with a token) as its cause.
  return credentialError(
    failure,
    `unexpected answer from the token endpoint: ${detail}`,
    context,
    new Error(detail),
  );
}

/** A `StrongboxError` for an error answer (OAuth `error` or GitHub `message`). */
export function answerError(
  error: string,
  description: string | undefined,
  status: number,
  context: FailureContext,
  secrets: readonly string[],
  code: StrongboxErrorCode = codeOf(error, status),
): StrongboxError {
  const cleanDescription = description === undefined ? undefined : redact(description, secrets);
  const cause = new TokenEndpointError(redact(error, secrets), cleanDescription, status);
  return credentialError(code, `${cause.message} (HTTP ${status})`, context, cause);
}
