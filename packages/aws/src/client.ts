import { SecretsManagerClient, type Tag } from "@aws-sdk/client-secrets-manager";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { type SecretRef, StrongboxError, type StrongboxErrorCode, type Tags } from "@strongbox/core";
import { type ResolvedOptions, TYPE } from "./options.ts";

const MAX_BACKOFF_MS = 20_000;

/** Builds the SDK client from the options: static or default-chain credentials, endpoint, the SDK's retry strategy. */
export function buildClient(options: ResolvedOptions): SecretsManagerClient {
  const base = options.retryBaseDelay;
  return new SecretsManagerClient({
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    // Exponential backoff with full jitter; throttling (429 / ThrottlingException), 5xx and
    // dropped connections are retried by the SDK, up to maxAttempts calls in all.
    retryStrategy: new ConfiguredRetryStrategy(options.maxAttempts, (attempt) =>
      Math.floor(Math.random() * Math.min(MAX_BACKOFF_MS, base * 2 ** (attempt - 1))),
    ),
    // Without throwOnRequestTimeout the handler only logs a warning and keeps waiting.
    requestHandler: {
      requestTimeout: options.requestTimeout,
      connectionTimeout: options.requestTimeout,
      throwOnRequestTimeout: true,
    },
  });
}

/** The SDK's error, seen through the fields every Smithy error has. */
interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
}

const DENIED = new Set([
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "IncompleteSignature",
  "InvalidClientTokenId",
  "ExpiredTokenException",
  "MissingAuthenticationTokenException",
  "CredentialsProviderError",
]);
const NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/** The AWS error type of an SDK error (`"ResourceNotFoundException"`, ...). */
export const errorName = (error: unknown): string => String((error as SdkError | undefined)?.name ?? "");

/** Which Strongbox code an SDK error stands for, once the SDK has given up retrying. */
export function codeOf(error: unknown): StrongboxErrorCode {
  const e = (error ?? {}) as SdkError;
  const name = e.name ?? "";
  const status = e.$metadata?.httpStatusCode ?? 0;
  if (DENIED.has(name) || status === 403) return "ACCESS_DENIED";
  if (name === "ResourceNotFoundException") return "NOT_FOUND";
  if (name === "ResourceExistsException" || name === "PreconditionNotMetException") return "CONFLICT";
  if (name === "DecryptionFailure") return "DECRYPT_FAILED";
  if (
    status === 429 ||
    (status >= 500 && status !== 501) || // 501: the endpoint lacks the operation, retrying will not help
    /Throttl|TooManyRequests|ServiceUnavailable|TimeoutError|RequestTimeout/.test(name) ||
    NETWORK.has(e.code ?? "") ||
    (e.$metadata === undefined && /socket hang up|ECONNRESET/.test(e.message ?? ""))
  )
    return "UNAVAILABLE";
  return "BACKEND";
}

/**
 * A copy of an SDK error that keeps what helps (type, message, status, request id,
 * attempts) and drops the rest: the SDK's error can hold the raw HTTP response.
 * Any known value is masked out of the message.
 */
export function safeCause(error: unknown, values: readonly string[] = []): Error {
  const e = (error ?? {}) as SdkError;
  let message = typeof e.message === "string" ? e.message : String(error);
  for (const value of values) if (value.length > 0) message = message.split(value).join("******");
  const cause = new Error(message);
  cause.name = e.name ?? "Error";
  Object.assign(cause, {
    ...(e.code === undefined ? {} : { code: e.code }),
    ...(e.$metadata?.httpStatusCode === undefined ? {} : { statusCode: e.$metadata.httpStatusCode }),
    ...(e.$metadata?.requestId === undefined ? {} : { requestId: e.$metadata.requestId }),
    ...(e.$metadata?.attempts === undefined ? {} : { attempts: e.$metadata.attempts }),
  });
  return cause;
}

/** Wraps an SDK failure in a StrongboxError with its code, operation, ref and a safe cause. */
export function wrapError(
  error: unknown,
  operation: string,
  ref?: SecretRef,
  values: readonly string[] = [],
): StrongboxError {
  if (error instanceof StrongboxError) return error;
  const code = codeOf(error);
  const cause = safeCause(error, values);
  const attempts = (error as SdkError | undefined)?.$metadata?.attempts;
  const detail =
    code === "UNAVAILABLE" && attempts !== undefined
      ? `${cause.name}: ${cause.message} (after ${attempts} attempt${attempts === 1 ? "" : "s"})`
      : `${cause.name}: ${cause.message}`;
  return new StrongboxError(code, detail, { backend: TYPE, operation, ...(ref && { ref }), cause });
}

/** Tag keys that hold the exact ref; reserved, hidden from the tags callers see. */
export const REF_TAG = "strongbox:";
const CHUNK = 256; // longest tag value

/** The tags that record a ref exactly: one per part, long parts continued in `strongbox:key:1`, `:2`... */
export function refTags(ref: SecretRef): Tag[] {
  const out: Tag[] = [];
  for (const part of ["tenant", "namespace", "key"] as const) {
    const text = ref[part];
    if (text === undefined) continue;
    const chars = [...text];
    for (let index = 0; index * CHUNK < chars.length; index++) {
      out.push({
        Key: `${REF_TAG}${part}${index === 0 ? "" : `:${index}`}`,
        Value: chars.slice(index * CHUNK, (index + 1) * CHUNK).join(""),
      });
    }
  }
  return out;
}

/** The ref recorded in a secret's tags, if there is one. */
export function refFromTags(tags: readonly Tag[] | undefined): SecretRef | undefined {
  const map = new Map((tags ?? []).map((tag) => [tag.Key ?? "", tag.Value ?? ""]));
  const read = (part: string): string | undefined => {
    let text = map.get(`${REF_TAG}${part}`);
    if (text === undefined) return undefined;
    for (let index = 1; map.has(`${REF_TAG}${part}:${index}`); index++)
      text += map.get(`${REF_TAG}${part}:${index}`);
    return text;
  };
  const key = read("key");
  if (key === undefined) return undefined;
  const tenant = read("tenant");
  const namespace = read("namespace");
  return {
    ...(tenant === undefined ? {} : { tenant }),
    ...(namespace === undefined ? {} : { namespace }),
    key,
  };
}

/** The caller's tags: AWS's list without the ref tags and AWS's own `aws:` tags. */
export function userTags(tags: readonly Tag[] | undefined): Tags {
  const out: Tags = {};
  for (const { Key: key, Value: value } of tags ?? []) {
    if (key === undefined || key.startsWith(REF_TAG) || key.toLowerCase().startsWith("aws:")) continue;
    out[key] = value ?? "";
  }
  return out;
}

/** A tag map as AWS's list. */
export const toTagList = (tags: Tags): Tag[] => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
