import { ClientSecretCredential, DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { type KeyVaultSecret, SecretClient, type SecretClientOptions } from "@azure/keyvault-secrets";
import { cleanRef, type SecretRef, StrongboxError, type Tags } from "@strongbox/core";

/** The backend type, as in configuration. */
export const TYPE = "azure-key-vault";

/** Tags Strongbox writes beside the caller's; callers may not use this prefix. */
export const RESERVED_TAG_PREFIX = "strongbox-";
const REF_TAG = "strongbox-ref";
const ENCODING_TAG = "strongbox-encoding";
/** Key Vault keeps at most 15 tags per secret. */
export const MAX_TAGS = 15;
/** Longest tag value written, so long refs are split over several tags. */
const TAG_VALUE_MAX = 256;

type PipelinePolicy = NonNullable<SecretClientOptions["additionalPolicies"]>[number]["policy"];

/** What building a `SecretClient` needs. */
export interface ClientSettings {
  vaultUrl: string;
  credential?: TokenCredential | undefined;
  tenantId?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  retries: number;
  retryDelayMs: number;
  maxRetryDelayMs: number;
  allowInsecureConnection: boolean;
  disableChallengeResourceVerification: boolean;
  ca?: string | undefined;
}

/** Builds the SDK client: the credential chosen by the options, bounded retries that also cover 429 without Retry-After. */
export function buildClient(settings: ClientSettings): SecretClient {
  const credential =
    settings.credential ??
    (settings.tenantId !== undefined && settings.clientId !== undefined && settings.clientSecret !== undefined
      ? new ClientSecretCredential(settings.tenantId, settings.clientId, settings.clientSecret)
      : new DefaultAzureCredential());
  return new SecretClient(settings.vaultUrl, credential, {
    retryOptions: {
      maxRetries: settings.retries,
      retryDelayInMs: settings.retryDelayMs,
      maxRetryDelayInMs: settings.maxRetryDelayMs,
    },
    additionalPolicies: [
      { policy: throttlingPolicy(settings.retryDelayMs, settings.maxRetryDelayMs), position: "perRetry" },
    ],
    allowInsecureConnection: settings.allowInsecureConnection,
    disableChallengeResourceVerification: settings.disableChallengeResourceVerification,
    ...(settings.ca !== undefined && { tlsOptions: { ca: settings.ca } }),
  });
}

/**
 * The SDK retries a 429 only when it carries a Retry-After header, and waits as
 * long as a Retry-After header on a 429 or a 503 says (an hour, if the server
 * says so). This policy gives every 429 a delay the SDK obeys: the server's,
 * capped at `maxDelayMs`, or an exponential backoff with jitter; and caps the
 * Retry-After of a 503 the same way (a 503 without one is the SDK's exponential retry).
 */
function throttlingPolicy(baseDelayMs: number, maxDelayMs: number): PipelinePolicy {
  const attempts = new WeakMap<object, number>();
  return {
    name: "strongboxThrottlingPolicy",
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status !== 429 && response.status !== 503) return response;
      const given =
        retryAfterMs(
          response.headers.get("retry-after-ms") ?? response.headers.get("x-ms-retry-after-ms"),
          1,
        ) ?? retryAfterMs(response.headers.get("retry-after"), 1000);
      if (response.status === 503) {
        if (given !== undefined)
          response.headers.set("retry-after-ms", String(Math.round(Math.min(given, maxDelayMs))));
        return response;
      }
      const attempt = attempts.get(request) ?? 0;
      attempts.set(request, attempt + 1);
      const backoff = baseDelayMs * 2 ** attempt * (0.8 + Math.random() * 0.4);
      response.headers.set("retry-after-ms", String(Math.round(Math.min(given ?? backoff, maxDelayMs))));
      return response;
    },
  };
}

function retryAfterMs(header: string | undefined, unitMs: number): number | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const number = Number(header);
  if (Number.isFinite(number)) return Math.max(0, number * unitMs);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** The status and service error code of an SDK error, if it has them. */
export function statusOf(error: unknown): { status?: number; code?: string } {
  if (typeof error !== "object" || error === null) return {};
  const { statusCode, code } = error as { statusCode?: unknown; code?: unknown };
  return {
    ...(typeof statusCode === "number" ? { status: statusCode } : {}),
    ...(typeof code === "string" ? { code } : {}),
  };
}

/** True for Key Vault's "no such secret" (a 404 with SecretNotFound), not for any 404. */
export function isNotFound(error: unknown): boolean {
  const { status, code } = statusOf(error);
  return status === 404 && (code === "SecretNotFound" || code === "DeletedSecretNotFound");
}

