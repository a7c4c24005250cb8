import { readFile } from "node:fs/promises";
import { StrongboxError } from "@strongbox/core";
import {
  isRecord,
  type NodeVaultClient,
  type NodeVaultRequestOptions,
  type VaultHttp,
  type VaultReply,
  VaultRequestError,
} from "./client.ts";

/** How the adapter obtains its Vault token. */
export type VaultAuth =
  | { method: "token"; token: string | undefined }
  | { method: "userpass"; username: string; password: string; mountPath: string }
  | { method: "approle"; roleId: string; secretId: string; mountPath: string }
  | { method: "kubernetes"; role: string; mountPath: string; tokenPath: string };

/** Keeps a valid token on the client: logs in, renews before expiry, logs in again when it is lost. */
export interface VaultSession {
  /** Makes sure a usable token is set before a call. */
  ready(): Promise<void>;
  /** The token calls go out with now. */
  current(): string | undefined;
  /**
   * After a 403 with `stale`: true when a new token is there to retry with (another
   * call already replaced it, or a new login), false when the method cannot log in.
   */
  recover(stale: string | undefined): Promise<boolean>;
}

interface Lease {
  /** Epoch ms when the token expires; undefined when it never does or is unknown. */
  expiresAt: number | undefined;
  /** Length of the last lease, in ms. */
  leaseMs: number;
  renewable: boolean;
}

/** Options of {@link vaultSession}. */
export interface VaultSessionOptions {
  auth: VaultAuth;
  /** Renew tokens before they expire (a static token is looked up first); when false, login methods log in again instead. */
  renew: boolean;
  backend: string;
}

/**
 * The token's life cycle. Renewal happens lazily, before a call, once two thirds
 * of the lease have passed (no timers to leak); a token that cannot be renewed
 * any more, or that Vault refuses, is replaced by logging in again.
 */
export function vaultSession(http: VaultHttp, options: VaultSessionOptions): VaultSession {
  const { auth, backend } = options;
  const client = http.client;
  const canLogin = auth.method !== "token";
  let lease: Lease | undefined;
  let pending: Promise<void> | undefined;

  const denied = (message: string, cause?: unknown): StrongboxError =>
    new StrongboxError("ACCESS_DENIED", message, { backend, operation: "login", cause });

  async function login(): Promise<void> {
    // A stale token on a login request would only confuse the server.
    client.token = undefined;
    const { label, call } = await loginCall(auth, client);
    let reply: VaultReply;
    try {
      reply = await http.send(label, call);
    } catch (error) {
      if (error instanceof VaultRequestError && error.status !== undefined && !error.transient) {
        throw denied(
          `${auth.method} login refused: ${error.errors.join("; ") || `status ${error.status}`}`,
          error,
        );
      }
      throw new StrongboxError("UNAVAILABLE", `${auth.method} login failed`, {
        backend,
        operation: "login",
        cause: error,
      });
    }
    const granted = isRecord(reply.body?.auth) ? reply.body.auth : undefined;
    if (reply.status === 404 || typeof granted?.client_token !== "string") {
      throw denied(
        `${auth.method} login at auth/${mountOf(auth)} returned no token (is the method enabled there?)`,
      );
    }
    client.token = granted.client_token;
    lease = leaseOf(granted.lease_duration, granted.renewable);
  }

  async function lookup(): Promise<void> {
    if (auth.method === "token" && auth.token !== undefined) client.token = auth.token;
    if (!options.renew || client.token === undefined) {
      lease = { expiresAt: undefined, leaseMs: 0, renewable: false };
      return;
    }
    const reply = await guard(() =>
      http.send("GET /v1/auth/token/lookup-self", (requestOptions) =>
        client.tokenLookupSelf({ requestOptions }),
      ),
    );
    const data = isRecord(reply.body?.data) ? reply.body.data : {};
    lease = leaseOf(data.ttl, data.renewable);
  }

  async function renew(): Promise<void> {
    try {
      const reply = await http.send("POST /v1/auth/token/renew-self", (requestOptions) =>
        client.tokenRenewSelf({ requestOptions }),
      );
      const granted = isRecord(reply.body?.auth) ? reply.body.auth : {};
      const next = leaseOf(granted.lease_duration, granted.renewable);
      // A lease cut short by the token's max TTL: log in afresh once it runs low.
      if (canLogin && next.leaseMs < (lease?.leaseMs ?? 0) / 3) return login();
      lease = next;
    } catch (error) {
      if (canLogin && error instanceof VaultRequestError && error.status !== undefined) return login();
      if (lease?.expiresAt !== undefined && Date.now() < lease.expiresAt) return; // still valid: try again later
      throw error instanceof VaultRequestError && error.status === 403
        ? denied("the Vault token expired and cannot be renewed", error)
        : new StrongboxError("UNAVAILABLE", "renewing the Vault token failed", {
            backend,
            operation: "renew",
            cause: error,
          });
    }
  }

  async function guard<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof VaultRequestError && (error.status === 403 || error.status === 401))
        throw denied("the Vault token is invalid or expired", error);
      throw new StrongboxError("UNAVAILABLE", "looking up the Vault token failed", {
        backend,
        operation: "login",
        cause: error,
      });
    }
  }

  function due(): boolean {
    if (lease?.expiresAt === undefined) return false;
    return Date.now() >= lease.expiresAt - lease.leaseMs / 3;
  }

  function once(work: () => Promise<void>): Promise<void> {
    pending ??= work().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  return {
    async ready() {
      if (pending !== undefined) return pending;
      if (lease === undefined) return once(canLogin ? login : lookup);
      if (!due()) return;
      if (lease.renewable && options.renew) return once(renew);
      if (canLogin) return once(login);
    },
    current: () => client.token,
    async recover(stale) {
      if (!canLogin) return false;
      if (pending !== undefined) await pending;
      else if (client.token === stale) await once(login);
      return true;
    },
  };
}

