import { timingSafeEqual } from "node:crypto";
import { type EmulatorRequest, type EmulatorResponse, type HttpEmulator, startHttpEmulator } from "./http.ts";

/** A token the emulator accepts, with what it may do. */
export interface DopplerEmulatorToken {
  /** The bearer token, e.g. `dp.st.dev.xxxx` (service token) or `dp.pt.xxxx` (personal token). */
  token: string;
  /** `read` tokens get 403 on writes. @default "read/write" */
  access?: "read" | "read/write";
  /** A service token is bound to one project and config: others get 403, and both may be left out of requests. */
  project?: string;
  config?: string;
}

/** Options of {@link startDopplerEmulator}. */
export interface DopplerEmulatorOptions {
  /** Tokens accepted. @default [{ token: "dp.pt.emulator" }] (read/write, every config) */
  tokens?: DopplerEmulatorToken[];
  /** Configs that exist, as `project/config`. @default ["strongbox/dev"] */
  configs?: string[];
  /** @default 0 (a random free port) */
  port?: number;
}

/** A secret as the emulator keeps it. */
export interface DopplerEmulatorSecret {
  raw: string;
  note: string;
}

/** A running Doppler emulator. */
export interface DopplerEmulator extends HttpEmulator {
  /** Adds an (empty) config to a project, creating the project when needed. */
  addConfig(project: string, config: string): void;
  /** The secrets of a config (a live map: tests may seed foreign names in it). */
  secrets(project: string, config: string): Map<string, DopplerEmulatorSecret>;
}

const NAME = /^[A-Z_][A-Z0-9_]*$/;
const NAME_RULE =
  "Secret names must start with a letter or underscore and contain only uppercase letters, numbers, and underscores";
const REFERENCE = /\$\{([A-Z_][A-Z0-9_]*)\}/g;

class DopplerError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The error body Doppler sends: `{ messages: [...], success: false }`. */
export function dopplerErrorBody(status: number, message?: string): { messages: string[]; success: false } {
  const fallback: Record<number, string> = {
    400: "Bad request",
    401: "Invalid Auth token",
    403: "This token does not have access to requested resource",
    404: "Not found",
    429: "Too many requests. Please try again later.",
    500: "Internal server error",
    503: "Service unavailable",
  };
  return { messages: [message ?? fallback[status] ?? `HTTP ${status}`], success: false };
}

/**
 * Starts an in-memory Doppler API v3 speaking the secrets endpoints: list
 * (`GET /v3/configs/config/secrets`), retrieve and delete (`/v3/configs/config/secret`),
 * update (`POST /v3/configs/config/secrets`, with `secrets` or `change_requests`),
 * names (`GET .../secrets/names`) and notes (`POST .../secrets/note`). Errors are
 * `{ messages, success: false }`; every call needs a bearer token. The `computed`
 * value expands `${NAME}` references, as Doppler does; `raw` is the value as written.
 *
 * @example
 * const doppler = await startDopplerEmulator({ configs: ["billing/prd"] });
 */
