import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecretManager, isStrongboxError, type StrongboxError } from "@strongbox/core";
import { testBackend, watchForLeaks } from "@strongbox/testing";
import { startVaultEmulator, type VaultEmulator } from "@strongbox/testing/emulators/vault";
import { fromConfig, type NodeVaultClient, type VaultOptions, vault } from "@strongbox/vault";
import nodeVault from "node-vault";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";

const PASSWORD = "correct-horse-battery-staple";
const ROLE_ID = "role-id-1234";
const SECRET_ID = "secret-id-5678";
const JWT = "eyJhbGciOiJSUzI1NiJ9.service-account.signature";

let emulator: VaultEmulator;
let tokenDir: string;

beforeAll(async () => {
  emulator = await startVaultEmulator({
    namespaces: ["team-a"],
    policies: {
      kv: { "secret/*": ["create", "read", "update", "delete", "list", "patch"] },
      reader: { "secret/data/*": ["read"], "secret/metadata/*": ["read", "list"] },
      // The README's least-privilege policy for the prefix "billing".
      billing: {
        "secret/data/billing/*": ["create", "read", "update", "delete"],
        "secret/metadata/billing/*": ["create", "read", "update", "delete", "list"],
      },
    },
    userpass: {
      users: {
        app: { password: PASSWORD, policies: ["kv"] },
        "ops=team@example.com": { password: PASSWORD, policies: ["kv"] },
        renewer: { password: PASSWORD, policies: ["kv"], ttl: 60, maxTtl: 3600 },
      },
    },
    approle: {
      roles: {
        worker: { roleId: ROLE_ID, secretIds: [SECRET_ID], policies: ["kv"], ttl: 60, maxTtl: 90 },
      },
    },
    kubernetes: { roles: { pods: { jwts: [JWT], policies: ["kv"] } } },
  });
  tokenDir = await mkdtemp(join(tmpdir(), "strongbox-vault-"));
});

afterAll(async () => {
  await emulator.close();
  await rm(tokenDir, { recursive: true, force: true });
});

afterEach(() => {
  emulator.faults.reset();
  vi.useRealTimers();
});

const rootClient = () =>
  nodeVault({ endpoint: emulator.url, token: emulator.rootToken, noCustomHTTPVerbs: true });
const backend = (options: VaultOptions = {}) =>
  vault({ address: emulator.url, token: emulator.rootToken, retryDelay: 1, ...options });