function leaseOf(seconds: unknown, renewable: unknown): Lease {
  const ms = typeof seconds === "number" && seconds > 0 ? seconds * 1000 : 0;
  return { expiresAt: ms > 0 ? Date.now() + ms : undefined, leaseMs: ms, renewable: renewable === true };
}

function mountOf(auth: VaultAuth): string {
  return auth.method === "token" ? "token" : auth.mountPath;
}

/** The login call of a method: node-vault's own where it works, its generic request where it does not. */
async function loginCall(
  auth: VaultAuth,
  client: NodeVaultClient,
): Promise<{ label: string; call: (requestOptions: NodeVaultRequestOptions) => Promise<unknown> }> {
  const mount = mountOf(auth);
  const label = `POST /v1/auth/${mount}/login`;
  switch (auth.method) {
    case "userpass": {
      // node-vault puts the username into the path through an HTML-escaping template: hand it over URL-encoded.
      const username = encodeURIComponent(auth.username).replaceAll("'", "%27");
      return {
        label: `${label}/${username}`,
        call: (requestOptions) =>
          client.userpassLogin({ username, password: auth.password, mount_point: mount, requestOptions }),
      };
    }
    case "approle":
      return {
        label,
        call: (requestOptions) =>
          client.approleLogin({
            role_id: auth.roleId,
            secret_id: auth.secretId,
            mount_point: mount,
            requestOptions,
          }),
      };
    case "kubernetes": {
      // node-vault's kubernetesLogin renders `/auth//login` (bug #300): call the endpoint directly.
      // The service-account token is read at each login: the kubelet rotates it.
      const jwt = (await readFile(auth.tokenPath, "utf8").catch(noTokenFile(auth.tokenPath))).trim();
      return {
        label,
        call: (requestOptions) =>
          client.request({
            path: `/auth/${encodePath(mount)}/login`,
            method: "POST",
            json: { role: auth.role, jwt },
            ...requestOptions,
          }),
      };
    }
    default:
      throw new StrongboxError("INVALID_OPTIONS", "token auth has no login");
  }
}

function noTokenFile(path: string): (error: unknown) => never {
  return (error) => {
    throw new StrongboxError("ACCESS_DENIED", `cannot read the Kubernetes service-account token at ${path}`, {
      backend: "vault",
      operation: "login",
      cause: error,
    });
  };
}

/** Encodes each segment of a `/`-separated path. */
export function encodePath(path: string): string {
  return path
    .split("/")
    .filter((segment) => segment !== "")
    .map(encodeURIComponent)
    .join("/");
}
