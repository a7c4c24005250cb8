import { randomBytes, randomUUID } from "node:crypto";
import { type EmulatorRequest, type EmulatorResponse, type HttpEmulator, startHttpEmulator } from "./http.ts";

/** A policy capability, as in Vault's policy language. */
export type VaultCapability = "create" | "read" | "update" | "patch" | "delete" | "list" | "sudo" | "deny";

/** A policy: path patterns (`secret/data/*`, `secret/data/+/x`) to capabilities. */
export type VaultPolicy = Record<string, VaultCapability[]>;

/** What a login grants: policies and the token's lifetime (seconds). */
export interface VaultGrant {
  /** @default ["default"] */
  policies?: string[];
  /** Lease of the token, in seconds; 0 never expires. @default 2764800 (32 days) */
  ttl?: number;
  /** Longest life of the token across renewals, in seconds; 0 means no limit. @default 2764800 */
  maxTtl?: number;
  /** @default true */
  renewable?: boolean;
}

/** A KV mount. */
export interface VaultMount {
  /** KV engine version. */
  version: 1 | 2;
  /** KV v2: every write must carry `options.cas`. @default false */
  casRequired?: boolean;
  /** KV v2: versions kept per secret. @default 10 */
  maxVersions?: number;
}

/** Options of {@link startVaultEmulator}. */
export interface VaultEmulatorOptions {
  /** The root token (policy `root`, never expires). @default "root" */
  rootToken?: string;
  /** KV mounts by path. @default { secret: { version: 2 }, kv: { version: 1 } } */
  mounts?: Record<string, VaultMount>;
  /** Named policies; `root` allows everything. @default {} */
  policies?: Record<string, VaultPolicy>;
  /**
   * Vault Enterprise namespaces that exist (`team-a`, `team-a/sub`); the root namespace always exists.
   * Each has its own mounts and data; a token works in the namespace it was made in and below it;
   * an undeclared namespace answers 404. Simplification: the auth methods' users and roles and the
   * policies are the same in every namespace (in Vault each namespace configures its own). @default []
   */
  namespaces?: string[];
  /** userpass auth at `auth/<mount>`. */
  userpass?: { mount?: string; users: Record<string, VaultGrant & { password: string }> };
  /** AppRole auth at `auth/<mount>`, roles by name. */
  approle?: { mount?: string; roles: Record<string, VaultGrant & { roleId: string; secretIds: string[] }> };
  /** Kubernetes auth at `auth/<mount>`, roles by name, each with the service-account JWTs it accepts. */
  kubernetes?: { mount?: string; roles: Record<string, VaultGrant & { jwts: string[] }> };
}

/** A token as the emulator keeps it. */
export interface VaultTokenInfo {
  accessor: string;
  policies: string[];
  namespace: string;
  renewable: boolean;
  /** Lease granted at creation or last renewal, in seconds. */
  ttl: number;
  issuedAt: number;
  /** Epoch ms when it stops working; 0 never. */
  expiresAt: number;
  /** Epoch ms past which renewals cannot reach; 0 no limit. */
  maxExpiresAt: number;
}

/** A running Vault emulator. */
export interface VaultEmulator extends HttpEmulator {
  readonly rootToken: string;
  /** Creates a token, as `vault token create` would; returns it. */
  createToken(grant?: VaultGrant & { namespace?: string }): string;
  /** Revokes a token at once (it then gets 403, as an expired one does). */
  revokeToken(token: string): void;
  /** The emulator's view of a token, for assertions. */
  tokenInfo(token: string): VaultTokenInfo | undefined;
  /** Adds or replaces a policy. */
  setPolicy(name: string, policy: VaultPolicy): void;
}

interface Version {
  data: Record<string, unknown>;
  created: string;
  deletionTime: string;
  destroyed: boolean;
}

interface Kv2Entry {
  versions: Map<number, Version>;
  current: number;
  oldest: number;
  maxVersions: number;
  casRequired: boolean;
  customMetadata: Record<string, string> | null;
  created: string;
  updated: string;
}

interface Mount extends VaultMount {
  kv1: Map<string, Record<string, unknown>>;
  kv2: Map<string, Kv2Entry>;
}

type Reply = EmulatorResponse;

