import { randomBytes } from "node:crypto";
import { type EmulatorRequest, type EmulatorResponse, type HttpEmulator, startHttpEmulator } from "./http.ts";

/** A role that can log in (a user, or a host as `host/<id>`). */
export interface ConjurUser {
  /** `admin`, `alice`, `host/myapp`... */
  login: string;
  /** Password for `GET /authn/{account}/login` (users only). @default none (the API key also works there) */
  password?: string;
  /** API key. @default a random one */
  apiKey?: string;
  /**
   * Privileges on every variable: `read` (see it, list it), `execute` (fetch values), `update` (set values).
   * @default ["read", "execute", "update"]
   */
  privileges?: ("read" | "execute" | "update")[];
  /** Privileges on every policy branch: `create` (POST), `update` (PUT, PATCH). @default ["create", "update"] */
  policyPrivileges?: ("create" | "update")[];
}

/** Options of {@link startConjurEmulator}. */
export interface ConjurEmulatorOptions {
  /** The organization account. @default "dev" */
  account?: string;
  /** The roles that can log in. @default [{ login: "admin", password: "Admin-Password1" }] */
  users?: ConjurUser[];
  /** Lifetime of an access token, in ms. @default 480_000 (8 minutes, as Conjur) */
  tokenTtlMs?: number;
  /** Policy branches that exist besides `root`. @default [] */
  policies?: string[];
}

/** A variable as the emulator stores it. */
export interface ConjurVariable {
  id: string;
  policy: string;
  createdAt: string;
  annotations: Map<string, string>;
  /** Kept versions, oldest first (at most 20). */
  secrets: { version: number; value: Buffer }[];
  /** The last version number given out (versions keep counting after old ones are dropped). */
  lastVersion: number;
}

/** A running Conjur emulator. */
export interface ConjurEmulator extends HttpEmulator {
  readonly account: string;
  /** The roles, with their API keys filled in. */
  readonly users: Required<ConjurUser>[];
  /** Lifetime of the tokens issued from now on, in ms. */
  tokenTtlMs: number;
  /** The variables, by id. */
  readonly variables: Map<string, ConjurVariable>;
  /** Makes every token issued so far expired (as if their 8 minutes had passed). */
  expireTokens(): void;
}

const MAX_VERSIONS = 20;

/** Conjur's JSON error body. */
const failure = (status: number, code: string, message: string): EmulatorResponse => ({
  status,
  body: { error: { code, message } },
});
const unauthorized: EmulatorResponse = { status: 401, body: "" };
const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Ruby's `blank?`: empty or whitespace only. Conjur refuses such values. */
const isBlank = (value: Buffer): boolean => /^[\s\u00a0]*$/u.test(value.toString("utf8"));

/**
 * Starts an in-memory CyberArk Conjur (Open Source API v5) on 127.0.0.1: login (Basic -> API key),
 * authenticate (API key -> token, `Accept-Encoding: base64`), token expiry -> 401, secrets with
 * versions (last 20 kept), batch retrieval, resources list with search and paging, and policy
 * loads (POST add, PATCH update, PUT replace) of `!variable` and `!delete` records.
 * Privileges are per role and apply to every variable and policy branch. `search` matches a
 * case-insensitive substring of ids and annotation values (Conjur runs a full-text search).
 *
 * @example
 * const conjur = await startConjurEmulator({ users: [{ login: "admin", apiKey: "k" }] });
 */
