import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startVaultEmulator, type VaultEmulator } from "../../src/emulators/vault.ts";

/** The parts of Vault's answers these tests read. */
interface Body {
  request_id?: string;
  lease_duration?: number;
  errors?: string[];
  data: {
    data: Record<string, unknown> | null;
    metadata: { version: number; deletion_time: string; destroyed: boolean; custom_metadata: unknown };
    keys: string[];
    version: number;
    created_time: string;
    deletion_time: string;
    destroyed: boolean;
    custom_metadata: Record<string, string> | null;
    current_version: number;
    oldest_version: number;
    versions: Record<string, { deletion_time: string; destroyed: boolean }>;
    ttl: number;
    renewable: boolean;
    type: string;
    options: { version: string };
    [field: string]: unknown;
  };
  auth: {
    client_token: string;
    accessor: string;
    policies: string[];
    lease_duration: number;
    renewable: boolean;
  };
}

let vault: VaultEmulator;

beforeAll(async () => {
  vault = await startVaultEmulator({
    namespaces: ["team-a"],
    policies: {
      reader: { "secret/data/*": ["read"], "secret/metadata/*": ["list"] },
      partial: { "secret/data/*": ["read", "create", "update"], "secret/data/locked/*": ["deny"] },
    },
    userpass: { users: { Mary: { password: "pw-1", policies: ["reader"], ttl: 60, maxTtl: 100 } } },
    approle: { roles: { jobs: { roleId: "rid", secretIds: ["sid"], policies: ["reader"] } } },
    kubernetes: { roles: { pods: { jwts: ["jwt-ok"], policies: ["reader"] } } },
  });
});
afterAll(() => vault.close());
afterEach(() => {
  vault.faults.reset();
  vi.useRealTimers();
});

