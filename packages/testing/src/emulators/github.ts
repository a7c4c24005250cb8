import { createPublicKey, type KeyObject, randomBytes, verify } from "node:crypto";
import { type EmulatorRequest, type EmulatorResponse, type HttpEmulator, startHttpEmulator } from "./http.ts";

/** Options of {@link startGitHubEmulator}. */
export interface GitHubEmulatorOptions {
  /** Lifetime of an installation access token, in seconds. @default 3600 */
  tokenLifetimeSeconds?: number;
  /** Port to listen on. @default 0 (a random free port) */
  port?: number;
}

/** A GitHub App as the emulator knows it. */
export interface GitHubAppRegistration {
  id: number;
  /** The app's public key (PEM, or a KeyObject): app JWTs must be signed with its private key. */
  publicKey: string | KeyObject;
  /** @default "app-<id>" */
  slug?: string;
}

/** An installation of an app. */
export interface GitHubInstallation {
  id: number;
  appId: number;
  /** Repositories the installation may reach, as full names (`octo/api`). @default [] (with `repositorySelection: "all"`) */
  repositories?: string[];
  /** Permissions granted to the installation. @default { metadata: "read" } */
  permissions?: Record<string, string>;
  /** A suspended installation cannot mint tokens (403). @default false */
  suspended?: boolean;
}

/** A running GitHub REST API emulator (app authentication endpoints only). */
export interface GitHubEmulator extends HttpEmulator {
  addApp(app: GitHubAppRegistration): void;
  addInstallation(installation: GitHubInstallation): void;
  /** Suspends an installation (or lifts the suspension). */
  suspendInstallation(id: number, suspended?: boolean): void;
  removeInstallation(id: number): void;
  /** The installation an access token was minted for, or `undefined` (unknown or expired). */
  installationOf(token: string): number | undefined;
}

const DOCS = "https://docs.github.com/rest";
const CREATE_DOCS = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";

class GitHubError extends Error {
  readonly status: number;
  readonly documentationUrl: string;
  constructor(status: number, message: string, documentationUrl = DOCS) {
    super(message);
    this.status = status;
    this.documentationUrl = documentationUrl;
  }
}

interface App {
  id: number;
  slug: string;
  key: KeyObject;
}

/**
 * Starts an emulator of GitHub's App authentication endpoints on 127.0.0.1:
 * `GET /app` and `POST /app/installations/{id}/access_tokens`, both with an
 * app JWT as `Bearer` (RS256, `iss` the app id, `iat`/`exp` checked as GitHub
 * does: expiring within 10 minutes of the server's clock, not expired, not issued in the future), with
 * GitHub's error bodies `{ message, documentation_url }` and status codes.
 *
 * @example
 * const github = await startGitHubEmulator();
 * github.addApp({ id: 1, publicKey: publicPem });
 * github.addInstallation({ id: 42, appId: 1, repositories: ["octo/repo"] });
 */