const DEFAULT_TTL = 2_764_800;
const TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

const errors = (status: number, ...messages: string[]): Reply => ({ status, body: { errors: messages } });
const denied = (): Reply => errors(403, "permission denied");
const noContent = (): Reply => ({ status: 204 });
const envelope = (fields: Record<string, unknown>): Record<string, unknown> => ({
  request_id: randomUUID(),
  lease_id: "",
  renewable: false,
  lease_duration: 0,
  data: null,
  wrap_info: null,
  warnings: null,
  auth: null,
  ...fields,
});
const ok = (data: unknown, extra: Record<string, unknown> = {}): Reply => ({
  status: 200,
  body: envelope({ data, ...extra }),
});
const now = (): string => new Date().toISOString();
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Starts an in-memory HashiCorp Vault on 127.0.0.1: KV v1 and v2 (data, metadata,
 * delete, undelete, destroy, list as `GET ?list=true`), token, userpass, AppRole
 * and Kubernetes logins, token lookup-self / renew-self with TTLs, namespaces
 * (`X-Vault-Namespace` or a path prefix) and path policies. Errors are
 * `{errors:[...]}` with Vault's status codes.
 *
 * @example
 * const vault = await startVaultEmulator({ userpass: { users: { app: { password: "pw", policies: ["root"] } } } });
 * const client = nodeVault({ endpoint: vault.url, token: vault.rootToken, noCustomHTTPVerbs: true });
 */