export async function startConjurEmulator(options: ConjurEmulatorOptions = {}): Promise<ConjurEmulator> {
  const account = options.account ?? "dev";
  const users: Required<ConjurUser>[] = (
    options.users ?? [{ login: "admin", password: "Admin-Password1" }]
  ).map((user) => ({
    login: user.login,
    password: user.password ?? "",
    apiKey: user.apiKey ?? randomBytes(24).toString("hex"),
    privileges: user.privileges ?? ["read", "execute", "update"],
    policyPrivileges: user.policyPrivileges ?? ["create", "update"],
  }));
  const policies = new Map<string, number>([
    ["root", 0],
    ...(options.policies ?? []).map((id) => [id, 0] as const),
  ]);
  const variables = new Map<string, ConjurVariable>();
  const tokens = new Map<string, { login: string; expiresAt: number }>();

  const emulator = {
    tokenTtlMs: options.tokenTtlMs ?? 8 * 60_000,
  };

  const issueToken = (login: string): string => {
    const now = Date.now();
    const signature = randomBytes(32).toString("base64url");
    tokens.set(signature, { login, expiresAt: now + emulator.tokenTtlMs });
    const token = {
      protected: b64url({ alg: "conjur.org/slosilo/v2", kid: randomBytes(16).toString("hex") }),
      payload: b64url({
        sub: login,
        iat: Math.floor(now / 1000),
        exp: Math.floor((now + emulator.tokenTtlMs) / 1000),
      }),
      signature,
    };
    return JSON.stringify(token);
  };

  const bearer = (request: EmulatorRequest): Required<ConjurUser> | undefined => {
    const match = /^Token token="([^"]+)"$/.exec(request.headers.authorization ?? "");
    if (!match) return undefined;
    try {
      const token = JSON.parse(Buffer.from(match[1] as string, "base64").toString("utf8")) as {
        signature?: string;
      };
      const issued = tokens.get(String(token.signature));
      if (issued === undefined || Date.now() >= issued.expiresAt) return undefined;
      return users.find((user) => user.login === issued.login);
    } catch {
      return undefined;
    }
  };

  const resourceOf = (variable: ConjurVariable): object => ({
    created_at: variable.createdAt,
    id: `${account}:variable:${variable.id}`,
    owner: `${account}:policy:${variable.policy}`,
    policy: `${account}:policy:${variable.policy}`,
    permissions: [],
    annotations: [...variable.annotations].map(([name, value]) => ({
      name,
      value,
      policy: `${account}:policy:${variable.policy}`,
    })),
    secrets: variable.secrets.map((secret) => ({ version: secret.version, expires_at: null })),
  });

  const notFound = (id: string): EmulatorResponse =>
    failure(404, "not_found", `Variable '${id}' not found in account '${account}'`);

  function login(request: EmulatorRequest, acct: string): EmulatorResponse {
    const match = /^Basic (.+)$/.exec(request.headers.authorization ?? "");
    if (!match || acct !== account) return unauthorized;
    const decoded = Buffer.from(match[1] as string, "base64").toString("utf8");
    const at = decoded.indexOf(":");
    const [name, secret] = [decoded.slice(0, at), decoded.slice(at + 1)];
    const user = users.find((candidate) => candidate.login === name);
    if (
      at < 0 ||
      user === undefined ||
      (secret !== user.apiKey && (user.password === "" || secret !== user.password))
    )
      return unauthorized;
    return { status: 200, headers: { "content-type": "text/plain" }, body: user.apiKey };
  }

  function authenticate(request: EmulatorRequest, acct: string, name: string): EmulatorResponse {
    const user = users.find((candidate) => candidate.login === name);
    if (acct !== account || user === undefined || request.body.toString("utf8") !== user.apiKey)
      return unauthorized;
    const token = issueToken(user.login);
    if (/\bbase64\b/.test(String(request.headers["accept-encoding"] ?? ""))) {
      return {
        status: 200,
        headers: { "content-type": "text/plain", "content-encoding": "base64" },
        body: Buffer.from(token).toString("base64"),
      };
    }
    return { status: 200, headers: { "content-type": "application/json" }, body: token };
  }

  function secret(request: EmulatorRequest, user: Required<ConjurUser>, id: string): EmulatorResponse {
    const variable = variables.get(id);
    if (variable === undefined || !user.privileges.includes("read")) return notFound(id);
    if (request.method === "POST") {
      if (!user.privileges.includes("update")) return failure(403, "forbidden", "Forbidden");
      if (isBlank(request.body)) return failure(422, "unprocessable_entity", "'value' may not be empty");
      variable.lastVersion += 1;
      variable.secrets.push({ version: variable.lastVersion, value: Buffer.from(request.body) });
      if (variable.secrets.length > MAX_VERSIONS) variable.secrets.shift();
      return { status: 201, body: "" };
    }
    if (!user.privileges.includes("execute")) return failure(403, "forbidden", "Forbidden");
    const versionText = request.url.searchParams.get("version");
    if (versionText !== null && !/^\d+$/.test(versionText))
      return failure(422, "unprocessable_entity", "'version' must be an integer");
    const found =
      versionText === null
        ? variable.secrets.at(-1)
        : variable.secrets.find((candidate) => candidate.version === Number(versionText));
    if (found === undefined) return failure(404, "not_found", `Variable '${id}' is empty or not found.`);
    return { status: 200, headers: { "content-type": "application/octet-stream" }, body: found.value };
  }

  function batch(request: EmulatorRequest, user: Required<ConjurUser>): EmulatorResponse {
    const ids = (request.url.searchParams.get("variable_ids") ?? "").split(",");
    if (ids.some((id) => id.trim() === ""))
      return failure(422, "unprocessable_entity", "variable_ids must not be blank");
    const base64 = /\bbase64\b/.test(String(request.headers["accept-encoding"] ?? ""));
    const out: Record<string, string> = {};
    for (const full of ids) {
      const [acct, kind, ...rest] = full.split(":");
      const id = rest.join(":");
      const variable = variables.get(id);
      const value = variable?.secrets.at(-1)?.value;
      if (acct !== account || kind !== "variable" || value === undefined || !user.privileges.includes("read"))
        return failure(404, "not_found", `Variable '${id}' not found in account '${account}'`);
      if (!user.privileges.includes("execute")) return failure(403, "forbidden", "Forbidden");
      const text = value.toString("utf8");
      if (!base64 && !Buffer.from(text, "utf8").equals(value)) {
        return failure(
          406,
          "not_acceptable",
          "Issue encoding secret into JSON format, try including 'Accept-Encoding: base64' header in request.",
        );
      }
      out[full] = base64 ? value.toString("base64") : text;
    }
    return { status: 200, headers: base64 ? { "content-encoding": "base64" } : {}, body: out };
  }

  function listResources(request: EmulatorRequest, user: Required<ConjurUser>): EmulatorResponse {
    const params = request.url.searchParams;
    const kind = params.get("kind");
    const search = params.get("search")?.toLowerCase();
    const visible =
      (kind !== null && kind !== "variable") || !user.privileges.includes("read")
        ? []
        : [...variables.values()]
            .filter(
              (variable) =>
                search === undefined ||
                variable.id.toLowerCase().includes(search) ||
                [...variable.annotations.values()].some((value) => value.toLowerCase().includes(search)),
            )
            .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (params.get("count") === "true") return { status: 200, body: { count: visible.length } };
    const offsetText = params.get("offset");
    const limitText = params.get("limit");
    if (
      (offsetText !== null && !/^\d+$/.test(offsetText)) ||
      (limitText !== null && !/^\d+$/.test(limitText))
    )
      return failure(422, "unprocessable_entity", "'offset' and 'limit' must be integers");
    const offset = Number(offsetText ?? 0);
    // Conjur: an offset without a limit pages by 10.
    const limit = limitText !== null ? Number(limitText) : offsetText !== null ? 10 : undefined;
    const page = visible.slice(offset, limit === undefined ? undefined : offset + limit);
    return { status: 200, body: page.map(resourceOf) };
  }

  function loadPolicy(
    request: EmulatorRequest,
    user: Required<ConjurUser>,
    branch: string,
  ): EmulatorResponse {
    if (!policies.has(branch))
      return failure(404, "not_found", `Policy '${branch}' not found in account '${account}'`);
    const needed = request.method === "POST" ? "create" : "update";
    if (!user.policyPrivileges.includes(needed)) return failure(403, "forbidden", "Forbidden");
    let records: PolicyRecord[];
    try {
      records = parsePolicy(request.body.toString("utf8"));
    } catch (error) {
      return failure(422, "validation_failed", (error as Error).message);
    }
    const qualify = (id: string): string => (branch === "root" ? id : `${branch}/${id}`);
    if (request.method === "POST" && records.some((record) => record.tag === "delete"))
      return failure(
        422,
        "validation_failed",
        "Deletions are not allowed when adding to a policy (use PATCH)",
      );
    for (const record of records) {
      if (record.tag !== "delete") continue;
      if (!variables.has(qualify(record.id)))
        return failure(404, "not_found", `Variable '${qualify(record.id)}' not found`);
    }
    const declared = new Set<string>();
    for (const record of records) {
      const id = qualify(record.id);
      if (record.tag === "delete") {
        variables.delete(id);
        continue;
      }
      declared.add(id);
      const existing = variables.get(id);
      if (existing === undefined) {
        variables.set(id, {
          id,
          policy: branch,
          createdAt: new Date().toISOString(),
          annotations: new Map(Object.entries(record.annotations)),
          secrets: [],
          lastVersion: 0,
        });
        continue;
      }
      for (const [name, value] of Object.entries(record.annotations)) {
        // Add mode (POST) adds annotations but never changes one that exists.
        if (request.method === "POST" && existing.annotations.has(name)) continue;
        existing.annotations.set(name, value);
      }
    }
    if (request.method === "PUT") {
      for (const variable of [...variables.values()])
        if (variable.policy === branch && !declared.has(variable.id)) variables.delete(variable.id);
    }
    const version = (policies.get(branch) ?? 0) + 1;
    policies.set(branch, version);
    return { status: 201, body: { created_roles: {}, version } };
  }

  async function handle(request: EmulatorRequest): Promise<EmulatorResponse> {
    const parts = request.rawPath
      .split("/")
      .filter((part) => part !== "")
      .map(decodeURIComponent);
    if (parts[0] === "authn") {
      if (request.method === "GET" && parts.length === 3 && parts[2] === "login")
        return login(request, parts[1] as string);
      if (request.method === "POST" && parts.length === 4 && parts[3] === "authenticate")
        return authenticate(request, parts[1] as string, parts[2] as string);
      return failure(404, "not_found", "No route matches");
    }
    const user = bearer(request);
    if (user === undefined) return unauthorized;
    if (parts[0] === "secrets" && parts.length === 1 && request.method === "GET") return batch(request, user);
    if (parts[0] === "secrets" && parts.length >= 4 && ["GET", "POST"].includes(request.method)) {
      if (parts[1] !== account) return failure(404, "not_found", `Account '${parts[1]}' not found`);
      if (parts[2] !== "variable") return failure(404, "not_found", `Resource not found`);
      return secret(request, user, parts.slice(3).join("/"));
    }
    if (parts[0] === "resources" && request.method === "GET" && parts[1] === account) {
      if (parts.length === 2) return listResources(request, user);
      if (parts.length === 3) {
        request.url.searchParams.set("kind", parts[2] as string);
        return listResources(request, user);
      }
      const id = parts.slice(3).join("/");
      const variable = variables.get(id);
      if (parts[2] !== "variable" || variable === undefined || !user.privileges.includes("read"))
        return notFound(id);
      return { status: 200, body: resourceOf(variable) };
    }
    if (parts[0] === "policies" && parts[1] === account && parts[2] === "policy" && parts.length >= 4) {
      if (!["POST", "PUT", "PATCH"].includes(request.method))
        return failure(405, "method_not_allowed", "Method not allowed");
      return loadPolicy(request, user, parts.slice(3).join("/"));
    }
    return failure(404, "not_found", "No route matches");
  }

  const server = await startHttpEmulator(handle, {
    errorBody: (status) =>
      status === 401
        ? ""
        : { error: { code: status >= 500 ? "internal_error" : "injected", message: `injected ${status}` } },
  });
  return Object.assign(emulator, {
    url: server.url,
    port: server.port,
    faults: server.faults,
    requests: server.requests,
    close: () => server.close(),
    account,
    users,
    variables,
    expireTokens() {
      for (const token of tokens.values()) token.expiresAt = 0;
    },
  });
}