export async function startDopplerEmulator(options: DopplerEmulatorOptions = {}): Promise<DopplerEmulator> {
  const tokens = options.tokens ?? [{ token: "dp.pt.emulator" }];
  const configs = new Map<string, Map<string, DopplerEmulatorSecret>>();
  for (const entry of options.configs ?? ["strongbox/dev"]) configs.set(entry, new Map());

  function authenticate(request: EmulatorRequest): DopplerEmulatorToken {
    const header = request.headers.authorization ?? "";
    const [scheme, token] = header.split(" ", 2);
    const found =
      scheme?.toLowerCase() === "bearer" && token !== undefined
        ? tokens.find(
            (candidate) =>
              candidate.token.length === token.length &&
              timingSafeEqual(Buffer.from(candidate.token), Buffer.from(token)),
          )
        : undefined;
    if (found === undefined) throw new DopplerError(401, "Invalid Auth token");
    return found;
  }

  /** The secrets of the config a request names (query or JSON body), after the token's checks. */
  function configOf(
    request: EmulatorRequest,
    token: DopplerEmulatorToken,
    body: Record<string, unknown>,
    write: boolean,
  ): Map<string, DopplerEmulatorSecret> {
    const param = (name: string): string | undefined => {
      const value = request.url.searchParams.get(name) ?? body[name];
      return typeof value === "string" && value !== "" ? value : undefined;
    };
    const project = param("project") ?? token.project;
    const config = param("config") ?? token.config;
    if (project === undefined) throw new DopplerError(400, "Missing project");
    if (config === undefined) throw new DopplerError(400, "Missing config");
    if (
      (token.project !== undefined && token.project !== project) ||
      (token.config !== undefined && token.config !== config)
    ) {
      throw new DopplerError(403, "This token does not have access to requested config");
    }
    if (![...configs.keys()].some((key) => key.startsWith(`${project}/`))) {
      throw new DopplerError(404, "Could not find requested project");
    }
    const secrets = configs.get(`${project}/${config}`);
    if (secrets === undefined) throw new DopplerError(404, "Could not find requested config");
    if (write && token.access === "read")
      throw new DopplerError(403, "This token does not have write access");
    return secrets;
  }

  const view = (secrets: Map<string, DopplerEmulatorSecret>, secret: DopplerEmulatorSecret) => ({
    raw: secret.raw,
    computed: secret.raw.replace(REFERENCE, (match, name: string) => secrets.get(name)?.raw ?? match),
    note: secret.note,
    rawVisibility: "masked",
    computedVisibility: "masked",
  });

  /** Doppler adds these to every config; list and names show them unless asked not to. */
  const withManaged = (
    request: EmulatorRequest,
    secrets: Map<string, DopplerEmulatorSecret>,
    project: string,
    config: string,
  ) => {
    const all = new Map(secrets);
    if (request.url.searchParams.get("include_managed_secrets") !== "false") {
      all.set("DOPPLER_PROJECT", { raw: project, note: "" });
      all.set("DOPPLER_ENVIRONMENT", { raw: config.split("_")[0] ?? config, note: "" });
      all.set("DOPPLER_CONFIG", { raw: config, note: "" });
    }
    return all;
  };

  function handle(request: EmulatorRequest): EmulatorResponse {
    const token = authenticate(request);
    let body: Record<string, unknown>;
    try {
      body = request.json<Record<string, unknown>>() ?? {};
    } catch {
      throw new DopplerError(400, "Invalid JSON body");
    }
    const path = request.rawPath.replace(/\/+$/, "");
    const method = request.method;
    const scopeOf = () => ({
      project: (request.url.searchParams.get("project") ?? body.project ?? token.project) as string,
      config: (request.url.searchParams.get("config") ?? body.config ?? token.config) as string,
    });

    if (path === "/v3/configs/config/secrets" && method === "GET") {
      const secrets = configOf(request, token, body, false);
      const { project, config } = scopeOf();
      const only = request.url.searchParams.get("secrets")?.split(",");
      const all = withManaged(request, secrets, project, config);
      const out: Record<string, unknown> = {};
      for (const [name, secret] of all)
        if (only === undefined || only.includes(name)) out[name] = view(all, secret);
      return ok({ secrets: out });
    }
    if (path === "/v3/configs/config/secrets/names" && method === "GET") {
      const secrets = configOf(request, token, body, false);
      const { project, config } = scopeOf();
      return ok({ names: [...withManaged(request, secrets, project, config).keys()] });
    }
    if (path === "/v3/configs/config/secret" && method === "GET") {
      const secrets = configOf(request, token, body, false);
      const name = request.url.searchParams.get("name");
      if (name === null || name === "") throw new DopplerError(400, "Missing name");
      const secret = secrets.get(name);
      if (secret === undefined) throw new DopplerError(404, "Could not find requested secret");
      return ok({ name, value: view(secrets, secret) });
    }
    if (path === "/v3/configs/config/secret" && method === "DELETE") {
      const secrets = configOf(request, token, body, true);
      const name = request.url.searchParams.get("name") ?? body.name;
      if (typeof name !== "string" || name === "") throw new DopplerError(400, "Missing name");
      if (!secrets.delete(name)) throw new DopplerError(404, "Could not find requested secret");
      return ok({});
    }
    if (path === "/v3/configs/config/secrets" && method === "POST") {
      const secrets = configOf(request, token, body, true);
      if ((body.secrets === undefined) === (body.change_requests === undefined)) {
        throw new DopplerError(400, "Either secrets or change_requests is required (can't use both)");
      }
      const next = new Map(secrets);
      if (body.secrets !== undefined) applySecrets(next, body.secrets);
      else applyChangeRequests(next, body.change_requests);
      secrets.clear();
      for (const [name, secret] of next) secrets.set(name, secret);
      const out: Record<string, unknown> = {};
      for (const [name, secret] of secrets) out[name] = view(secrets, secret);
      return ok({ secrets: out });
    }
    if (path === "/v3/configs/config/secrets/note" && method === "POST") {
      const secrets = configOf(request, token, body, true);
      const { secret: name, note } = body;
      if (typeof name !== "string" || name === "") throw new DopplerError(400, "Missing secret");
      if (typeof note !== "string") throw new DopplerError(400, "Missing note");
      const secret = secrets.get(name);
      if (secret === undefined) throw new DopplerError(404, "Could not find requested secret");
      secret.note = note;
      return ok({ secret: name, note });
    }
    throw new DopplerError(404, "Not found");
  }

  const emulator = await startHttpEmulator(
    (request) => {
      try {
        return handle(request);
      } catch (error) {
        if (!(error instanceof DopplerError)) throw error;
        return { status: error.status, body: dopplerErrorBody(error.status, error.message) };
      }
    },
    {
      port: options.port,
      errorBody: (status) => dopplerErrorBody(status),
      // Some clients send a DELETE body without framing; answer nothing to the stray bytes.
      onClientError: (_error, socket) => socket.destroy(),
    },
  );
  return Object.assign(emulator, {
    addConfig(project: string, config: string) {
      if (!configs.has(`${project}/${config}`)) configs.set(`${project}/${config}`, new Map());
    },
    secrets(project: string, config: string) {
      const found = configs.get(`${project}/${config}`);
      if (found === undefined) throw new Error(`no config ${project}/${config}`);
      return found;
    },
  });
}

