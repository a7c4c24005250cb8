import { type SecretRef, StrongboxError, type StrongboxErrorCode } from "@strongbox/core";

/** What the client needs to reach and log in to Conjur. */
export interface ConjurClientOptions {
  address: string;
  account: string;
  username: string;
  password?: string;
  apiKey?: string;
  retries: number;
  retryDelay: number;
  timeout: number;
  fetch: typeof fetch;
}

/** A variable as `GET /resources` describes it. */
export interface ConjurResource {
  id: string;
  created_at?: string;
  annotations?: { name: string; value: string }[];
  secrets?: { version: number }[];
}

/** Which call is running, for error messages. */
export interface CallContext {
  operation: string;
  ref?: SecretRef;
}

/** The longest Conjur lets a token live; used when the token does not say. */
export const TOKEN_LIFETIME_MS: number = 8 * 60_000;
/** The longest wait between two attempts, however many retries and whatever the first delay. */
const MAX_RETRY_DELAY_MS = 20_000;

/** The typed fetch client of the Conjur API (v5) that the adapter uses. */
export interface ConjurClient {
  /** `GET /resources/{account}/variable/{id}`; `undefined` on 404. */
  resource(ctx: CallContext, id: string): Promise<ConjurResource | undefined>;
  /** `GET /resources/{account}?kind=variable&limit&offset[&search]`: one page. */
  resources(
    ctx: CallContext,
    page: { limit: number; offset: number; search?: string },
  ): Promise<ConjurResource[]>;
  /** `GET /secrets/{account}/variable/{id}[?version=N]`; `undefined` on 404. */
  secret(ctx: CallContext, id: string, version?: number): Promise<Buffer | undefined>;
  /** `GET /secrets?variable_ids=...` with `Accept-Encoding: base64`; `undefined` when one of them is missing (404). */
  secrets(ctx: CallContext, ids: readonly string[]): Promise<Map<string, Buffer> | undefined>;
  /** `POST /secrets/{account}/variable/{id}`: a new version. */
  setSecret(ctx: CallContext, id: string, value: Uint8Array): Promise<void>;
  /** `POST` (add) or `PATCH` (update) `/policies/{account}/policy/{branch}`. */
  loadPolicy(ctx: CallContext, method: "POST" | "PATCH", branch: string, policy: string): Promise<void>;
}

interface Token {
  header: string;
  refreshAt: number;
}