export async function startVaultEmulator(options: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
  const rootToken = options.rootToken ?? "root";
  const policies = new Map<string, VaultPolicy>(Object.entries(options.policies ?? {}));
  const namespaces = new Set(["", ...(options.namespaces ?? []).map(trimSlashes)]);
  const mountSpecs = options.mounts ?? { secret: { version: 2 }, kv: { version: 1 } };
  const stores = new Map<string, Map<string, Mount>>();
  const tokens = new Map<string, VaultTokenInfo>();
  const userpassMount = options.userpass?.mount ?? "userpass";
  const approleMount = options.approle?.mount ?? "approle";
  const kubernetesMount = options.kubernetes?.mount ?? "kubernetes";

  const mountsOf = (namespace: string): Map<string, Mount> => {
    let mounts = stores.get(namespace);
    if (mounts === undefined) {
      mounts = new Map(
        Object.entries(mountSpecs).map(([path, spec]) => [
          trimSlashes(path),
          { ...spec, kv1: new Map(), kv2: new Map() },
        ]),
      );
      stores.set(namespace, mounts);
    }
    return mounts;
  };

  function createToken(grant: VaultGrant & { namespace?: string } = {}, forced?: string): string {
    const token = forced ?? `hvs.${randomToken(24)}`;
    const ttl = grant.ttl ?? DEFAULT_TTL;
    const maxTtl = grant.maxTtl ?? DEFAULT_TTL;
    const issuedAt = Date.now();
    tokens.set(token, {
      accessor: randomToken(24),
      // Vault attaches the `default` policy to every token but root ones.
      policies: grant.policies?.includes("root")
        ? ["root"]
        : [...new Set(["default", ...(grant.policies ?? [])])].sort(),
      namespace: trimSlashes(grant.namespace ?? ""),
      renewable: grant.renewable ?? ttl > 0,
      ttl,
      issuedAt,
      expiresAt: ttl > 0 ? issuedAt + ttl * 1000 : 0,
      maxExpiresAt: maxTtl > 0 && ttl > 0 ? issuedAt + maxTtl * 1000 : 0,
    });
    return token;
  }
  createToken({ policies: ["root"], ttl: 0, maxTtl: 0, renewable: false }, rootToken);

  const liveToken = (request: EmulatorRequest): [string, VaultTokenInfo] | undefined => {
    const bearer = /^Bearer\s+(.+)$/i.exec(String(request.headers.authorization ?? ""))?.[1];
    const token = String(request.headers["x-vault-token"] ?? bearer ?? "");
    const info = tokens.get(token);
    if (info === undefined) return undefined;
    if (info.expiresAt !== 0 && Date.now() >= info.expiresAt) {
      tokens.delete(token);
      return undefined;
    }
    return [token, info];
  };

  const login = (grant: VaultGrant, namespace: string, metadata: Record<string, string>): Reply => {
    const token = createToken({ ...grant, namespace });
    return authReply(tokens.get(token) as VaultTokenInfo, token, metadata);
  };

  const authReply = (info: VaultTokenInfo, token: string, metadata: Record<string, string>): Reply =>
    ok(null, {
      auth: {
        client_token: token,
        accessor: info.accessor,
        policies: info.policies,
        token_policies: info.policies,
        metadata,
        lease_duration: info.ttl,
        renewable: info.renewable,
        entity_id: "",
        token_type: "service",
        orphan: true,
        mfa_requirement: null,
        num_uses: 0,
      },
    });

  function handleLogin(path: string, body: Record<string, unknown>, namespace: string): Reply | undefined {
    const userpass = new RegExp(`^auth/${escapeRegExp(userpassMount)}/login/(.+)$`).exec(path);
    if (userpass && options.userpass) {
      // userpass lowercases usernames: Mary and mary are one user.
      const username = (userpass[1] as string).toLowerCase();
      if (typeof body.password !== "string" || body.password === "") return errors(400, "missing password");
      const user = Object.entries(options.userpass.users).find(
        ([name]) => name.toLowerCase() === username,
      )?.[1];
      if (user === undefined || user.password !== body.password)
        return errors(400, "invalid username or password");
      return login(user, namespace, { username });
    }
    if (path === `auth/${approleMount}/login` && options.approle) {
      if (typeof body.role_id !== "string" || body.role_id === "") return errors(400, "missing role_id");
      const found = Object.entries(options.approle.roles).find(([, role]) => role.roleId === body.role_id);
      if (found === undefined) return errors(400, "invalid role or secret ID");
      const [name, role] = found;
      if (typeof body.secret_id !== "string" || !role.secretIds.includes(body.secret_id))
        return errors(400, "invalid role or secret ID");
      return login(role, namespace, { role_name: name });
    }
    if (path === `auth/${kubernetesMount}/login` && options.kubernetes) {
      if (typeof body.role !== "string" || body.role === "") return errors(400, "missing role");
      if (typeof body.jwt !== "string" || body.jwt === "") return errors(400, "missing jwt");
      const role = options.kubernetes.roles[body.role];
      if (role === undefined) return errors(400, `invalid role name "${body.role}"`);
      if (!role.jwts.includes(body.jwt)) return denied();
      return login(role, namespace, { role: body.role });
    }
    return undefined;
  }

  function handleToken(path: string, request: EmulatorRequest, token: string, info: VaultTokenInfo): Reply {
    const remaining = (): number =>
      info.expiresAt === 0 ? 0 : Math.max(0, Math.round((info.expiresAt - Date.now()) / 1000));
    if (path === "auth/token/lookup-self" && (request.method === "GET" || request.method === "POST")) {
      return ok({
        accessor: info.accessor,
        creation_time: Math.floor(info.issuedAt / 1000),
        creation_ttl: info.ttl,
        display_name: "token",
        entity_id: "",
        expire_time: info.expiresAt === 0 ? null : new Date(info.expiresAt).toISOString(),
        explicit_max_ttl: 0,
        id: token,
        issue_time: new Date(info.issuedAt).toISOString(),
        meta: null,
        num_uses: 0,
        orphan: true,
        path: "auth/token/create",
        policies: info.policies,
        renewable: info.renewable,
        ttl: remaining(),
        type: "service",
      });
    }
    if (path === "auth/token/renew-self" && (request.method === "POST" || request.method === "PUT")) {
      if (!info.renewable) return errors(400, "lease is not renewable");
      const body = request.json<{ increment?: number | string }>() ?? {};
      let lease = parseSeconds(body.increment) ?? info.ttl;
      if (info.maxExpiresAt !== 0)
        lease = Math.min(lease, Math.floor((info.maxExpiresAt - Date.now()) / 1000));
      info.ttl = Math.max(0, lease);
      info.expiresAt = Date.now() + info.ttl * 1000;
      return ok(null, {
        auth: {
          client_token: token,
          accessor: info.accessor,
          policies: info.policies,
          token_policies: info.policies,
          lease_duration: info.ttl,
          renewable: info.renewable,
          token_type: "service",
        },
      });
    }
    if (path === "auth/token/revoke-self" && (request.method === "POST" || request.method === "PUT")) {
      tokens.delete(token);
      return noContent();
    }
    if (path === "auth/token/create" && (request.method === "POST" || request.method === "PUT")) {
      const body = request.json<Record<string, unknown>>() ?? {};
      const asked = Array.isArray(body.policies) ? body.policies.map(String) : info.policies;
      // A child token's policies must be a subset of its parent's (root excepted).
      if (!info.policies.includes("root") && asked.some((policy) => !info.policies.includes(policy)))
        return errors(400, "child policies must be subset of parent");
      const ttl = parseSeconds(body.ttl as number | string | undefined);
      const maxTtl = parseSeconds(body.explicit_max_ttl as number | string | undefined);
      const child = createToken({
        policies: asked,
        namespace: info.namespace,
        ...(ttl !== undefined && { ttl }),
        ...(maxTtl !== undefined && { maxTtl }),
        ...(typeof body.renewable === "boolean" && { renewable: body.renewable }),
      });
      return authReply(tokens.get(child) as VaultTokenInfo, child, {});
    }
    return errors(405, "unsupported operation");
  }

  /** Vault's rule: the most specific matching path wins; `deny` beats everything. */
  function allowed(info: VaultTokenInfo, path: string, capability: VaultCapability): boolean {
    if (info.policies.includes("root")) return true;
    let best: { rank: number; caps: Set<VaultCapability> } | undefined;
    for (const name of info.policies) {
      for (const [pattern, caps] of Object.entries(policies.get(name) ?? {})) {
        if (!globMatches(pattern, path)) continue;
        const rank = patternRank(pattern);
        if (best === undefined || rank > best.rank) best = { rank, caps: new Set(caps) };
        else if (rank === best.rank) for (const cap of caps) best.caps.add(cap);
      }
    }
    return best !== undefined && !best.caps.has("deny") && best.caps.has(capability);
  }

  async function handler(request: EmulatorRequest): Promise<Reply> {
    if (!request.rawPath.startsWith("/v1/")) return errors(404, "unsupported path");
    let path = decodeURIComponent(request.rawPath.slice(4));
    let namespace = trimSlashes(String(request.headers["x-vault-namespace"] ?? ""));
    if (!namespaces.has(namespace))
      return errors(404, `no handler for route "${path}". route entry not found.`);
    // A namespace may also lead the path: /v1/team-a/secret/data/x.
    for (;;) {
      const first = path.split("/")[0] as string;
      const candidate = namespace === "" ? first : `${namespace}/${first}`;
      if (first === "" || !namespaces.has(candidate)) break;
      namespace = candidate;
      path = path.slice(first.length + 1);
    }
    const listing =
      request.method === "LIST" || (request.method === "GET" && isTrue(request.url.searchParams.get("list")));

    if (path === "sys/health")
      return { status: 200, body: { initialized: true, sealed: false, standby: false } };
    if (path.startsWith("auth/") && path.includes("/login")) {
      let body: unknown;
      try {
        body = request.json();
      } catch {
        return errors(400, "failed to parse JSON input");
      }
      const reply = handleLogin(path, isObject(body) ? body : {}, namespace);
      if (reply !== undefined) return reply;
    }

    const live = liveToken(request);
    if (live === undefined) return denied();
    const [token, info] = live;
    if (
      !(namespace === info.namespace || info.namespace === "" || namespace.startsWith(`${info.namespace}/`))
    )
      return denied();
    if (path.startsWith("auth/token/")) return handleToken(path, request, token, info);

    if (path.startsWith("sys/internal/ui/mounts/")) {
      const found = findMount(mountsOf(namespace), path.slice("sys/internal/ui/mounts/".length));
      if (found === undefined)
        return errors(
          400,
          `preflight capability check returned 403, please ensure client's policies grant access to path "${path}"`,
        );
      return ok({ type: "kv", path: `${found.name}/`, options: { version: String(found.mount.version) } });
    }

    const found = findMount(mountsOf(namespace), path);
    if (found === undefined) return errors(404, `no handler for route "${path}". route entry not found.`);
    const { name, mount, rest } = found;
    const check = (capability: VaultCapability, policyPath: string): boolean =>
      allowed(info, policyPath, capability);
    let body: unknown;
    try {
      body = request.json();
    } catch {
      return errors(400, "failed to parse JSON input");
    }
    if (mount.version === 1) return kv1(request.method, listing, name, mount, rest, body, check);
    return kv2(request, listing, name, mount, rest, body, check);
  }

  function kv1(
    method: string,
    listing: boolean,
    name: string,
    mount: Mount,
    rest: string,
    body: unknown,
    check: (capability: VaultCapability, path: string) => boolean,
  ): Reply {
    const key = trimSlashes(rest);
    if (listing) {
      if (!check("list", `${name}/${key === "" ? "" : `${key}/`}`)) return denied();
      return listKeys(mount.kv1.keys(), key);
    }
    const full = `${name}/${key}`;
    switch (method) {
      case "GET": {
        if (!check("read", full)) return denied();
        const data = mount.kv1.get(key);
        if (data === undefined) return errors(404);
        return ok(data, { lease_duration: DEFAULT_TTL });
      }
      case "POST":
      case "PUT": {
        if (!check(mount.kv1.has(key) ? "update" : "create", full)) return denied();
        if (key === "") return errors(405, "unsupported operation");
        if (!isObject(body)) return errors(400, "no data provided");
        mount.kv1.set(key, structuredClone(body));
        return noContent();
      }
      case "DELETE":
        if (!check("delete", full)) return denied();
        mount.kv1.delete(key);
        return noContent();
      default:
        return errors(405, "unsupported operation");
    }
  }

  function kv2(
    request: EmulatorRequest,
    listing: boolean,
    name: string,
    mount: Mount,
    rest: string,
    body: unknown,
    check: (capability: VaultCapability, path: string) => boolean,
  ): Reply {
    const slash = rest.indexOf("/");
    const section = slash === -1 ? rest : rest.slice(0, slash);
    const key = slash === -1 ? "" : trimSlashes(rest.slice(slash + 1));
    const full = `${name}/${section}/${key}`;
    const entry = mount.kv2.get(key);
    const method = request.method;
    if (method === "PATCH" && !String(request.headers["content-type"] ?? "").includes("merge-patch+json"))
      return errors(415, "PATCH requires Content-Type of application/merge-patch+json");

    if (section === "config") {
      if (method === "GET") {
        if (!check("read", `${name}/config`)) return denied();
        return ok({
          max_versions: mount.maxVersions ?? 0,
          cas_required: mount.casRequired ?? false,
          delete_version_after: "0s",
        });
      }
      if (!check("update", `${name}/config`)) return denied();
      const input = isObject(body) ? body : {};
      if (typeof input.max_versions === "number") mount.maxVersions = input.max_versions;
      if (typeof input.cas_required === "boolean") mount.casRequired = input.cas_required;
      return noContent();
    }
    if (section === "metadata" && listing) {
      if (!check("list", `${name}/metadata/${key === "" ? "" : `${key}/`}`)) return denied();
      return listKeys(mount.kv2.keys(), key);
    }
    if (key === "") return errors(404, `no handler for route "${name}/${rest}". route entry not found.`);

    switch (`${section} ${method}`) {
      case "data GET": {
        if (!check("read", full)) return denied();
        const wanted = Number(request.url.searchParams.get("version") ?? 0) || entry?.current || 0;
        const version = entry?.versions.get(wanted);
        if (entry === undefined || version === undefined) return errors(404);
        const metadata = versionMetadata(entry, wanted, version);
        if (version.deletionTime !== "" || version.destroyed) {
          return { status: 404, body: envelope({ data: { data: null, metadata } }) };
        }
        return ok({ data: structuredClone(version.data), metadata });
      }
      case "data POST":
      case "data PUT": {
        if (!check(entry === undefined ? "create" : "update", full)) return denied();
        if (!isObject(body) || !isObject(body.data)) return errors(400, "no data provided");
        const cas = isObject(body.options) ? body.options.cas : undefined;
        if (cas === undefined && (mount.casRequired || entry?.casRequired))
          return errors(400, "check-and-set parameter required for this call");
        if (cas !== undefined && Number(cas) !== (entry?.current ?? 0))
          return errors(400, "check-and-set parameter did not match the current version");
        const target = entry ?? newEntry();
        const version = {
          data: structuredClone(body.data),
          created: now(),
          deletionTime: "",
          destroyed: false,
        };
        target.current += 1;
        target.versions.set(target.current, version);
        target.updated = version.created;
        prune(target, mount);
        mount.kv2.set(key, target);
        return ok(versionMetadata(target, target.current, version));
      }
      case "data PATCH": {
        if (!check("patch", full)) return denied();
        const current = entry?.versions.get(entry.current);
        if (entry === undefined || current === undefined || current.deletionTime !== "" || current.destroyed)
          return errors(404);
        if (!isObject(body) || !isObject(body.data)) return errors(400, "no data provided");
        const data = { ...current.data };
        for (const [field, value] of Object.entries(body.data)) {
          if (value === null) delete data[field];
          else data[field] = value;
        }
        const version = { data, created: now(), deletionTime: "", destroyed: false };
        entry.current += 1;
        entry.versions.set(entry.current, version);
        entry.updated = version.created;
        prune(entry, mount);
        return ok(versionMetadata(entry, entry.current, version));
      }
      case "data DELETE": {
        if (!check("delete", full)) return denied();
        const current = entry?.versions.get(entry.current);
        if (current !== undefined && current.deletionTime === "") current.deletionTime = now();
        return noContent();
      }
      case "delete POST":
      case "delete PUT":
      case "undelete POST":
      case "undelete PUT":
      case "destroy POST":
      case "destroy PUT": {
        if (!check("update", full)) return denied();
        const versions = isObject(body) && Array.isArray(body.versions) ? body.versions : undefined;
        if (versions === undefined || versions.length === 0) return errors(400, "no version number provided");
        for (const number of versions) {
          const version = entry?.versions.get(Number(number));
          if (version === undefined) continue;
          if (section === "delete" && version.deletionTime === "") version.deletionTime = now();
          if (section === "undelete" && !version.destroyed) version.deletionTime = "";
          if (section === "destroy") {
            version.destroyed = true;
            version.data = {};
          }
        }
        return noContent();
      }
      case "metadata GET": {
        if (!check("read", full)) return denied();
        if (entry === undefined) return errors(404);
        const versions: Record<string, unknown> = {};
        for (const [number, version] of entry.versions) {
          versions[String(number)] = {
            created_time: version.created,
            deletion_time: version.deletionTime,
            destroyed: version.destroyed,
          };
        }
        return ok({
          cas_required: entry.casRequired,
          created_time: entry.created,
          current_version: entry.current,
          custom_metadata: entry.customMetadata,
          delete_version_after: "0s",
          max_versions: entry.maxVersions,
          oldest_version: entry.oldest,
          updated_time: entry.updated,
          versions,
        });
      }
      case "metadata POST":
      case "metadata PUT":
      case "metadata PATCH": {
        const patch = method === "PATCH";
        if (patch && entry === undefined) return errors(404);
        if (!check(patch ? "patch" : entry === undefined ? "create" : "update", full)) return denied();
        const input = isObject(body) ? body : {};
        const problem = checkCustomMetadata(input.custom_metadata);
        if (problem !== undefined) return errors(400, problem);
        const target = entry ?? newEntry();
        if (typeof input.max_versions === "number") target.maxVersions = input.max_versions;
        if (typeof input.cas_required === "boolean") target.casRequired = input.cas_required;
        if (isObject(input.custom_metadata)) {
          const merged: Record<string, unknown> = patch ? { ...target.customMetadata } : {};
          for (const [field, value] of Object.entries(input.custom_metadata)) {
            if (value === null) delete merged[field];
            else merged[field] = value;
          }
          target.customMetadata = merged as Record<string, string>;
        }
        target.updated = now();
        mount.kv2.set(key, target);
        return noContent();
      }
      case "metadata DELETE":
        if (!check("delete", full)) return denied();
        mount.kv2.delete(key);
        return noContent();
      default:
        return errors(405, "unsupported operation");
    }
  }

  const emulator = await startHttpEmulator(handler, {
    errorBody: (status) => ({
      errors: [status === 429 ? "rate limit quota exceeded" : `injected ${status}`],
    }),
  });
  return {
    get url() {
      return emulator.url;
    },
    get port() {
      return emulator.port;
    },
    faults: emulator.faults,
    requests: emulator.requests,
    close: emulator.close,
    rootToken,
    createToken: (grant) => createToken(grant),
    revokeToken: (token) => {
      tokens.delete(token);
    },
    tokenInfo: (token) => {
      const info = tokens.get(token);
      return info && { ...info };
    },
    setPolicy: (name, policy) => {
      policies.set(name, policy);
    },
  };
}

