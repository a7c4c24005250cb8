import nodeVault from "node-vault";

/** Per-call options node-vault passes on to axios. */
export interface NodeVaultRequestOptions {
  timeout?: number;
}

/**
 * The part of a `node-vault` client Strongbox uses, typed (its own `index.d.ts`
 * returns `any`). Any object with this shape works, e.g. a client you configured.
 */
export interface NodeVaultClient {
  /** The token sent as `X-Vault-Token`; a login replaces it. */
  token?: string;
  read(path: string, requestOptions?: NodeVaultRequestOptions): Promise<unknown>;
  write(path: string, data: unknown, requestOptions?: NodeVaultRequestOptions): Promise<unknown>;
  delete(path: string, requestOptions?: NodeVaultRequestOptions): Promise<unknown>;
  /** `GET <path>?list=1` when the client was built with `noCustomHTTPVerbs`. */
  list(path: string, requestOptions?: NodeVaultRequestOptions): Promise<unknown>;
  /** The generic request: `path` starts with `/` and is relative to `/v1`. */
  request(options: { path: string; method: string; json?: unknown; timeout?: number }): Promise<unknown>;
  userpassLogin(args: {
    username: string;
    password: string;
    mount_point?: string;
    requestOptions?: NodeVaultRequestOptions;
  }): Promise<unknown>;
  approleLogin(args: {
    role_id: string;
    secret_id: string;
    mount_point?: string;
    requestOptions?: NodeVaultRequestOptions;
  }): Promise<unknown>;
  tokenLookupSelf(args?: { requestOptions?: NodeVaultRequestOptions }): Promise<unknown>;
  tokenRenewSelf(args?: { requestOptions?: NodeVaultRequestOptions }): Promise<unknown>;
}

/** Settings of {@link vaultHttp}. */
export interface VaultHttpSettings {
  client: NodeVaultClient;
  /** Retries of a 412, 429, 5xx or a dropped connection, before giving up. */
  maxRetries: number;
  /** First backoff, in ms; it doubles on each retry. */
  retryDelay: number;
  /** Per-request timeout, in ms. */
  timeout: number;
}

/** A Vault answer: the body of a 2xx, or a 404 (with its body, which tells a deleted version apart). */
export interface VaultReply {
  status: 200 | 404;
  body: Record<string, unknown> | undefined;
}

/**
 * A failed Vault call, stripped of everything but status, Vault's error strings
 * and the network code: node-vault's and axios's errors carry the request config
 * with the `X-Vault-Token` header and the body, so they never travel further.
 */
export class VaultRequestError extends Error {
  override readonly name = "VaultRequestError";
  /** HTTP status, when Vault answered. */
  readonly status: number | undefined;
  /** Vault's `errors` array. */
  readonly errors: readonly string[];
  /** The network error code (`ECONNRESET`, `ECONNREFUSED`, ...), when it did not. */
  readonly networkCode: string | undefined;
  /** How many times the call was tried. */
  attempts = 1;

  constructor(message: string, status: number | undefined, errors: string[], networkCode?: string) {
    super(message);
    this.status = status;
    this.errors = errors;
    this.networkCode = networkCode;
  }

  /** True for what a retry may cure: 412 (standby not caught up), 429, 5xx, a dropped connection. */
  get transient(): boolean {
    if (this.status === undefined) return this.networkCode !== undefined;
    return this.status === 412 || this.status === 429 || this.status >= 500;
  }
}

/** Calls Vault through node-vault, with bounded retries and sanitised errors. 404 resolves rather than throws. */
export interface VaultHttp {
  /** `path` is relative to `/v1/`, URL-encoded, and may carry a query. */
  read(path: string): Promise<VaultReply>;
  write(path: string, data: unknown): Promise<VaultReply>;
  delete(path: string): Promise<VaultReply>;
  /** Lists a folder (`path` ends with `/`). */
  list(path: string): Promise<VaultReply>;
  /** Any other node-vault call (logins, token self-service); `label` names it in errors. */
  send(
    label: string,
    call: (requestOptions: NodeVaultRequestOptions) => Promise<unknown>,
  ): Promise<VaultReply>;
  readonly client: NodeVaultClient;
}

/** Builds a node-vault client for an address; no network call. */
export function buildNodeVault(address: string, namespace: string | undefined): NodeVaultClient {
  return nodeVault({
    endpoint: address,
    noCustomHTTPVerbs: true,
    // node-vault's `debug` logger prints request bodies (values, passwords) under DEBUG=node-vault.
    debug: () => undefined,
    ...(namespace !== undefined && { namespace }),
  }) as NodeVaultClient;
}

/** Wraps a client: every call retried on transient failures, errors sanitised. */
export function vaultHttp(settings: VaultHttpSettings): VaultHttp {
  const { client } = settings;
  const requestOptions: NodeVaultRequestOptions = { timeout: settings.timeout };
  async function send(
    label: string,
    call: (options: NodeVaultRequestOptions) => Promise<unknown>,
  ): Promise<VaultReply> {
    for (let attempt = 0; ; attempt++) {
      try {
        const body = await call(requestOptions);
        return { status: 200, body: isRecord(body) ? body : undefined };
      } catch (error) {
        if (statusOf(error) === 404) return { status: 404, body: bodyOf(error) };
        const failure = sanitise(error, label);
        failure.attempts = attempt + 1;
        if (!failure.transient || attempt >= settings.maxRetries) throw failure;
        const delay = settings.retryDelay * 2 ** attempt;
        await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
      }
    }
  }
  return {
    read: (path) => send(`GET /v1/${path}`, (options) => client.read(path, options)),
    write: (path, data) => send(`POST /v1/${path}`, (options) => client.write(path, data, options)),
    delete: (path) => send(`DELETE /v1/${path}`, (options) => client.delete(path, options)),
    list: (path) => send(`LIST /v1/${path}`, (options) => client.list(path, options)),
    send,
    client,
  };
}

/** Turns anything node-vault, axios or tv4 threw into a {@link VaultRequestError}. */
export function sanitise(error: unknown, label: string): VaultRequestError {
  if (error instanceof VaultRequestError) return error;
  const status = statusOf(error);
  if (status !== undefined) {
    const body = bodyOf(error);
    const errors = Array.isArray(body?.errors)
      ? body.errors.filter((item): item is string => typeof item === "string")
      : [];
    const detail = errors.length > 0 ? errors.join("; ") : `status ${status}`;
    return new VaultRequestError(`${label}: ${status} ${detail}`, status, errors);
  }
  const code = isRecord(error) && typeof error.code === "string" ? error.code : undefined;
  const text = error instanceof Error ? error.message : String(error);
  // axios: a plain message ("socket hang up", "connect ECONNREFUSED 127.0.0.1:8200"), never headers.
  const networkCode = code ?? (/socket hang up|ECONN|ETIMEDOUT|EPIPE/i.test(text) ? "ECONNRESET" : undefined);
  return new VaultRequestError(`${label}: ${text}`, undefined, [], networkCode);
}

function statusOf(error: unknown): number | undefined {
  if (!isRecord(error) || !isRecord(error.response)) return undefined;
  const status = error.response.statusCode ?? error.response.status;
  return typeof status === "number" ? status : undefined;
}

function bodyOf(error: unknown): Record<string, unknown> | undefined {
  if (!isRecord(error) || !isRecord(error.response)) return undefined;
  const body = error.response.body ?? error.response.data;
  return isRecord(body) ? body : undefined;
}

/** True for a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