/** Builds the client; nothing is sent until the first call. */
export function conjurClient(options: ConjurClientOptions): ConjurClient {
  const base = options.address.replace(/\/+$/, "");
  const account = encodeURIComponent(options.account);
  let apiKey = options.apiKey;
  let token: Token | undefined;
  let pending: Promise<Token> | undefined;

  const fail = (
    code: StrongboxErrorCode,
    message: string,
    ctx: CallContext,
    cause?: unknown,
  ): StrongboxError =>
    new StrongboxError(code, message, {
      backend: "cyberark",
      ...ctx,
      ...(cause === undefined ? {} : { cause }),
    });

  /** One HTTP exchange with bounded retries on 5xx, 409 (busy), 429 and network errors. */
  async function exchange(ctx: CallContext, url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      let response: Response | undefined;
      let network: Error | undefined;
      try {
        response = await options.fetch(url, { ...init, signal: AbortSignal.timeout(options.timeout) });
      } catch (error) {
        // undici's errors carry no headers, but keep only the reason anyway.
        const reason = (error as { cause?: { code?: string; message?: string } }).cause;
        network = new Error(reason?.code ?? reason?.message ?? (error as Error).message);
      }
      const retryable =
        network !== undefined ||
        (response !== undefined && (response.status >= 500 || [409, 429].includes(response.status)));
      if (!retryable) return response as Response;
      if (attempt > options.retries) {
        if (network)
          throw fail("UNAVAILABLE", `${network.message} (after ${attempt} attempts)`, ctx, network);
        const detail = await describe(response as Response);
        throw fail("UNAVAILABLE", `${detail} (after ${attempt} attempts)`, ctx, new Error(detail));
      }
      await response?.arrayBuffer().catch(() => undefined);
      await new Promise((resolve) =>
        setTimeout(resolve, Math.min(MAX_RETRY_DELAY_MS, options.retryDelay * 2 ** (attempt - 1))),
      );
    }
  }

  async function authenticate(ctx: CallContext): Promise<Token> {
    const loggedIn = apiKey === undefined;
    if (apiKey === undefined) {
      const basic = Buffer.from(`${options.username}:${options.password ?? ""}`).toString("base64");
      const login = await exchange(ctx, `${base}/authn/${account}/login`, {
        headers: { authorization: `Basic ${basic}` },
      });
      if (!login.ok) throw fail("ACCESS_DENIED", `login refused: ${await describe(login)}`, ctx);
      apiKey = await text(ctx, login);
    }
    const url = `${base}/authn/${account}/${encodeURIComponent(options.username)}/authenticate`;
    const received = Date.now();
    const response = await exchange(ctx, url, {
      method: "POST",
      headers: { "accept-encoding": "base64", "content-type": "text/plain" },
      body: apiKey,
    });
    if (response.status === 401 && !loggedIn && options.password !== undefined) {
      // The API key got from the password was rotated since: log in again, once.
      await bytes(ctx, response);
      apiKey = undefined;
      return authenticate(ctx);
    }
    if (!response.ok) throw fail("ACCESS_DENIED", `authentication refused: ${await describe(response)}`, ctx);
    const answer = (await text(ctx, response)).trim();
    const encoded = answer.startsWith("{") ? Buffer.from(answer).toString("base64") : answer;
    const lifetime = tokenLifetime(encoded);
    // Renew a little before the token expires (a fifth of its life, at most a minute).
    return {
      header: `Token token="${encoded}"`,
      refreshAt: received + lifetime - Math.min(60_000, lifetime / 5),
    };
  }

  async function currentToken(ctx: CallContext, stale?: Token): Promise<Token> {
    if (token !== undefined && token !== stale && Date.now() < token.refreshAt) return token;
    pending ??= authenticate(ctx).finally(() => {
      pending = undefined;
    });
    token = await pending;
    return token;
  }

  /** An authenticated request: renews the token before it expires, and once more on a 401. */
  async function send(ctx: CallContext, path: string, init: RequestInit = {}): Promise<Response> {
    let used = await currentToken(ctx);
    for (let renewed = false; ; renewed = true) {
      const headers = { ...(init.headers as Record<string, string>), authorization: used.header };
      const response = await exchange(ctx, `${base}${path}`, { ...init, headers });
      if (response.status === 401) {
        await response.arrayBuffer().catch(() => undefined);
        if (renewed)
          throw fail("ACCESS_DENIED", "401 Unauthorized (the token was refused after renewal)", ctx);
        used = await currentToken(ctx, used);
        continue;
      }
      if (response.status === 403) throw fail("ACCESS_DENIED", `403 ${await describe(response)}`, ctx);
      return response;
    }
  }

  async function expect(ctx: CallContext, response: Response, ...ok: number[]): Promise<Response> {
    if (ok.includes(response.status)) return response;
    const detail = await describe(response);
    throw fail(
      "BACKEND",
      `${response.status} ${detail}`,
      ctx,
      Object.assign(new Error(detail), { status: response.status }),
    );
  }

  /** The body as bytes; a connection lost while it arrives is `UNAVAILABLE`, never a bare TypeError. */
  async function bytes(ctx: CallContext, response: Response): Promise<Buffer> {
    try {
      return Buffer.from(await response.arrayBuffer());
    } catch (error) {
      const reason = (error as { cause?: { code?: string } }).cause?.code ?? "the connection was lost";
      throw fail("UNAVAILABLE", `${reason} while reading the answer`, ctx, new Error(reason));
    }
  }

  const text = async (ctx: CallContext, response: Response): Promise<string> =>
    (await bytes(ctx, response)).toString("utf8");

  /** The body as JSON; anything else (a proxy's sign-in page) is `BACKEND`, without the body. */
  async function json<T>(ctx: CallContext, response: Response): Promise<T> {
    const body = await text(ctx, response);
    try {
      return JSON.parse(body) as T;
    } catch {
      // No parser message: it quotes the body, which may hold values.
      const type = response.headers.get("content-type") ?? "no content type";
      throw fail("BACKEND", `${response.status} answer is not JSON (${type})`, ctx);
    }
  }

  const variablePath = (kind: "resources" | "secrets", id: string): string =>
    `/${kind}/${account}/variable/${encodeURIComponent(id)}`;

  return {
    async resource(ctx, id) {
      const response = await send(ctx, variablePath("resources", id));
      if (response.status === 404) return void (await bytes(ctx, response));
      return json<ConjurResource>(ctx, await expect(ctx, response, 200));
    },
    async resources(ctx, page) {
      const query = new URLSearchParams({
        kind: "variable",
        limit: String(page.limit),
        offset: String(page.offset),
      });
      if (page.search !== undefined) query.set("search", page.search);
      const response = await send(ctx, `/resources/${account}?${query}`);
      return json<ConjurResource[]>(ctx, await expect(ctx, response, 200));
    },
    async secret(ctx, id, version) {
      const query = version === undefined ? "" : `?version=${version}`;
      const response = await send(ctx, `${variablePath("secrets", id)}${query}`);
      if (response.status === 404) return void (await bytes(ctx, response));
      return bytes(ctx, await expect(ctx, response, 200));
    },
    async secrets(ctx, ids) {
      const list = ids.map((id) => encodeURIComponent(`${options.account}:variable:${id}`)).join(",");
      const response = await send(ctx, `/secrets?variable_ids=${list}`, {
        headers: { "accept-encoding": "base64" },
      });
      if (response.status === 404) return void (await bytes(ctx, response));
      const encoded = response.headers.get("content-encoding") === "base64";
      const body = await json<Record<string, string>>(ctx, await expect(ctx, response, 200));
      const out = new Map<string, Buffer>();
      const head = `${options.account}:variable:`;
      for (const [full, value] of Object.entries(body)) {
        if (full.startsWith(head))
          out.set(full.slice(head.length), Buffer.from(value, encoded ? "base64" : "utf8"));
      }
      return out;
    },
    async setSecret(ctx, id, value) {
      const response = await send(ctx, variablePath("secrets", id), {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: value,
      });
      await bytes(ctx, await expect(ctx, response, 201, 200, 204));
    },
    async loadPolicy(ctx, method, branch, policy) {
      const response = await send(ctx, `/policies/${account}/policy/${encodeURIComponent(branch)}`, {
        method,
        headers: { "content-type": "text/plain" },
        body: policy,
      });
      await bytes(ctx, await expect(ctx, response, 201, 200));
    },
  };
}

/** The status and Conjur's error message, never a request or a header. */
async function describe(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message;
  } catch {
    // not JSON: fall through to the status text
  }
  return response.statusText || `HTTP ${response.status}`;
}

/** The lifetime a Conjur token declares (`exp - iat` of its payload), or 8 minutes. */
function tokenLifetime(encoded: string): number {
  try {
    const token = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as { payload?: string };
    const payload = JSON.parse(Buffer.from(String(token.payload), "base64url").toString("utf8")) as {
      iat?: number;
      exp?: number;
    };
    if (typeof payload.iat === "number" && typeof payload.exp === "number")
      return Math.max(0, Math.min(TOKEN_LIFETIME_MS, (payload.exp - payload.iat) * 1000));
  } catch {
    // an older token format: assume Conjur's default
  }
  return TOKEN_LIFETIME_MS;
}