function newEntry(): Kv2Entry {
  const created = now();
  return {
    versions: new Map(),
    current: 0,
    oldest: 0,
    maxVersions: 0,
    casRequired: false,
    customMetadata: null,
    created,
    updated: created,
  };
}

function prune(entry: Kv2Entry, mount: VaultMount): void {
  const keep = entry.maxVersions || mount.maxVersions || 10;
  for (const number of [...entry.versions.keys()].sort((a, b) => a - b)) {
    if (entry.versions.size <= keep) break;
    entry.versions.delete(number);
  }
  entry.oldest = Math.min(...entry.versions.keys());
}

function versionMetadata(entry: Kv2Entry, number: number, version: Version): Record<string, unknown> {
  return {
    created_time: version.created,
    custom_metadata: entry.customMetadata === null ? null : { ...entry.customMetadata },
    deletion_time: version.deletionTime,
    destroyed: version.destroyed,
    version: number,
  };
}

function checkCustomMetadata(input: unknown): string | undefined {
  if (input === undefined || input === null) return undefined;
  if (!isObject(input)) return "custom_metadata must be a map of strings";
  const entries = Object.entries(input);
  if (entries.length > 64) return "custom_metadata: 64 keys at most";
  for (const [key, value] of entries) {
    if (Buffer.byteLength(key) > 128)
      return `custom_metadata: key "${key.slice(0, 20)}..." is longer than 128 bytes`;
    if (value !== null && typeof value !== "string")
      return `custom_metadata: value of "${key}" must be a string`;
    if (typeof value === "string" && Buffer.byteLength(value) > 512)
      return `custom_metadata: value of "${key}" is longer than 512 bytes`;
  }
  return undefined;
}