const mergePatch = { "X-Vault-Token": "root", "content-type": "application/merge-patch+json" };
let counter = 0;
const unique = (label: string): string => `${label}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { "X-Vault-Token": "root" },
): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${vault.url}/v1/${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === "" ? undefined : JSON.parse(text)) as Body };
}

describe("vault emulator: KV v2", () => {
  it("a write answers the version metadata; a read answers data and metadata in Vault's envelope", async () => {
    const path = unique("app/db");

    const written = await call("POST", `secret/data/${path}`, { data: { password: "p1" } });
    const read = await call("GET", `secret/data/${path}`);

    expect(written.status).toBe(200);
    expect(written.body.data).toMatchObject({
      version: 1,
      deletion_time: "",
      destroyed: false,
      custom_metadata: null,
    });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ lease_id: "", renewable: false, lease_duration: 0, wrap_info: null });
    expect(read.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(read.body.data.data).toEqual({ password: "p1" });
    expect(read.body.data.metadata.version).toBe(1);
  });

  it("a missing path is 404 with an empty errors array", async () => {
    const missing = await call("GET", `secret/data/${unique("nope")}`);

    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ errors: [] });
  });

  it("reads an older version with ?version=N", async () => {
    const path = unique("versions");
    await call("POST", `secret/data/${path}`, { data: { v: "1" } });
    await call("POST", `secret/data/${path}`, { data: { v: "2" } });

    const old = await call("GET", `secret/data/${path}?version=1`);

    expect(old.body.data.data).toEqual({ v: "1" });
    expect(old.body.data.metadata.version).toBe(1);
  });

  it("check-and-set: a stale cas is 400 with Vault's message, the right one writes", async () => {
    const path = unique("cas");
    await call("POST", `secret/data/${path}`, { data: { v: "1" }, options: { cas: 0 } });

    const stale = await call("POST", `secret/data/${path}`, { data: { v: "x" }, options: { cas: 0 } });
    const fresh = await call("POST", `secret/data/${path}`, { data: { v: "2" }, options: { cas: 1 } });

    expect(stale.status).toBe(400);
    expect(stale.body.errors).toEqual(["check-and-set parameter did not match the current version"]);
    expect(fresh.status).toBe(200);
    expect(fresh.body.data.version).toBe(2);
  });

  it("cas_required on a secret's metadata refuses a write without cas", async () => {
    const path = unique("casreq");
    await call("POST", `secret/metadata/${path}`, { cas_required: true });

    const refused = await call("POST", `secret/data/${path}`, { data: { v: "1" } });

    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]).toMatch(/check-and-set parameter required/);
  });

  it("DELETE soft-deletes the latest version: 404 with deletion_time set, undelete restores it", async () => {
    const path = unique("soft");
    await call("POST", `secret/data/${path}`, { data: { v: "1" } });

    const deleted = await call("DELETE", `secret/data/${path}`);
    const gone = await call("GET", `secret/data/${path}`);
    const undeleted = await call("POST", `secret/undelete/${path}`, { versions: [1] });
    const back = await call("GET", `secret/data/${path}`);

    expect(deleted.status).toBe(204);
    expect(gone.status).toBe(404);
    expect(gone.body.data.data).toBeNull();
    expect(gone.body.data.metadata.deletion_time).not.toBe("");
    expect(undeleted.status).toBe(204);
    expect(back.body.data.data).toEqual({ v: "1" });
  });

  it("delete/ and destroy/ take a list of versions; a destroyed version cannot be undeleted", async () => {
    const path = unique("destroy");
    await call("POST", `secret/data/${path}`, { data: { v: "1" } });
    await call("POST", `secret/data/${path}`, { data: { v: "2" } });

    await call("POST", `secret/delete/${path}`, { versions: [1] });
    const firstDeleted = await call("GET", `secret/data/${path}?version=1`);
    await call("PUT", `secret/destroy/${path}`, { versions: [2] });
    await call("POST", `secret/undelete/${path}`, { versions: [2] });
    const destroyed = await call("GET", `secret/data/${path}`);
    const noVersions = await call("POST", `secret/delete/${path}`, {});

    expect(firstDeleted.status).toBe(404);
    expect(destroyed.status).toBe(404);
    expect(destroyed.body.data.metadata.destroyed).toBe(true);
    expect(noVersions.status).toBe(400);
  });

  it("metadata: current/oldest version, versions map, custom_metadata set by POST and merged by PATCH", async () => {
    const path = unique("meta");
    await call("POST", `secret/data/${path}`, { data: { v: "1" } });
    await call("POST", `secret/data/${path}`, { data: { v: "2" } });
    await call("DELETE", `secret/data/${path}`);

    await call("POST", `secret/metadata/${path}`, { custom_metadata: { owner: "ops", env: "prod" } });
    await call("PATCH", `secret/metadata/${path}`, { custom_metadata: { env: null, team: "a" } }, mergePatch);
    const metadata = await call("GET", `secret/metadata/${path}`);
    const read = await call("GET", `secret/data/${path}?version=1`);

    expect(metadata.body.data).toMatchObject({ current_version: 2, oldest_version: 1, max_versions: 0 });
    expect(metadata.body.data.versions["1"]).toMatchObject({ deletion_time: "", destroyed: false });
    expect(metadata.body.data.versions["2"]?.deletion_time).not.toBe("");
    expect(metadata.body.data.custom_metadata).toEqual({ owner: "ops", team: "a" });
    expect(read.body.data.metadata.custom_metadata).toEqual({ owner: "ops", team: "a" });
  });

  it("custom_metadata values past 512 bytes are refused with 400", async () => {
    const refused = await call("POST", `secret/metadata/${unique("big")}`, {
      custom_metadata: { big: "x".repeat(513) },
    });

    expect(refused.status).toBe(400);
  });

  it("keeps 10 versions by default: older ones are gone", async () => {
    const path = unique("max");
    for (let i = 1; i <= 12; i++) await call("POST", `secret/data/${path}`, { data: { i: String(i) } });

    const metadata = await call("GET", `secret/metadata/${path}`);
    const first = await call("GET", `secret/data/${path}?version=1`);

    expect(metadata.body.data).toMatchObject({ current_version: 12, oldest_version: 3 });
    expect(first.status).toBe(404);
  });

  it("DELETE metadata removes every version", async () => {
    const path = unique("purge");
    await call("POST", `secret/data/${path}`, { data: { v: "1" } });

    const deleted = await call("DELETE", `secret/metadata/${path}`);
    const read = await call("GET", `secret/data/${path}?version=1`);
    const metadata = await call("GET", `secret/metadata/${path}`);

    expect(deleted.status).toBe(204);
    expect(read.status).toBe(404);
    expect(metadata.status).toBe(404);
  });

  it("lists a folder with GET ?list=true (or 1): keys, sub-folders ending in /; an empty folder is 404", async () => {
    const folder = unique("list");
    await call("POST", `secret/data/${folder}/a`, { data: { v: "1" } });
    await call("POST", `secret/data/${folder}/sub/b`, { data: { v: "1" } });

    const listed = await call("GET", `secret/metadata/${folder}?list=true`);
    const withSlash = await call("GET", `secret/metadata/${folder}/?list=1`);
    const empty = await call("GET", `secret/metadata/${unique("empty")}/?list=true`);

    expect(listed.body.data.keys).toEqual(["a", "sub/"]);
    expect(withSlash.body.data.keys).toEqual(["a", "sub/"]);
    expect(empty.status).toBe(404);
    expect(empty.body).toEqual({ errors: [] });
  });

  it("PATCH data needs application/merge-patch+json and merges into a new version", async () => {
    const path = unique("patch");
    await call("POST", `secret/data/${path}`, { data: { a: "1", b: "2" } });

    const plainJson = await call("PATCH", `secret/data/${path}`, { data: { b: null } });
    const patched = await call("PATCH", `secret/data/${path}`, { data: { b: null, c: "3" } }, mergePatch);
    const read = await call("GET", `secret/data/${path}`);

    expect(plainJson.status).toBe(415);
    expect(patched.body.data.version).toBe(2);
    expect(read.body.data.data).toEqual({ a: "1", c: "3" });
  });

  it("reports the mount's KV version at sys/internal/ui/mounts", async () => {
    const v2 = await call("GET", "sys/internal/ui/mounts/secret/anything");
    const v1 = await call("GET", "sys/internal/ui/mounts/kv");

    expect(v2.body.data).toMatchObject({ type: "kv", options: { version: "2" } });
    expect(v1.body.data.options.version).toBe("1");
  });
});

describe("vault emulator: KV v1", () => {
  it("writes with 204, reads the data with a lease, lists, deletes", async () => {
    const path = unique("v1");

    const written = await call("POST", `kv/${path}/x`, { password: "p" });
    const read = await call("GET", `kv/${path}/x`);
    const listed = await call("GET", `kv/${path}?list=true`);
    await call("DELETE", `kv/${path}/x`);
    const gone = await call("GET", `kv/${path}/x`);

    expect(written.status).toBe(204);
    expect(read.body.data).toEqual({ password: "p" });
    expect(read.body.lease_duration).toBe(2_764_800);
    expect(listed.body.data.keys).toEqual(["x"]);
    expect(gone.status).toBe(404);
  });
});

describe("vault emulator: auth", () => {
  it("no token or an unknown one is 403 permission denied; Authorization: Bearer works too", async () => {
    const none = await call("GET", "secret/data/x", undefined, {});
    const bad = await call("GET", "secret/data/x", undefined, { "X-Vault-Token": "hvs.nope" });
    const bearer = await call("GET", "secret/data/x", undefined, { Authorization: "Bearer root" });

    expect(none.status).toBe(403);
    expect(none.body).toEqual({ errors: ["permission denied"] });
    expect(bad.status).toBe(403);
    expect(bearer.status).toBe(404);
  });

  it("userpass: login answers auth{client_token, accessor, policies, lease_duration, renewable}; usernames ignore case", async () => {
    const login = await call("POST", "auth/userpass/login/mary", { password: "pw-1" }, {});

    expect(login.status).toBe(200);
    expect(login.body.auth).toMatchObject({
      policies: ["default", "reader"],
      lease_duration: 60,
      renewable: true,
    });
    expect(login.body.auth.client_token).toMatch(/^hvs\./);
    expect(login.body.auth.accessor).toBeTruthy();
  });

  it("userpass: a wrong password is 400 invalid username or password", async () => {
    const login = await call("POST", "auth/userpass/login/Mary", { password: "wrong" }, {});

    expect(login.status).toBe(400);
    expect(login.body.errors).toEqual(["invalid username or password"]);
  });

  it("approle: logs in with role_id and secret_id; a wrong secret_id is 400", async () => {
    const ok = await call("POST", "auth/approle/login", { role_id: "rid", secret_id: "sid" }, {});
    const wrong = await call("POST", "auth/approle/login", { role_id: "rid", secret_id: "bad" }, {});

    expect(ok.body.auth.client_token).toMatch(/^hvs\./);
    expect(wrong.status).toBe(400);
  });

  it("kubernetes: logs in with role and jwt; an unknown role is 400, a rejected jwt 403", async () => {
    const ok = await call("POST", "auth/kubernetes/login", { role: "pods", jwt: "jwt-ok" }, {});
    const role = await call("POST", "auth/kubernetes/login", { role: "nope", jwt: "jwt-ok" }, {});
    const jwt = await call("POST", "auth/kubernetes/login", { role: "pods", jwt: "forged" }, {});

    expect(ok.body.auth.client_token).toMatch(/^hvs\./);
    expect(role.status).toBe(400);
    expect(jwt.status).toBe(403);
  });

  it("lookup-self reports the TTL; renew-self extends it up to the max TTL; an expired token is 403", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const token = (await call("POST", "auth/userpass/login/Mary", { password: "pw-1" }, {})).body.auth
      .client_token;
    const auth = { "X-Vault-Token": token };

    vi.setSystemTime(start + 50_000);
    const lookup = await call("GET", "auth/token/lookup-self", undefined, auth);
    const renewed = await call("POST", "auth/token/renew-self", {}, auth);
    vi.setSystemTime(start + 95_000);
    const capped = await call("POST", "auth/token/renew-self", {}, auth);
    vi.setSystemTime(start + 101_000);
    const expired = await call("GET", "auth/token/lookup-self", undefined, auth);

    expect(lookup.body.data).toMatchObject({ ttl: 10, renewable: true, policies: ["default", "reader"] });
    expect(renewed.body.auth.lease_duration).toBe(50); // min(ttl 60, 100 - 50 left of max TTL)
    expect(capped.body.auth.lease_duration).toBe(5);
    expect(expired.status).toBe(403);
  });

  it("token/create makes a child token within the parent's policies; more is 400", async () => {
    const parent = vault.createToken({ policies: ["reader"] });

    const child = await call(
      "POST",
      "auth/token/create",
      { policies: ["reader"], ttl: "1h" },
      {
        "X-Vault-Token": parent,
      },
    );
    const wider = await call(
      "POST",
      "auth/token/create",
      { policies: ["partial"] },
      { "X-Vault-Token": parent },
    );
    const lookup = await call("GET", "auth/token/lookup-self", undefined, {
      "X-Vault-Token": child.body.auth.client_token,
    });

    expect(child.body.auth).toMatchObject({ policies: ["default", "reader"], lease_duration: 3600 });
    expect(wider.status).toBe(400);
    expect(lookup.body.data.ttl).toBe(3600);
  });

  it("renew-self of a non-renewable token is 400", async () => {
    const token = vault.createToken({ ttl: 60, renewable: false });

    const renewed = await call("POST", "auth/token/renew-self", {}, { "X-Vault-Token": token });

    expect(renewed.status).toBe(400);
  });

  it("policies: a token without the capability gets 403; the most specific path wins; deny beats all", async () => {
    const reader = vault.createToken({ policies: ["reader"] });
    const partial = vault.createToken({ policies: ["partial"] });
    await call("POST", "secret/data/shared/x", { data: { v: "1" } });
    await call("POST", "secret/data/locked/y", { data: { v: "1" } });

    const read = await call("GET", "secret/data/shared/x", undefined, { "X-Vault-Token": reader });
    const write = await call(
      "POST",
      "secret/data/shared/x",
      { data: { v: "2" } },
      { "X-Vault-Token": reader },
    );
    const list = await call("GET", "secret/metadata/shared?list=true", undefined, {
      "X-Vault-Token": reader,
    });
    const metadata = await call("GET", "secret/metadata/shared/x", undefined, { "X-Vault-Token": reader });
    const allowedWrite = await call(
      "POST",
      "secret/data/shared/x",
      { data: { v: "3" } },
      {
        "X-Vault-Token": partial,
      },
    );
    const locked = await call("GET", "secret/data/locked/y", undefined, { "X-Vault-Token": partial });

    expect(read.status).toBe(200);
    expect(write.status).toBe(403);
    expect(write.body).toEqual({ errors: ["permission denied"] });
    expect(list.status).toBe(200);
    expect(metadata.status).toBe(403);
    expect(allowedWrite.status).toBe(200);
    expect(locked.status).toBe(403);
  });
});

describe("vault emulator: namespaces", () => {
  it("X-Vault-Namespace and a path prefix address the same namespace, apart from the root one", async () => {
    const path = unique("ns");
    await call(
      "POST",
      `secret/data/${path}`,
      { data: { v: "team" } },
      {
        "X-Vault-Token": "root",
        "X-Vault-Namespace": "team-a",
      },
    );

    const byPrefix = await call("GET", `team-a/secret/data/${path}`);
    const inRoot = await call("GET", `secret/data/${path}`);
    const unknown = await call("GET", `secret/data/${path}`, undefined, {
      "X-Vault-Token": "root",
      "X-Vault-Namespace": "no-such-namespace",
    });

    expect(byPrefix.body.data.data).toEqual({ v: "team" });
    expect(inRoot.status).toBe(404);
    expect(unknown.status).toBe(404);
  });

  it("a token obtained in a namespace does not work in the root namespace", async () => {
    const login = await call(
      "POST",
      "auth/userpass/login/Mary",
      { password: "pw-1" },
      { "X-Vault-Namespace": "team-a" },
    );
    const token = login.body.auth.client_token;

    const inRoot = await call("GET", "secret/data/anything", undefined, { "X-Vault-Token": token });
    const inTeam = await call("GET", "secret/data/anything", undefined, {
      "X-Vault-Token": token,
      "X-Vault-Namespace": "team-a",
    });

    expect(inRoot.status).toBe(403);
    expect(inTeam.status).toBe(404);
  });
});

describe("vault emulator: faults and request log", () => {
  it("an injected status answers Vault's error body for the next N requests only", async () => {
    vault.faults.failNext(1, 503);

    const failed = await call("GET", "secret/data/x");
    const next = await call("GET", "secret/data/x");

    expect(failed.status).toBe(503);
    expect(failed.body.errors).toHaveLength(1);
    expect(next.status).toBe(404);
  });

  it("a dropped connection rejects the request", async () => {
    vault.faults.dropNext(1);

    await expect(call("GET", "secret/data/x")).rejects.toThrow();
  });

  it("logs each request's method, path and headers", async () => {
    const start = vault.requests.length;

    await call("GET", "secret/data/logged?version=2");

    expect(vault.requests.slice(start)).toEqual([
      expect.objectContaining({ method: "GET", path: "/v1/secret/data/logged" }),
    ]);
  });
});
