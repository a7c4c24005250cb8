import { type SecretRef, StrongboxError } from "@strongbox/core";

/** What the API client needs. */
export interface DopplerApiOptions {
  token: string;
  project: string | undefined;
  config: string | undefined;
  baseUrl: string;
  maxRetries: number;
  retryDelay: number;
  timeout: number;
  fetch: typeof globalThis.fetch;
}

/** A secret as `GET /v3/configs/config/secret` returns it. */
export interface DopplerSecret {
  raw: string;
  note: string | undefined;
}

/** The part of a Doppler API v3 client the adapter uses. */
export interface DopplerApi {
  /** The raw value and note of a secret; `undefined` when Doppler says it does not exist. */
  getSecret(name: string, ref: SecretRef): Promise<DopplerSecret | undefined>;
  /** The raw values and notes of several secrets in one call per batch; missing names are absent. */
  getSecrets(names: readonly string[]): Promise<Map<string, DopplerSecret>>;
  /** Every secret name of the config, managed `DOPPLER_*` names left out. */
  listNames(): Promise<string[]>;
  setSecret(name: string, value: string, ref: SecretRef): Promise<void>;
  setNote(name: string, note: string, ref: SecretRef): Promise<void>;
  /** False when Doppler says the secret does not exist. */
  deleteSecret(name: string, ref: SecretRef): Promise<boolean>;
}

const TYPE = "doppler";
const RETRYABLE = new Set([429, 500, 502, 503, 504]);
/** Longest wait a `Retry-After` may ask for before the adapter gives up instead. */
const MAX_RETRY_AFTER_MS = 10_000;
/** Longest comma-joined name list sent in one URL by `getSecrets`. */
const MAX_NAMES_CHARS = 4000;

interface Reply {
  status: number;
  body: { messages?: unknown; [key: string]: unknown };
}

/**
 * A small typed client of the Doppler API v3 on `fetch`. Retries 429 and 5xx
 * (honouring `Retry-After`) and network failures a bounded number of times, then
 * fails with `UNAVAILABLE`; 401/403 are `ACCESS_DENIED`. The token only ever goes
 * in the `Authorization` header: never in a URL, an error or a log line.
 */