export async function startGitHubEmulator(options: GitHubEmulatorOptions = {}): Promise<GitHubEmulator> {
  const lifetime = options.tokenLifetimeSeconds ?? 3600;
  const apps = new Map<number, App>();
  const installations = new Map<number, GitHubInstallation>();
  const tokens = new Map<string, { installation: number; expiresAt: number }>();

  const authenticate = (request: EmulatorRequest): App => {
    const header = request.headers.authorization ?? "";
    const match = /^(?:Bearer|token) (\S+)$/i.exec(header);
    if (match === null) throw new GitHubError(401, "Requires authentication");
    const parts = (match[1] as string).split(".");
    if (parts.length !== 3) throw new GitHubError(401, "A JSON web token could not be decoded");
    const [head, body, signature] = parts as [string, string, string];
    let claims: { iss?: unknown; iat?: unknown; exp?: unknown };
    let alg: unknown;
    try {
      alg = (JSON.parse(Buffer.from(head, "base64url").toString("utf8")) as { alg?: unknown }).alg;
      claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as typeof claims;
    } catch {
      throw new GitHubError(401, "A JSON web token could not be decoded");
    }
    if (alg !== "RS256") throw new GitHubError(401, "A JSON web token could not be decoded");
    const app = apps.get(Number(claims.iss));
    if (app === undefined || (typeof claims.iss !== "string" && typeof claims.iss !== "number")) {
      throw new GitHubError(401, "Integration not found");
    }
    const signed = Buffer.from(`${head}.${body}`);
    if (!verify("sha256", signed, app.key, Buffer.from(signature, "base64url"))) {
      throw new GitHubError(401, "A JSON web token could not be decoded");
    }
    const now = Math.floor(Date.now() / 1000);
    if (typeof claims.iat !== "number" || claims.iat > now + 60) {
      throw new GitHubError(
        401,
        "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
      );
    }
    if (typeof claims.exp !== "number" || claims.exp <= now) {
      throw new GitHubError(
        401,
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
      );
    }
    // GitHub measures the 10 minutes from its own clock, not from iat.
    if (claims.exp > now + 600) {
      throw new GitHubError(401, "'Expiration time' claim ('exp') is too far in the future");
    }
    return app;
  };

  const createToken = (app: App, id: number, request: EmulatorRequest): EmulatorResponse => {
    const installation = installations.get(id);
    if (installation === undefined || installation.appId !== app.id) {
      throw new GitHubError(404, "Not Found", CREATE_DOCS);
    }
    if (installation.suspended === true)
      throw new GitHubError(403, "This installation has been suspended", CREATE_DOCS);
    let wanted: { repositories?: unknown; permissions?: unknown } = {};
    try {
      wanted = request.json<typeof wanted>() ?? {};
    } catch {
      throw new GitHubError(400, "Problems parsing JSON", CREATE_DOCS);
    }
    const granted = installation.permissions ?? { metadata: "read" };
    const available = installation.repositories ?? [];
    // GitHub takes repository names (`api`), not full names: the installation belongs to one account.
    const fullNameOf = (name: string): string | undefined =>
      available.find((full) => full.slice(full.indexOf("/") + 1) === name);
    const repositories = Array.isArray(wanted.repositories) ? wanted.repositories.map(String) : undefined;
    if (repositories?.some((name) => fullNameOf(name) === undefined)) {
      throw new GitHubError(
        422,
        "There is at least one repository that does not exist or is not accessible to the parent installation.",
        CREATE_DOCS,
      );
    }
    let permissions = granted;
    if (typeof wanted.permissions === "object" && wanted.permissions !== null) {
      permissions = wanted.permissions as Record<string, string>;
      for (const [name, level] of Object.entries(permissions)) {
        const has = granted[name];
        if (has === undefined || (has === "read" && level !== "read")) {
          throw new GitHubError(
            422,
            "The permissions requested are not granted to this installation.",
            CREATE_DOCS,
          );
        }
      }
    }
    const token = `ghs_${randomBytes(18).toString("base64url")}`;
    const expiresAt = Date.now() + lifetime * 1000;
    tokens.set(token, { installation: id, expiresAt });
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, "Z"),
        permissions,
        repository_selection: installation.repositories === undefined ? "all" : "selected",
        ...(repositories === undefined
          ? {}
          : { repositories: repositories.map((name) => ({ name, full_name: fullNameOf(name) })) }),
      },
    };
  };

  const handle = (request: EmulatorRequest): EmulatorResponse => {
    const path = request.url.pathname.replace(/\/+$/, "");
    const create = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path);
    if (request.method === "POST" && create !== null) {
      const app = authenticate(request);
      return createToken(app, Number(create[1]), request);
    }
    if (request.method === "GET" && path === "/app") {
      const app = authenticate(request);
      return { status: 200, body: { id: app.id, slug: app.slug, name: app.slug, node_id: `A_${app.id}` } };
    }
    throw new GitHubError(404, "Not Found");
  };

  const emulator = await startHttpEmulator(
    (request) => {
      try {
        return handle(request);
      } catch (error) {
        if (!(error instanceof GitHubError)) throw error;
        return {
          status: error.status,
          body: { message: error.message, documentation_url: error.documentationUrl },
        };
      }
    },
    {
      errorBody: (status) => ({
        message: status >= 500 ? "Server Error" : "Injected error",
        documentation_url: DOCS,
      }),
      ...(options.port === undefined ? {} : { port: options.port }),
    },
  );

  return {
    get url() {
      return emulator.url;
    },
    port: emulator.port,
    faults: emulator.faults,
    requests: emulator.requests,
    close: () => emulator.close(),
    addApp(app) {
      const key = typeof app.publicKey === "string" ? createPublicKey(app.publicKey) : app.publicKey;
      apps.set(app.id, { id: app.id, slug: app.slug ?? `app-${app.id}`, key });
    },
    addInstallation(installation) {
      installations.set(installation.id, { ...installation });
    },
    suspendInstallation(id, suspended = true) {
      const found = installations.get(id);
      if (found !== undefined) found.suspended = suspended;
    },
    removeInstallation(id) {
      installations.delete(id);
      for (const [token, minted] of tokens) if (minted.installation === id) tokens.delete(token);
    },
    installationOf(token) {
      const minted = tokens.get(token);
      return minted !== undefined && minted.expiresAt > Date.now() ? minted.installation : undefined;
    },
  };
}