const CREDENTIAL_ERRORS = new Set([
  "CredentialUnavailableError",
  "AuthenticationError",
  "AuthenticationRequiredError",
  "AggregateAuthenticationError",
]);
const NETWORK_CODES = new Set([
  "REQUEST_SEND_ERROR",
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
]);

/**
 * Turns anything the SDK throws into a StrongboxError. The SDK's RestError holds
 * the request (headers with the bearer token, the body with the value): only its
 * status, code and message travel on, in a fresh error, with known secrets masked.
 */
export function toStrongboxError(
  error: unknown,
  operation: string,
  ref: SecretRef | undefined,
  secrets: readonly string[] = [],
): StrongboxError {
  if (error instanceof StrongboxError) return error;
  const scrub = (text: string): string =>
    secrets.reduce(
      (out, secret) => (secret.length >= 4 ? out.split(secret).join("******") : out),
      withoutBody(text),
    );
  const name = error instanceof Error ? error.name : "Error";
  const message = scrub(error instanceof Error ? error.message : String(error));
  const { status, code } = statusOf(error);
  const cause = Object.assign(new Error(message), {
    name,
    ...(status === undefined ? {} : { statusCode: status }),
    ...(code === undefined ? {} : { code }),
  });
  cause.stack = `${name}: ${message}`;
  const context = { backend: TYPE, operation, ...(ref && { ref: cleanRef(ref) }), cause };
  const what =
    status === undefined ? message : `Key Vault answered ${status}${code ? ` ${code}` : ""}: ${message}`;
  if (CREDENTIAL_ERRORS.has(name))
    return new StrongboxError("ACCESS_DENIED", `no token for Key Vault: ${message}`, context);
  if (status === 401 || status === 403) return new StrongboxError("ACCESS_DENIED", what, context);
  if (status === 409) return new StrongboxError("CONFLICT", what, context);
  if (status === 408 || status === 429 || (status !== undefined && status >= 500)) {
    return new StrongboxError("UNAVAILABLE", `${what} (after the configured retries)`, context);
  }
  if (status === undefined && code !== undefined && NETWORK_CODES.has(code)) {
    return new StrongboxError("UNAVAILABLE", `Key Vault could not be reached: ${message}`, context);
  }
  return new StrongboxError("BACKEND", what, context);
}

/**
 * The SDK's message for a body it could not parse quotes the whole body, which for a
 * secret is its value: everything from the body on is cut.
 */
function withoutBody(message: string): string {
  return message.replace(
    /(occurred (?:while parsing the response body|in deserializing the responseBody))[\s\S]*$/,
    "$1 (body not shown)",
  );
}

/** The tags to write: the caller's, the exact ref (split over tags of 256 characters), the encoding. */
export function tagsToWrite(ref: SecretRef, tags: Tags, binary: boolean): Record<string, string> {
  const out: Record<string, string> = { ...tags };
  const text = JSON.stringify([ref.tenant ?? null, ref.namespace ?? null, ref.key]);
  for (let index = 0; index * TAG_VALUE_MAX < text.length; index++) {
    out[index === 0 ? REF_TAG : `${REF_TAG}-${index}`] = text.slice(
      index * TAG_VALUE_MAX,
      (index + 1) * TAG_VALUE_MAX,
    );
  }
  if (binary) out[ENCODING_TAG] = "base64";
  return out;
}

/** The exact ref written in a secret's tags, if it is there and well formed. */
export function refFromTags(tags: Tags | undefined): SecretRef | undefined {
  const first = tags?.[REF_TAG];
  if (tags === undefined || first === undefined) return undefined;
  let text = first;
  for (let index = 1; tags[`${REF_TAG}-${index}`] !== undefined; index++) text += tags[`${REF_TAG}-${index}`];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || parsed.length !== 3) return undefined;
    const [tenant, namespace, key] = parsed as unknown[];
    if (typeof key !== "string" || key === "") return undefined;
    const ref: SecretRef = { key };
    if (typeof tenant === "string") ref.tenant = tenant;
    if (typeof namespace === "string") ref.namespace = namespace;
    return ref;
  } catch {
    // A tag someone else edited: the name decides instead.
    return undefined;
  }
}

/** The caller's tags: every tag but Strongbox's own. */
export function userTags(tags: Tags | undefined): Tags {
  return Object.fromEntries(
    Object.entries(tags ?? {}).filter(([name]) => !name.startsWith(RESERVED_TAG_PREFIX)),
  );
}

/** True when the value was written as base64 bytes. */
export function isBinary(secret: KeyVaultSecret): boolean {
  return secret.properties.tags?.[ENCODING_TAG] === "base64";
}

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