/** One record of a policy document, as far as the emulator understands policies. */
export interface PolicyRecord {
  tag: "variable" | "delete";
  id: string;
  annotations: Record<string, string>;
}

/**
 * Parses the part of Conjur's policy YAML the emulator supports: a sequence of
 * `!variable` records (short form `- !variable id`, or a mapping with `id` and
 * `annotations`) and `!delete` records (`record: !variable id`). Scalars may be
 * plain, single-quoted or double-quoted. Anything else is a validation error.
 */
export function parsePolicy(text: string): PolicyRecord[] {
  const lines = text
    .split(/\r?\n/)
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => line.trim() !== "" && !line.trim().startsWith("#") && line.trim() !== "---");
  const records: PolicyRecord[] = [];
  let current:
    | { tag: string; fields: Record<string, string>; annotations: Record<string, string> }
    | undefined;
  let inAnnotations = -1;
  const finish = (): void => {
    if (current === undefined) return;
    const id = current.tag === "delete" ? current.fields.record : current.fields.id;
    if (current.tag === "delete") {
      const match = /^!variable\s+(.+)$/.exec(id ?? "");
      if (!match) throw new Error("!delete needs `record: !variable <id>`");
      records.push({ tag: "delete", id: scalar(match[1] as string), annotations: {} });
    } else {
      if (id === undefined || id === "") throw new Error("!variable needs an id");
      records.push({ tag: "variable", id: scalar(id), annotations: current.annotations });
    }
    current = undefined;
  };
  for (const { line, number } of lines) {
    const indent = line.length - line.trimStart().length;
    const body = line.trim();
    const item = /^-\s+!(\w+)(?:\s+(.*))?$/.exec(body);
    if (item) {
      finish();
      const tag = item[1] as string;
      if (tag !== "variable" && tag !== "delete")
        throw new Error(`line ${number}: the emulator supports !variable and !delete only, not !${tag}`);
      current = { tag, fields: item[2] === undefined ? {} : { id: item[2] }, annotations: {} };
      inAnnotations = -1;
      continue;
    }
    if (current === undefined)
      throw new Error(`line ${number}: expected a "- !variable" or "- !delete" record`);
    const pair = splitPair(body);
    if (pair === undefined) throw new Error(`line ${number}: expected "key: value"`);
    if (inAnnotations >= 0 && indent > inAnnotations) {
      current.annotations[scalar(pair[0])] = scalar(pair[1]);
      continue;
    }
    inAnnotations = -1;
    const key = scalar(pair[0]);
    if (key === "annotations" && pair[1] === "") inAnnotations = indent;
    else if (["id", "record", "kind", "mime_type", "owner"].includes(key)) current.fields[key] = pair[1];
    else throw new Error(`line ${number}: unknown attribute "${key}"`);
  }
  finish();
  return records;
}