function ok(body: Record<string, unknown>): EmulatorResponse {
  return { status: 200, body: { ...body, success: true } };
}

function checkName(name: string): void {
  if (!NAME.test(name)) throw new DopplerError(400, `${NAME_RULE}: ${name}`);
}

/** The `secrets` form: `{ NAME: value }`; a `null` value deletes the secret. */
function applySecrets(secrets: Map<string, DopplerEmulatorSecret>, input: unknown): void {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new DopplerError(400, "secrets must be an object");
  }
  for (const [name, value] of Object.entries(input)) {
    if (value === null) {
      secrets.delete(name);
      continue;
    }
    checkName(name);
    if (typeof value !== "string") throw new DopplerError(400, `Secret value for ${name} must be a string`);
    const existing = secrets.get(name);
    secrets.set(name, { raw: value, note: existing?.note ?? "" });
  }
}

/** The `change_requests` form: adds, updates, renames and deletes, with optional preconditions. */
function applyChangeRequests(secrets: Map<string, DopplerEmulatorSecret>, input: unknown): void {
  if (!Array.isArray(input)) throw new DopplerError(400, "change_requests must be an array");
  for (const change of input as Record<string, unknown>[]) {
    const name = change.name;
    if (typeof name !== "string") throw new DopplerError(400, "change_requests[].name is required");
    const originalName = (change.originalName ?? null) as string | null;
    const current = originalName === null ? undefined : secrets.get(originalName);
    if (originalName !== null && current === undefined) {
      throw new DopplerError(400, `Could not find secret ${originalName} to update`);
    }
    // Doppler documents that originalValue makes the change conditional, not the status of a
    // refusal: a 400 like its other validation errors is this emulator's assumption.
    if (change.originalValue !== undefined && (current?.raw ?? null) !== change.originalValue) {
      throw new DopplerError(400, `Secret ${name} was modified since it was read`);
    }
    if (change.shouldDelete === true) {
      secrets.delete(name);
      continue;
    }
    checkName(name);
    const value = change.value ?? current?.raw;
    if (typeof value !== "string") throw new DopplerError(400, `Secret value for ${name} must be a string`);
    if (originalName !== null && originalName !== name) secrets.delete(originalName);
    secrets.set(name, { raw: value, note: current?.note ?? "" });
  }
}
