import { type SecretRef, StrongboxError } from "@strongbox/core";

/** How requests reach Doppler. */
export interface TransportOptions {
  token: string;
  baseUrl: string;
  maxRetries: number;
  retryDelay: number;
  timeout: number;
  fetch: typeof globalThis.fetch;
}

/** One request to the API. */
export interface DopplerRequest {
  operation: string;
  ref?: SecretRef;
  method: "GET" | "POST" | "DELETE";
  path: string;
  query?: Record<string, string>;
  body?: Record<string, unknown>;
  /** Resolve a 404 (the caller tells a missing secret from a missing config) instead of failing. @default false */
  allowNotFound?: boolean;
}

/** An answer: its status and JSON body (`{}` when it had none or was not JSON). */
export interface Reply {
  status: number;
  body: { messages?: unknown; [key: string]: unknown };
}

const TYPE = "doppler";
const RETRYABLE = new Set([429, 500, 502, 503, 504]);
/** Longest wait a `Retry-After` may ask for before the adapter gives up instead. */
const MAX_RETRY_AFTER_MS = 10_000;

/**
 * Sends requests with the bearer token, retrying 429 and 5xx (honouring `Retry-After`)
 * and network failures up to `maxRetries` times, then failing with `UNAVAILABLE`;
 * 401/403 are `ACCESS_DENIED`, other failures `BACKEND`. The token only ever goes in
 * the `Authorization` header: never in a URL, an error or a log line.
 */
export function transport(options: TransportOptions): (request: DopplerRequest) => Promise<Reply> {
  const backoff = (attempt: number): number => options.retryDelay * 2 ** attempt;
  return async (request) => {
    const url = new URL(request.path, options.baseUrl);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    const { body } = request;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await options.fetch(url, {
          method: request.method,
          headers: {
            authorization: `Bearer ${options.token}`,
            accept: "application/json",
            ...(body !== undefined && { "content-type": "application/json" }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(options.timeout),
        });
      } catch (error) {
        if (attempt < options.maxRetries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw new StrongboxError("UNAVAILABLE", `Doppler is unreachable after ${attempt + 1} attempts`, {
          ...contextOf(request),
          cause: plainCause(error),
        });
      }
      const reply = await readReply(response);
      if (response.ok || (reply.status === 404 && request.allowNotFound)) return reply;
      if (RETRYABLE.has(response.status) && attempt < options.maxRetries) {
        const wait = retryAfter(response.headers.get("retry-after")) ?? backoff(attempt);
        if (wait <= MAX_RETRY_AFTER_MS) {
          await sleep(wait);
          continue;
        }
      }
      throw replyError(reply, request, attempt + 1);
    }
  };
}

/** The error a failed reply stands for. */
export function replyError(reply: Reply, request: DopplerRequest, attempts = 1): StrongboxError {
  const said = messagesOf(reply).join("; ").slice(0, 300) || `HTTP ${reply.status}`;
  const { status } = reply;
  const context = contextOf(request);
  if (status === 401 || status === 403) {
    return new StrongboxError("ACCESS_DENIED", `Doppler denied access (${status}: ${said})`, context);
  }
  if (RETRYABLE.has(status)) {
    return new StrongboxError(
      "UNAVAILABLE",
      `Doppler answered ${status} after ${attempts} attempts (${said})`,
      context,
    );
  }
  return new StrongboxError("BACKEND", `Doppler answered ${status}: ${said}`, context);
}

/** The texts of Doppler's `{ messages: [...] }` error body. */
export function messagesOf(reply: Reply): string[] {
  const messages = reply.body.messages;
  return Array.isArray(messages) ? messages.filter((text): text is string => typeof text === "string") : [];
}

function contextOf(request: DopplerRequest): { backend: string; operation: string; ref?: SecretRef } {
  return {
    backend: TYPE,
    operation: request.operation,
    ...(request.ref !== undefined && { ref: request.ref }),
  };
}

async function readReply(response: Response): Promise<Reply> {
  const text = await response.text();
  try {
    const parsed: unknown = text === "" ? {} : JSON.parse(text);
    return {
      status: response.status,
      body: typeof parsed === "object" && parsed !== null ? (parsed as Reply["body"]) : {},
    };
  } catch {
    // Not JSON (a proxy's error page): keep only the status; the text might quote anything.
    return { status: response.status, body: {} };
  }
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function plainCause(error: unknown): Error {
  const inner = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : "";
  const cause = new Error(`${error instanceof Error ? error.message : String(error)}${inner}`);
  cause.name = error instanceof Error ? error.name : "Error";
  return cause;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