/** Splits `key: value` where the key may be quoted. */
function splitPair(body: string): [string, string] | undefined {
  const quoted = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*')\s*:(?:\s+(.*))?$/.exec(body);
  if (quoted) return [quoted[1] as string, (quoted[2] ?? "").trim()];
  const plain = /^([^:'"][^:]*?)\s*:(?:\s+(.*))?$/.exec(body);
  return plain ? [plain[1] as string, (plain[2] ?? "").trim()] : undefined;
}

const ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\u0085",
  _: "\u00a0",
  L: "\u2028",
  P: "\u2029",
};

/** A YAML scalar: double-quoted (with YAML escapes), single-quoted, or plain. */
function scalar(text: string): string {
  const value = text.trim();
  if (value.startsWith('"')) {
    if (!value.endsWith('"') || value.length < 2)
      throw new Error(`unterminated string ${value.slice(0, 20)}`);
    return value
      .slice(1, -1)
      .replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_all, code: string) => {
        if (code.length > 1) return String.fromCodePoint(Number.parseInt(code.slice(1), 16));
        const escaped = ESCAPES[code];
        if (escaped === undefined) throw new Error(`unknown escape \\${code}`);
        return escaped;
      });
  }
  if (value.startsWith("'")) {
    if (!value.endsWith("'") || value.length < 2)
      throw new Error(`unterminated string ${value.slice(0, 20)}`);
    return value.slice(1, -1).replaceAll("''", "'");
  }
  const hash = value.search(/\s#/);
  return hash < 0 ? value : value.slice(0, hash).trimEnd();
}