export function dopplerApi(options: DopplerApiOptions): DopplerApi {
  const scope = (): Record<string, string> => ({
    ...(options.project !== undefined && { project: options.project }),
    ...(options.config !== undefined && { config: options.config }),
  });

  async function request(
    operation: string,
    ref: SecretRef | undefined,
    method: "GET" | "POST" | "DELETE",
    path: string,
    query: Record<string, string>,
    body?: Record<string, unknown>,
  ): Promise<Reply> {
    const url = new URL(path, options.baseUrl);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    const context = { backend: TYPE, operation, ...(ref !== undefined && { ref }) };
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await options.fetch(url, {
          method,
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
          ...context,
          cause: plainCause(error),
        });
      }
      const reply = await readReply(response);
      if (response.ok) return reply;
      if (RETRYABLE.has(response.status) && attempt < options.maxRetries) {
        const wait = retryAfter(response.headers.get("retry-after")) ?? backoff(attempt);
        if (wait <= MAX_RETRY_AFTER_MS) {
          await sleep(wait);
          continue;
        }
      }
      throw replyError(reply, context, attempt + 1);
    }
  }

  const backoff = (attempt: number): number => options.retryDelay * 2 ** attempt;

  const isMissingSecret = (reply: Reply): boolean =>
    reply.status === 404 &&
    messagesOf(reply).some((text) => /secret/i.test(text) && !/project|config/i.test(text));

  return {
    async getSecret(name, ref) {
      try {
        const reply = await request("get", ref, "GET", "/v3/configs/config/secret", { ...scope(), name });
        const value = reply.body.value as { raw?: unknown; note?: unknown } | undefined;
        if (typeof value?.raw !== "string") {
          throw new StrongboxError("BACKEND", "Doppler answered without a raw value", {
            backend: TYPE,
            operation: "get",
            ref,
          });
        }
        return {
          raw: value.raw,
          note: typeof value.note === "string" && value.note !== "" ? value.note : undefined,
        };
      } catch (error) {
        if (error instanceof ReplyError && isMissingSecret(error.reply)) return undefined;
        throw unwrap(error);
      }
    },
    async getSecrets(names) {
      const found = new Map<string, DopplerSecret>();
      for (const batch of batches(names)) {
        const reply = await request("getMany", undefined, "GET", "/v3/configs/config/secrets", {
          ...scope(),
          secrets: batch.join(","),
          include_dynamic_secrets: "false",
          include_managed_secrets: "false",
        }).catch((error: unknown) => {
          throw unwrap(error);
        });
        const secrets = (reply.body.secrets ?? {}) as Record<string, { raw?: unknown; note?: unknown }>;
        for (const name of batch) {
          const value = secrets[name];
          if (typeof value?.raw !== "string") continue;
          const note = typeof value.note === "string" && value.note !== "" ? value.note : undefined;
          found.set(name, { raw: value.raw, note });
        }
      }
      return found;
    },
    async listNames() {
      const reply = await request("list", undefined, "GET", "/v3/configs/config/secrets/names", {
        ...scope(),
        include_dynamic_secrets: "false",
        include_managed_secrets: "false",
      }).catch((error: unknown) => {
        throw unwrap(error);
      });
      const names = reply.body.names;
      if (!Array.isArray(names)) {
        throw new StrongboxError("BACKEND", "Doppler answered without a names list", {
          backend: TYPE,
          operation: "list",
        });
      }
      return names.filter((name): name is string => typeof name === "string");
    },
    async setSecret(name, value, ref) {
      await request(
        "put",
        ref,
        "POST",
        "/v3/configs/config/secrets",
        {},
        { ...scope(), secrets: { [name]: value } },
      ).catch((error: unknown) => {
        throw unwrap(error);
      });
    },
    async setNote(name, note, ref) {
      await request(
        "put",
        ref,
        "POST",
        "/v3/configs/config/secrets/note",
        {},
        { ...scope(), secret: name, note },
      ).catch((error: unknown) => {
        throw unwrap(error);
      });
    },
    async deleteSecret(name, ref) {
      try {
        await request("delete", ref, "DELETE", "/v3/configs/config/secret", { ...scope(), name });
        return true;
      } catch (error) {
        if (error instanceof ReplyError && isMissingSecret(error.reply)) return false;
        throw unwrap(error);
      }
    },
  };
}

/** A failed reply, kept until the caller decides whether it means "absent". */
class ReplyError extends Error {
  readonly reply: Reply;
  readonly error: StrongboxError;
  constructor(reply: Reply, error: StrongboxError) {
    super(error.message);
    this.reply = reply;
    this.error = error;
  }
}

function unwrap(error: unknown): unknown {
  return error instanceof ReplyError ? error.error : error;
}

function replyError(
  reply: Reply,
  context: { backend: string; operation: string; ref?: SecretRef },
  attempts: number,
): ReplyError {
  const said = messagesOf(reply).join("; ").slice(0, 300) || `HTTP ${reply.status}`;
  const status = reply.status;
  const error =
    status === 401 || status === 403
      ? new StrongboxError("ACCESS_DENIED", `Doppler refused the token (${status}: ${said})`, context)
      : RETRYABLE.has(status)
        ? new StrongboxError(
            "UNAVAILABLE",
            `Doppler answered ${status} after ${attempts} attempts (${said})`,
            context,
          )
        : new StrongboxError("BACKEND", `Doppler answered ${status}: ${said}`, context);
  return new ReplyError(reply, error);
}

function messagesOf(reply: Reply): string[] {
  const messages = reply.body.messages;
  return Array.isArray(messages) ? messages.filter((text): text is string => typeof text === "string") : [];
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

/** Splits names into batches whose comma-joined list stays short enough for a URL. */
function batches(names: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let length = 0;
  for (const name of new Set(names)) {
    if (current.length > 0 && length + name.length + 1 > MAX_NAMES_CHARS) {
      out.push(current);
      current = [];
      length = 0;
    }
    current.push(name);
    length += name.length + 1;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