/** The parts of Vault's answers these tests look at. */
interface VaultBody {
  data: { keys: string[]; data: Record<string, unknown>; custom_metadata: Record<string, string> };
}
/** Calls the emulator as Vault's HTTP API, with the root token. */
const raw = async (
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: VaultBody }> => {
  const response = await fetch(`${emulator.url}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": emulator.rootToken, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, json: text === "" ? undefined : JSON.parse(text) };
};
/** Requests received from now on. */
const watchRequests = () => {
  const start = emulator.requests.length;
  return () => emulator.requests.slice(start);
};
const logins = (requests: VaultEmulator["requests"]) => requests.filter((r) => r.path.includes("/login"));
const uniqueKey = (label: string) => `${label}_${Math.random().toString(36).slice(2, 10)}`;

testBackend("vault kv2 (emulator)", () => backend());
testBackend("vault kv1 (emulator)", () =>
  vault({ client: rootClient(), engineVersion: 1, rootEngine: "kv" }),
);
testBackend("vault kv2 with AppRole login (emulator)", () =>
  backend({ token: undefined, appRole: { roleId: ROLE_ID, secretId: SECRET_ID } }),
);
testBackend("vault kv2 under the README's least-privilege policy (emulator)", () =>
  backend({ token: emulator.createToken({ policies: ["billing"] }), prefix: "billing" }),
);

describe("vault: storage layout", () => {
  it("writes the value as the `value` field and the exact ref, tags and description as custom_metadata", async () => {
    const ref = { tenant: "acme", namespace: "billing.db", key: uniqueKey("layout") };
    await backend().put(ref, "s3cret", { tags: { team: "ops" }, description: "the db password" });

    const list = await raw("GET", "secret/metadata/~tacme/~nbilling.db?list=true");
    const metadata = await raw("GET", `secret/metadata/~tacme/~nbilling.db/${ref.key}`);
    const data = await raw("GET", `secret/data/~tacme/~nbilling.db/${ref.key}`);

    expect(list.json.data.keys).toContain(ref.key);
    expect(data.json.data.data).toEqual({ value: "s3cret" });
    const { "strongbox-ref": storedRef, ...rest } = metadata.json.data.custom_metadata;
    expect(JSON.parse(storedRef ?? "")).toEqual(ref);
    expect(rest).toEqual({ "strongbox-description": "the db password", team: "ops" });
  });

  it("splits a description past Vault's 512-byte custom_metadata limit and reads it back whole", async () => {
    const ref = { key: uniqueKey("longdesc") };
    const description = "é".repeat(700);
    await backend().put(ref, "v", { description });

    const metadata = await raw("GET", `secret/metadata/${ref.key}`);
    const secret = await backend().get(ref);

    expect(Object.keys(metadata.json.data.custom_metadata)).toContain("strongbox-description.2");
    expect(secret?.description).toBe(description);
  });

  it("keeps bytes as base64 with the encoding marker", async () => {
    const key = uniqueKey("bytes");
    await backend().put({ key }, new Uint8Array([0, 255, 1]));

    const data = await raw("GET", `secret/data/${key}`);

    expect(data.json.data.data).toEqual({ value: "AP8B", "strongbox-encoding": "base64" });
  });

  it("keeps the tags of an overwrite that gives none, and replaces them when given", async () => {
    const ref = { key: uniqueKey("retag") };
    const store = backend();
    await store.put(ref, "one", { tags: { a: "1" } });

    await store.put(ref, "two");
    const kept = await store.get(ref);
    await store.put(ref, "three", { tags: { b: "2" } });
    const replaced = await store.get(ref);

    expect(kept?.tags).toEqual({ a: "1" });
    expect(replaced?.tags).toEqual({ b: "2" });
  });

  it("lists the exact ref of a key too long for a Vault path (hashed name)", async () => {
    const ref = { namespace: `long.n${uniqueKey("x")}`, key: "k".repeat(700) };
    const store = backend();
    await store.put(ref, "long");

    const listed = [];
    for await (const entry of store.list?.({ namespace: ref.namespace }) ?? []) listed.push(entry.ref);

    expect(listed).toEqual([ref]);
    expect((await store.get(ref))?.value.reveal()).toBe("long");
  });

  it("lists a tenant's secrets across its namespaces and nothing of another tenant", async () => {
    const tenant = uniqueKey("tenant");
    const refs = [
      { tenant, key: "root-level" },
      { tenant, namespace: "a", key: "in-a" },
      { tenant, namespace: "a.b", key: "in-ab" },
    ];
    const store = backend();
    for (const ref of refs) await store.put(ref, "t");
    await store.put({ tenant: `${tenant}-other`, key: "elsewhere" }, "o");

    const listed = [];
    for await (const entry of store.list({ tenant })) listed.push(entry.ref);

    expect(listed).toHaveLength(3);
    expect(listed).toEqual(expect.arrayContaining(refs));
  });

  it("lists only its own secrets, not those of a prefix nested in its own (billing and billing/eu)", async () => {
    const prefix = uniqueKey("nest");
    const outer = backend({ prefix });
    const inner = backend({ prefix: `${prefix}/eu` });
    const ref = { namespace: "co.team", key: "API_KEY" };
    const own = { namespace: "co.team", key: "OWN_KEY" };
    await inner.put(ref, "for-inner");
    await outer.put(own, "for-outer");

    const listedByOuter = [];
    for await (const entry of outer.list()) listedByOuter.push(entry.ref);
    const listedByInner = [];
    for await (const entry of inner.list()) listedByInner.push(entry.ref);

    expect(listedByOuter).toEqual([own]);
    expect(listedByInner).toEqual([ref]);
    expect(await outer.get(ref)).toBeUndefined();
  });

  it("lists its own secret by its path when the stored ref names another path", async () => {
    const prefix = uniqueKey("stale");
    const ref = { namespace: "co.team", key: "API_KEY" };
    await backend({ prefix }).put(ref, "v");
    await raw("POST", `secret/metadata/${prefix}/~nco.team/API_KEY`, {
      custom_metadata: { "strongbox-ref": JSON.stringify({ key: "ELSEWHERE" }) },
    });

    const listed = [];
    for await (const entry of backend({ prefix }).list()) listed.push(entry.ref);

    expect(listed).toEqual([ref]);
  });

  it("in raw naming mode, lists the paths under the prefix as keys", async () => {
    const prefix = uniqueKey("rawlist");
    await raw("POST", `secret/data/${prefix}/db/password`, { data: { value: "p" } });
    await raw("POST", `secret/data/${prefix}/api`, { data: { value: "a" } });

    const listed = [];
    for await (const entry of backend({ naming: "raw", prefix }).list()) listed.push(entry.ref.key);

    expect(listed.sort()).toEqual(["api", "db/password"]);
  });

  it("rejects a tag Vault would refuse (value over 512 bytes) with INVALID_OPTIONS before writing", async () => {
    const key = uniqueKey("bigtag");
    const requests = watchRequests();

    const error = await backend()
      .put({ key }, "v", { tags: { big: "x".repeat(600) } })
      .catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect(requests()).toEqual([]);
  });

  it("reads a secret written by another tool in raw naming mode", async () => {
    await raw("POST", "secret/data/legacy/db", { data: { username: "admin", password: "pw" } });
    await raw("POST", "secret/data/legacy/api", { data: { value: "token-123" } });
    const store = backend({ naming: "raw" });

    const multi = await store.get({ key: "legacy/db" });
    const single = await store.get({ key: "legacy/api" });

    expect(JSON.parse(multi?.value.reveal() ?? "")).toEqual({ username: "admin", password: "pw" });
    expect(single?.value.reveal()).toBe("token-123");
  });
});

describe("vault: versions, check-and-set, delete", () => {
  it("of two writers holding the same version, exactly one wins and the other gets CONFLICT", async () => {
    const ref = { key: uniqueKey("race") };
    const store = backend();
    const first = await store.put(ref, "base");

    const results = await Promise.allSettled([
      store.put(ref, "writer-a", { expectedVersion: first.version ?? null }),
      store.put(ref, "writer-b", { expectedVersion: first.version ?? null }),
    ]);

    const won = results.filter((result) => result.status === "fulfilled");
    const lost = results.filter((result) => result.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isStrongboxError((lost[0] as PromiseRejectedResult).reason, "CONFLICT")).toBe(true);
  });

  it("delete removes every version (the metadata)", async () => {
    const ref = { key: uniqueKey("purge") };
    const store = backend();
    await store.put(ref, "one");
    await store.put(ref, "two");

    const deleted = await store.delete(ref);
    const metadata = await raw("GET", `secret/metadata/${ref.key}`);

    expect(deleted).toBe(true);
    expect(metadata.status).toBe(404);
    expect(await store.get(ref, { version: "1" })).toBeUndefined();
  });

  it("soft delete removes only the latest version, which Vault can undelete", async () => {
    const ref = { key: uniqueKey("soft") };
    const store = backend({ softDelete: true });
    await store.put(ref, "one");
    await store.put(ref, "two");

    const deleted = await store.delete(ref);
    const afterDelete = await store.get(ref);
    const older = await store.get(ref, { version: "1" });
    const again = await store.delete(ref);
    await raw("POST", `secret/undelete/${ref.key}`, { versions: [2] });
    const undeleted = await store.get(ref);

    expect(deleted).toBe(true);
    expect(afterDelete).toBeUndefined();
    expect(older?.value.reveal()).toBe("one");
    expect(again).toBe(false);
    expect(undeleted?.value.reveal()).toBe("two");
  });

  it("after a soft delete, a write 'only if absent' succeeds", async () => {
    const ref = { key: uniqueKey("recreate") };
    const store = backend({ softDelete: true });
    await store.put(ref, "one");
    await store.delete(ref);

    const written = await store.put(ref, "again", { expectedVersion: null });

    expect(written.version).toBe("2");
    expect((await store.get(ref))?.value.reveal()).toBe("again");
  });

  it("KV v1 refuses versions and check-and-set with UNSUPPORTED", async () => {
    const store = vault({ client: rootClient(), engineVersion: 1, rootEngine: "kv" });

    const read = await store.get({ key: "x" }, { version: "1" }).catch((caught: unknown) => caught);
    const write = await store
      .put?.({ key: "x" }, "v", { expectedVersion: null })
      .catch((caught: unknown) => caught);

    expect(isStrongboxError(read, "UNSUPPORTED")).toBe(true);
    expect(isStrongboxError(write, "UNSUPPORTED")).toBe(true);
  });
});

describe("vault: auth", () => {
  it("makes no network call before the first operation", () => {
    const requests = watchRequests();

    backend({ token: undefined, userPass: { username: "app", password: PASSWORD } });

    expect(requests()).toEqual([]);
  });

  it("logs in with userpass and reads", async () => {
    const ref = { key: uniqueKey("userpass") };
    await backend().put(ref, "via-userpass");
    const requests = watchRequests();

    const secret = await backend({ token: undefined, userPass: { username: "app", password: PASSWORD } }).get(
      ref,
    );

    expect(secret?.value.reveal()).toBe("via-userpass");
    expect(logins(requests()).map((r) => r.path)).toEqual(["/v1/auth/userpass/login/app"]);
  });

  it("logs in with a username node-vault's path template would mangle (@, =)", async () => {
    const ref = { key: uniqueKey("email") };
    await backend().put(ref, "via-email-user");

    const secret = await backend({
      token: undefined,
      userPass: { username: "ops=team@example.com", password: PASSWORD },
    }).get(ref);

    expect(secret?.value.reveal()).toBe("via-email-user");
  });

  it("logs in with Kubernetes at auth/kubernetes/login (not node-vault's auth//login) with the token file", async () => {
    const tokenPath = join(tokenDir, "token");
    await writeFile(tokenPath, `${JWT}\n`);
    const ref = { key: uniqueKey("k8s") };
    await backend().put(ref, "via-kubernetes");
    const requests = watchRequests();

    const secret = await backend({ token: undefined, kubernetes: { role: "pods", tokenPath } }).get(ref);

    expect(secret?.value.reveal()).toBe("via-kubernetes");
    expect(logins(requests()).map((r) => r.path)).toEqual(["/v1/auth/kubernetes/login"]);
  });

  it("a wrong password fails with ACCESS_DENIED, never as a missing secret, and the password stays out of the error", async () => {
    const leaks = watchForLeaks(["wrong-password-value"]);
    try {
      const store = backend({
        token: undefined,
        userPass: { username: "app", password: "wrong-password-value" },
      });

      const error = await store.get({ key: "anything" }).catch((caught: unknown) => caught);

      expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
      expect((error as StrongboxError).message).toMatch(/invalid username or password/);
      leaks.check(error, "the login error");
    } finally {
      leaks.stop();
    }
  });

  it("a login that keeps meeting 429 fails with UNAVAILABLE, not ACCESS_DENIED", async () => {
    const store = backend({
      token: undefined,
      userPass: { username: "app", password: PASSWORD },
      maxRetries: 1,
    });
    emulator.faults.failNext(5, 429);

    const error = await store.get({ key: "anything" }).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
  });

  it("a missing Kubernetes token file fails with ACCESS_DENIED", async () => {
    const store = backend({
      token: undefined,
      kubernetes: { role: "pods", tokenPath: join(tokenDir, "absent") },
    });

    const error = await store.get({ key: "anything" }).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
  });

  it("an invalid token fails with ACCESS_DENIED, and the token stays out of the error", async () => {
    const leaks = watchForLeaks(["hvs.not-a-real-token"]);
    try {
      const error = await backend({ token: "hvs.not-a-real-token" })
        .get({ key: "anything" })
        .catch((caught: unknown) => caught);

      expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
      leaks.check(error, "the error");
    } finally {
      leaks.stop();
    }
  });

  it("a token whose policy lacks a capability gets ACCESS_DENIED on that operation only", async () => {
    const ref = { key: uniqueKey("policy") };
    await backend().put(ref, "readable");
    const token = emulator.createToken({ policies: ["reader"] });
    const leaks = watchForLeaks([token]);
    try {
      const store = backend({ token });

      const read = await store.get(ref);
      const write = await store.put(ref, "nope").catch((caught: unknown) => caught);

      expect(read?.value.reveal()).toBe("readable");
      expect(isStrongboxError(write, "ACCESS_DENIED")).toBe(true);
      leaks.check(write, "the ACCESS_DENIED error");
    } finally {
      leaks.stop();
    }
  });

  it("a token lost mid-run (revoked or expired) is re-obtained by logging in again, and the read succeeds", async () => {
    const ref = { key: uniqueKey("relogin") };
    await backend().put(ref, "still-here");
    const store = backend({ token: undefined, userPass: { username: "app", password: PASSWORD } });
    const requests = watchRequests();
    await store.get(ref);
    const first = requests().at(-1)?.headers["x-vault-token"] as string;
    emulator.revokeToken(first);

    const secret = await store.get(ref);

    expect(secret?.value.reveal()).toBe("still-here");
    expect(logins(requests())).toHaveLength(2);
    expect(requests().at(-1)?.headers["x-vault-token"]).not.toBe(first);
  });

  it("a token lost between the data write and the metadata write retries only the metadata write", async () => {
    const real = nodeVault({ endpoint: emulator.url, noCustomHTTPVerbs: true });
    let revoked = false;
    const client: NodeVaultClient = {
      get token() {
        return real.token;
      },
      set token(token) {
        real.token = token as string;
      },
      read: (path, options) => real.read(path, options),
      delete: (path, options) => real.delete(path, options),
      list: (path, options) => real.list(path, options),
      request: (options) => real.request(options),
      userpassLogin: (args) => real.userpassLogin(args),
      approleLogin: (args) => real.approleLogin(args),
      tokenLookupSelf: (args) => real.tokenLookupSelf(args),
      tokenRenewSelf: (args) => real.tokenRenewSelf(args),
      write: (path, data, options) => {
        if (!revoked && path.includes("/metadata/")) {
          revoked = true;
          emulator.revokeToken(real.token);
        }
        return real.write(path, data, options);
      },
    };
    const ref = { key: uniqueKey("between") };
    const store = vault({ client, userPass: { username: "app", password: PASSWORD }, retryDelay: 1 });

    const written = await store.put(ref, "once", { expectedVersion: null, tags: { kept: "yes" } });
    const secret = await store.get(ref);

    expect(revoked).toBe(true);
    expect(written.version).toBe("1");
    expect(secret?.tags).toEqual({ kept: "yes" });
  });

  it("concurrent calls that meet a lost token share one new login", async () => {
    const refs = [1, 2, 3, 4, 5].map((n) => ({ key: uniqueKey(`shared${n}`) }));
    for (const ref of refs) await backend().put(ref, "shared");
    const store = backend({ token: undefined, userPass: { username: "app", password: PASSWORD } });
    const requests = watchRequests();
    await store.get(refs[0] as { key: string });
    emulator.revokeToken(requests().at(-1)?.headers["x-vault-token"] as string);

    const secrets = await Promise.all(refs.map((ref) => store.get(ref)));

    expect(secrets.map((secret) => secret?.value.reveal())).toEqual(refs.map(() => "shared"));
    expect(logins(requests())).toHaveLength(2);
  });

  it("a renewable token is renewed before it expires, so reads go on past its first lease", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ref = { key: uniqueKey("renew") };
    await backend().put(ref, "renewed");
    const store = backend({ token: undefined, userPass: { username: "renewer", password: PASSWORD } });
    const requests = watchRequests();
    await store.get(ref);

    vi.setSystemTime(Date.now() + 45_000);
    await store.get(ref);
    vi.setSystemTime(Date.now() + 45_000); // 90 s in: past the first 60 s lease
    const secret = await store.get(ref);

    expect(secret?.value.reveal()).toBe("renewed");
    expect(logins(requests())).toHaveLength(1);
    expect(requests().filter((r) => r.path === "/v1/auth/token/renew-self")).toHaveLength(2);
  });

  it("a token that reaches its max TTL is replaced by a new login", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const ref = { key: uniqueKey("maxttl") };
    await backend().put(ref, "fresh");
    const store = backend({ token: undefined, appRole: { roleId: ROLE_ID, secretId: SECRET_ID } });
    const requests = watchRequests();
    await store.get(ref);

    vi.setSystemTime(Date.now() + 45_000); // renewed, but only up to the 90 s max TTL
    await store.get(ref);
    vi.setSystemTime(Date.now() + 35_000); // 80 s in: 10 s left, not worth renewing
    const secret = await store.get(ref);

    expect(secret?.value.reveal()).toBe("fresh");
    expect(logins(requests())).toHaveLength(2);
  });

  it("renews a static token after looking up its TTL", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const token = emulator.createToken({ policies: ["kv"], ttl: 60, maxTtl: 600 });
    const store = backend({ token });
    const requests = watchRequests();
    await store.get({ key: uniqueKey("static") });

    vi.setSystemTime(Date.now() + 50_000);
    await store.get({ key: uniqueKey("static") });

    expect(requests().map((r) => r.path)).toContain("/v1/auth/token/lookup-self");
    expect(requests().map((r) => r.path)).toContain("/v1/auth/token/renew-self");
    expect(emulator.tokenInfo(token)?.expiresAt).toBeGreaterThan(Date.now() + 50_000);
  });
});

describe("vault: nothing secret in node-vault's debug output", () => {
  it("with DEBUG=node-vault on, neither the value nor the password reaches the process output", async () => {
    const debug = createRequire(import.meta.url)("debug") as {
      enable(namespaces: string): void;
      disable(): string;
    };
    const value = `debug-canary-${uniqueKey("v")}`;
    const leaks = watchForLeaks([value, PASSWORD]);
    debug.enable("node-vault");
    try {
      const store = backend({ token: undefined, userPass: { username: "app", password: PASSWORD } });

      await store.put({ key: uniqueKey("debug") }, value);
    } finally {
      debug.disable();
      leaks.stop();
    }
  });
});

describe("vault: namespaces", () => {
  it("sends X-Vault-Namespace and keeps namespaces apart", async () => {
    const ref = { key: uniqueKey("ns") };
    const requests = watchRequests();

    await backend({ namespace: "team-a" }).put(ref, "in-team-a");
    const fromTeam = await backend({ namespace: "team-a" }).get(ref);
    const fromRoot = await backend().get(ref);

    expect(fromTeam?.value.reveal()).toBe("in-team-a");
    expect(fromRoot).toBeUndefined();
    expect(requests()[0]?.headers["x-vault-namespace"]).toBe("team-a");
  });

  it("logs in inside the namespace, and the token works there", async () => {
    const ref = { key: uniqueKey("nslogin") };
    await backend({ namespace: "team-a" }).put(ref, "team-secret");
    const requests = watchRequests();

    const secret = await backend({
      namespace: "team-a",
      token: undefined,
      userPass: { username: "app", password: PASSWORD },
    }).get(ref);

    expect(secret?.value.reveal()).toBe("team-secret");
    expect(logins(requests())[0]?.headers["x-vault-namespace"]).toBe("team-a");
  });
});

describe("vault: failures", () => {
  it("a request past the timeout fails with UNAVAILABLE", async () => {
    const store = backend({ renewToken: false, maxRetries: 0, timeout: 20 });
    emulator.faults.latencyMs = 500;

    const error = await store.get({ key: "slow" }).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
  });

  it("retries 5xx and answers once Vault recovers within the retries", async () => {
    const ref = { key: uniqueKey("flaky") };
    await backend().put(ref, "eventually");
    emulator.faults.failNext(2, 503);

    const secret = await backend({ renewToken: false }).get(ref);

    expect(secret?.value.reveal()).toBe("eventually");
  });

  it("5xx beyond the retries fails with UNAVAILABLE after maxRetries + 1 attempts", async () => {
    const store = backend({ renewToken: false, maxRetries: 2 });
    emulator.faults.failNext(10, 500);
    const requests = watchRequests();

    const error = await store.get({ key: "anything" }).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toContain("(3 attempts)");
    expect(requests()).toHaveLength(3);
  });

  it("retries a 429 and a dropped connection", async () => {
    const ref = { key: uniqueKey("drop") };
    await backend().put(ref, "survived");
    emulator.faults.failNext(1, 429);
    const store = backend({ renewToken: false });

    const afterLimit = await store.get(ref);
    emulator.faults.dropNext(1);
    const afterDrop = await store.get(ref);

    expect(afterLimit?.value.reveal()).toBe("survived");
    expect(afterDrop?.value.reveal()).toBe("survived");
  });

  it("a write lost with its connection fails with UNAVAILABLE, and neither token nor value is in the error", async () => {
    const token = emulator.createToken({ policies: ["kv"] });
    const value = `dropped-canary-${uniqueKey("v")}`;
    const leaks = watchForLeaks([token, value]);
    try {
      const store = backend({ token, renewToken: false, maxRetries: 0 });
      emulator.faults.dropNext(1);

      const error = await store.put({ key: uniqueKey("dropped") }, value).catch((caught: unknown) => caught);

      expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
      leaks.check(error, "the UNAVAILABLE error");
    } finally {
      leaks.stop();
    }
  });

  it("a 4xx other than 403/404 is a BACKEND error without retries", async () => {
    const store = backend({ renewToken: false });
    emulator.faults.failNext(1, 400, { errors: ["bad request"] });
    const requests = watchRequests();

    const error = await store.get({ key: "anything" }).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "BACKEND")).toBe(true);
    expect(requests()).toHaveLength(1);
  });
});

describe("vault: options", () => {
  it("fromConfig names the bad field in INVALID_OPTIONS", () => {
    const error = (() => {
      try {
        fromConfig({ token: "t", engineVersion: 3 }, { path: "secret.vault" });
      } catch (caught) {
        return caught;
      }
    })();

    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect((error as Error).message).toContain("secret.vault.engine-version");
  });

  it("refuses two auth methods at once", () => {
    expect(() => vault({ token: "t", appRole: { roleId: "r", secretId: "s" } })).toThrow(/one of token/);
  });

  it("works through createSecretManager from a kebab-case configuration, with the block's default tags", async () => {
    const manager = await createSecretManager({
      secret: {
        type: "vault",
        prefix: "managed",
        vault: {
          address: emulator.url,
          "user-pass": { username: "app", password: PASSWORD },
          "engine-version": 2,
          "root-engine": "secret",
          tags: { application: "billing" },
        },
      },
    });
    const ref = { namespace: "company.team", key: uniqueKey("managed") };

    await manager.put(ref, "through-the-manager", { tags: { team: "ops" } });
    const secret = await manager.get(ref);
    const list = await raw("GET", "secret/metadata/managed?list=true");

    expect(secret?.value.reveal()).toBe("through-the-manager");
    expect(secret?.tags).toEqual({ application: "billing", team: "ops" });
    expect(list.json.data.keys).toContain("~ncompany.team/");
    await manager.close();
  });

  it("fromConfig takes the configuration's prefix, and every path starts with it", async () => {
    const store = fromConfig(
      { address: emulator.url, token: emulator.rootToken, engineVersion: "2" },
      { path: "secret.vault", prefix: "billing" },
    );
    const key = uniqueKey("prefixed");

    await store.put?.({ key }, "p");
    const list = await raw("GET", "secret/metadata/billing?list=true");

    expect(list.json.data.keys).toContain(key);
  });
});