function listKeys(paths: Iterable<string>, folder: string): Reply {
  const prefix = folder === "" ? "" : `${folder}/`;
  const keys = new Set<string>();
  for (const path of paths) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const slash = rest.indexOf("/");
    keys.add(slash === -1 ? rest : rest.slice(0, slash + 1));
  }
  if (keys.size === 0) return errors(404);
  return ok({ keys: [...keys].sort() });
}

function findMount(
  mounts: Map<string, Mount>,
  path: string,
): { name: string; mount: Mount; rest: string } | undefined {
  let best: { name: string; mount: Mount; rest: string } | undefined;
  for (const [name, mount] of mounts) {
    if (path === name || path.startsWith(`${name}/`)) {
      if (best === undefined || name.length > best.name.length)
        best = { name, mount, rest: path.slice(name.length + 1) };
    }
  }
  return best;
}

function globMatches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith("*");
  const body = (glob ? pattern.slice(0, -1) : pattern).split("+").map(escapeRegExp).join("[^/]+");
  return new RegExp(`^${body}${glob ? ".*" : ""}$`).test(path);
}

/** Exact paths rank above globs; among globs, the longer literal part wins. */
function patternRank(pattern: string): number {
  const literal = pattern.replaceAll("+", "").replace(/\*$/, "").length;
  return (pattern.endsWith("*") || pattern.includes("+") ? 0 : 100_000) + literal;
}

function parseSeconds(input: number | string | undefined): number | undefined {
  if (typeof input === "number") return input;
  if (typeof input !== "string" || input === "") return undefined;
  const match = /^(\d+)(s|m|h)?$/.exec(input);
  if (!match) return undefined;
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600 }[match[2] ?? "s"] as number);
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, "");
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function isTrue(value: string | null): boolean {
  return value === "true" || value === "1" || value === "t" || value === "TRUE" || value === "True";
}

function randomToken(length: number): string {
  const bytes = randomBytes(length);
  return [...bytes].map((byte) => TOKEN_CHARS[byte % TOKEN_CHARS.length]).join("");
}
