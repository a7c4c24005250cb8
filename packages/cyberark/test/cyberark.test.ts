import { createSecretManager, isStrongboxError, type SecretBackend, SecretValue } from "@strongbox/core";
import { recordRetryDelays, rejectionOf, testBackend, watchForLeaks } from "@strongbox/testing";
import { type ConjurEmulator, startConjurEmulator } from "@strongbox/testing/emulators/cyberark";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type CyberArkOptions, cyberark, fromConfig } from "../src/index.ts";

let conjur: ConjurEmulator;

beforeAll(async () => {
  conjur = await startConjurEmulator({
    account: "acme",
    users: [
      { login: "admin", password: "Admin-Password1", apiKey: "admin-api-key" },
      { login: "host/app", apiKey: "app-api-key", policyPrivileges: [] },
      { login: "host/viewer", apiKey: "viewer-api-key", privileges: ["read"], policyPrivileges: [] },
      { login: "rotating", password: "Rotating-Password1", apiKey: "rotating-api-key-1" },
    ],
    policies: ["apps/strongbox"],
  });
});
afterAll(() => conjur.close());
afterEach(() => {
  conjur.faults.reset();
  conjur.tokenTtlMs = 8 * 60_000;
  vi.useRealTimers();
});

const backend = (extra: Partial<CyberArkOptions> = {}): SecretBackend =>
  cyberark({
    address: conjur.url,
    account: "acme",
    username: "admin",
    apiKey: "admin-api-key",
    retryDelay: 1,
    ...extra,
  } as CyberArkOptions);

const count = (path: RegExp, from = 0): number =>
  conjur.requests.slice(from).filter((request) => path.test(request.path)).length;
const AUTHENTICATE = /\/authenticate$/;

testBackend("cyberark (emulator)", () => backend(), { rejectsEmptyValue: true });
testBackend(
  "cyberark (emulator, password login, policy branch)",
  () =>
    backend({
      apiKey: undefined,
      password: "Admin-Password1",
      policyBranch: "apps/strongbox",
      prefix: "kestra",
    }),
  { rejectsEmptyValue: true },
);

describe("cyberark adapter", () => {
  it("creates a variable by loading a policy with its annotations, then writes versions", async () => {
    const ref = { tenant: "acme", namespace: "billing", key: "DB_PASSWORD" };
    await backend().put?.(ref, "one", { tags: { application: "billing" }, description: "the db" });
    await backend().put?.(ref, "two");

    const variable = [...conjur.variables.values()].find((candidate) => candidate.id.endsWith("DB_PASSWORD"));
    const secret = await backend().get(ref);

    expect(Object.fromEntries(variable?.annotations ?? [])).toMatchObject({
      application: "billing",
      description: "the db",
    });
    expect(JSON.parse(variable?.annotations.get("strongbox/ref") ?? "{}")).toEqual(ref);
    expect(variable?.secrets.map((version) => version.value.toString())).toEqual(["one", "two"]);
    expect(secret?.version).toBe("2");
    expect(secret?.tags).toEqual({ application: "billing" });
    expect((await backend().get(ref, { version: "1" }))?.value.reveal()).toBe("one");
  });

  it("a dropped tag is gone after an update, though Conjur cannot delete an annotation", async () => {
    const ref = { key: "retagged" };
    await backend().put?.(ref, "v", { tags: { keep: "1", drop: "2" } });

    await backend().put?.(ref, "v2", { tags: { keep: "1" } });

    expect((await backend().get(ref))?.tags).toEqual({ keep: "1" });
  });

  it("a tag named like a reserved annotation fails with INVALID_NAME before any call", async () => {
    const before = conjur.requests.length;

    const error = await rejectionOf(
      backend().put?.({ key: "reserved" }, "x", { tags: { "strongbox/ref": "x" } }),
    );

    expect(isStrongboxError(error, "INVALID_NAME")).toBe(true);
    expect(conjur.requests.length).toBe(before);
  });

  it("bytes are refused with UNSUPPORTED before any call, since Conjur keeps text only", async () => {
    const store = backend();
    const before = conjur.requests.length;

    const fromBytes = await rejectionOf(store.put?.({ key: "KEYSTORE" }, new Uint8Array([0x00, 0xff, 0x80])));
    const fromValue = await rejectionOf(
      store.put?.({ key: "KEYSTORE" }, SecretValue.from(new Uint8Array([0x68, 0x69]))),
    );

    expect(isStrongboxError(fromBytes, "UNSUPPORTED")).toBe(true);
    expect(isStrongboxError(fromValue, "UNSUPPORTED")).toBe(true);
    expect(conjur.requests.length).toBe(before);
  });

  it("reads many secrets in one batch call, and falls back to single reads when one is missing", async () => {
    const refs = [{ key: "batch-a" }, { key: "batch-b" }, { namespace: "n", key: "batch-c" }];
    for (const ref of refs) await backend().put?.(ref, `value of ${ref.key}`);
    const before = conjur.requests.length;

    const all = await backend().getMany?.(refs);
    const batchCalls = count(/^\/secrets$/, before);
    const singleReads = count(/^\/secrets\/acme\//, before);
    const some = await backend().getMany?.([...refs, { key: "batch-missing" }]);

    expect(batchCalls).toBe(1);
    expect(singleReads).toBe(0);
    expect([...(all?.values() ?? [])].map((secret) => secret.value.reveal()).sort()).toEqual(
      ["value of batch-a", "value of batch-b", "value of batch-c"].sort(),
    );
    expect(some?.size).toBe(3);
  });

  it("getMany reads each variable's resource at most 8 at a time, once per distinct ref", async () => {
    const refs = Array.from({ length: 20 }, (_, index) => ({ namespace: "burst", key: `k${index}` }));
    for (const ref of refs) await backend().put?.(ref, `v-${ref.key}`);
    let inFlight = 0;
    let peak = 0;
    let resourceReads = 0;
    const counting = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const reading = String(input).includes("/resources/");
      if (reading) {
        resourceReads += 1;
        inFlight += 1;
        peak = Math.max(peak, inFlight);
      }
      try {
        return await fetch(input, init);
      } finally {
        if (reading) inFlight -= 1;
      }
    };

    const found = await backend({ fetch: counting }).getMany?.([...refs, ...refs.slice(0, 5)]);

    expect(found?.size).toBe(20);
    expect(peak).toBeLessThanOrEqual(8);
    expect(resourceReads).toBe(20);
  });

  it("a token that expires mid-run is renewed once and the read succeeds", async () => {
    const store = backend();
    await store.put?.({ key: "renewed" }, "still here");
    conjur.expireTokens();
    const before = conjur.requests.length;

    const secret = await store.get({ key: "renewed" });

    expect(secret?.value.reveal()).toBe("still here");
    expect(count(AUTHENTICATE, before)).toBe(1);
  });

  it("renews the token shortly before its 8 minutes are up, without waiting for a 401", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = backend();
    await store.put?.({ key: "proactive" }, "fresh");
    vi.setSystemTime(Date.now() + 7.5 * 60_000);
    const before = conjur.requests.length;

    await store.get({ key: "proactive" });

    expect(count(AUTHENTICATE, before)).toBe(1);
    expect(conjur.requests.length - before).toBe(3); // authenticate, resource, secret: no 401 round trip
  });

  it("keeps using a cached token while it is fresh", async () => {
    const store = backend();
    await store.put?.({ key: "cached" }, "x");
    const before = conjur.requests.length;

    await store.get({ key: "cached" });
    await store.get({ key: "cached" });

    expect(count(AUTHENTICATE, before)).toBe(0);
  });

  it("concurrent first calls share one authentication", async () => {
    await backend().put?.({ key: "shared" }, "x");
    const store = backend();
    const before = conjur.requests.length;

    await Promise.all(Array.from({ length: 10 }, () => store.get({ key: "shared" })));

    expect(count(AUTHENTICATE, before)).toBe(1);
  });

  it("with a password, an API key rotated since the login is replaced by logging in again", async () => {
    const store = backend({ username: "rotating", apiKey: undefined, password: "Rotating-Password1" });
    await store.put?.({ key: "rotated" }, "still readable");
    const user = conjur.users.find((candidate) => candidate.login === "rotating");
    if (user === undefined) throw new Error("no rotating user");
    user.apiKey = "rotating-api-key-2";
    conjur.expireTokens();
    const before = conjur.requests.length;

    const secret = await store.get({ key: "rotated" });

    expect(secret?.value.reveal()).toBe("still readable");
    expect(count(/^\/authn\/acme\/login$/, before)).toBe(1);
  });

  it("a 401 after renewal fails with ACCESS_DENIED", async () => {
    conjur.tokenTtlMs = 0; // every token the emulator issues is already expired

    const error = await rejectionOf(backend().get({ key: "anything" }));

    expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
    expect((error as Error).message).toContain("after renewal");
  });

  it("a wrong API key or password fails with ACCESS_DENIED, not as a missing secret", async () => {
    const byKey = await rejectionOf(backend({ apiKey: "wrong" }).get({ key: "x" }));
    const byPassword = await rejectionOf(backend({ apiKey: undefined, password: "wrong" }).get({ key: "x" }));

    expect(isStrongboxError(byKey, "ACCESS_DENIED")).toBe(true);
    expect(isStrongboxError(byPassword, "ACCESS_DENIED")).toBe(true);
  });

  it("a role without execute gets ACCESS_DENIED (403) on a read", async () => {
    await backend().put?.({ key: "guarded" }, "x");

    const error = await rejectionOf(
      backend({ username: "host/viewer", apiKey: "viewer-api-key" }).get({ key: "guarded" }),
    );

    expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
    expect((error as Error).message).toContain("403");
  });

  describe("manageVariables: false", () => {
    const app = (): SecretBackend =>
      backend({ username: "host/app", apiKey: "app-api-key", manageVariables: false });

    it("writes values of variables that exist, without any policy load", async () => {
      await backend().put?.({ key: "existing" }, "by admin", { tags: { team: "ops" } });
      const before = conjur.requests.length;

      await app().put?.({ key: "existing" }, "by app");

      expect((await app().get({ key: "existing" }))?.value.reveal()).toBe("by app");
      expect(count(/^\/policies\//, before)).toBe(0);
    });

    it("put on a missing variable fails clearly, and never loads a policy", async () => {
      const before = conjur.requests.length;

      const error = await rejectionOf(app().put?.({ key: "never-declared" }, "x"));

      expect(isStrongboxError(error, "NOT_FOUND")).toBe(true);
      expect((error as Error).message).toMatch(/manageVariables is false/);
      expect(count(/^\/policies\//, before)).toBe(0);
    });

    it("put that would change annotations fails with UNSUPPORTED before writing the value", async () => {
      await backend().put?.({ key: "annotated" }, "v1", { tags: { team: "ops" } });

      const error = await rejectionOf(app().put?.({ key: "annotated" }, "v2", { tags: { team: "dev" } }));

      expect(isStrongboxError(error, "UNSUPPORTED")).toBe(true);
      expect((await backend().get({ key: "annotated" }))?.value.reveal()).toBe("v1");
    });

    it("has no delete, so the manager reports UNSUPPORTED", () => {
      expect(app().delete).toBeUndefined();
      expect(backend().delete).toBeTypeOf("function");
    });
  });

  it("a policy load refused for lack of privilege is ACCESS_DENIED", async () => {
    const error = await rejectionOf(
      backend({ username: "host/app", apiKey: "app-api-key" }).put?.({ key: "new" }, "x"),
    );

    expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
  });

  it("retries a 5xx and succeeds when the server recovers; gives up with UNAVAILABLE", async () => {
    const store = backend({ retries: 2 });
    await store.put?.({ key: "flaky" }, "steady");
    conjur.faults.failNext(2, 503);
    const recovered = await store.get({ key: "flaky" });
    conjur.faults.failNext(10, 500);
    const before = conjur.requests.length;

    const error = await rejectionOf(store.get({ key: "flaky" }));

    expect(recovered?.value.reveal()).toBe("steady");
    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect(conjur.requests.length - before).toBe(3);
  });

  it("caps each wait between retries at 20 s, however long the configured first delay", async () => {
    const unavailable = async (): Promise<Response> => new Response("down", { status: 503 });
    const store = backend({ retries: 2, retryDelay: "1h", fetch: unavailable });

    let error: unknown;
    const delays = await recordRetryDelays(async () => {
      error = await rejectionOf(store.get({ key: "capped" }));
    });

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect(delays).toEqual([20_000, 20_000]);
  });

  it("an answer that is not JSON (a proxy's sign-in page) is BACKEND, never a bare SyntaxError", async () => {
    const page = async (): Promise<Response> =>
      new Response("<html>sign in</html>", { status: 200, headers: { "content-type": "text/html" } });

    const error = await rejectionOf(backend({ fetch: page }).get({ key: "behind-proxy" }));

    expect(isStrongboxError(error, "BACKEND")).toBe(true);
    expect((error as Error).message).toContain("not JSON (text/html)");
  });

  it("a connection lost while the answer arrives is UNAVAILABLE, never a bare TypeError", async () => {
    let calls = 0;
    const cut = async (): Promise<Response> => {
      calls += 1;
      // The token arrives whole; the next answer breaks off in its body.
      if (calls === 1) return new Response("token", { status: 200 });
      const body = new ReadableStream({
        start(controller) {
          controller.error(Object.assign(new TypeError("terminated"), { cause: { code: "ECONNRESET" } }));
        },
      });
      return new Response(body, { status: 200 });
    };

    const error = await rejectionOf(backend({ fetch: cut }).get({ key: "cut-off" }));

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toContain("ECONNRESET while reading the answer");
  });

  it("a request slower than the timeout is retried, then UNAVAILABLE", async () => {
    // Wide margins: a 50 ms limit could fire on a loaded machine during the put itself, or
    // before the request is even sent.
    const store = backend({ timeout: 250, retries: 1 });
    await store.put?.({ key: "slow" }, "x");
    conjur.faults.latencyMs = 1500;
    const before = conjur.requests.length;

    const error = await rejectionOf(store.get({ key: "slow" }));

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect(conjur.requests.length - before).toBe(2);
  });

  it("neither the API key, the token nor the value leaks into errors", async () => {
    const value = "conjur-canary-value-42";
    const leaks = watchForLeaks(["admin-api-key", "Admin-Password1", value]);
    try {
      conjur.faults.dropNext(10);
      const dropped = await rejectionOf(
        backend({ retries: 1 }).put?.({ key: "drop" }, SecretValue.from(value)),
      );
      conjur.faults.reset();
      const denied = await rejectionOf(
        backend({ apiKey: undefined, password: "Admin-Password1", username: "nobody" }).get({ key: "x" }),
      );
      expect(isStrongboxError(dropped, "UNAVAILABLE")).toBe(true);
      expect(isStrongboxError(denied, "ACCESS_DENIED")).toBe(true);
      leaks.check(dropped, "a network error");
      leaks.check(denied, "a login error");
      leaks.check(backend(), "the backend");
    } finally {
      leaks.stop();
    }
  });

  it("list skips a hashed name whose ref annotation was edited into an illegal ref instead of failing", async () => {
    const store = backend({ prefix: "edited" });
    await store.put?.({ namespace: "long", key: "e".repeat(700) }, "v");
    await store.put?.({ namespace: "long", key: "short" }, "v");
    const hashed = [...conjur.variables.values()].find(
      (variable) => variable.id.startsWith("edited/") && variable.id.includes("~h"),
    );
    if (hashed === undefined) throw new Error("expected a hashed variable");
    hashed.annotations.set("strongbox/ref", JSON.stringify({ namespace: "a..b", key: "k" }));

    const listed = [];
    for await (const entry of store.list?.({ namespace: "long" }) ?? []) listed.push(entry.ref);

    expect(listed).toEqual([{ namespace: "long", key: "short" }]);
  });

  it("lists through pages and returns exact refs for hashed (over-long) names", async () => {
    const namespace = "paged";
    const refs = Array.from({ length: 105 }, (_, index) => ({ namespace, key: `k${index}` }));
    for (const ref of refs.slice(0, 104)) await backend().put?.(ref, "v");
    const long = { namespace, key: "x".repeat(600) };
    await backend().put?.(long, "long");

    const listed = [];
    for await (const entry of backend().list?.({ namespace }) ?? []) listed.push(entry.ref.key);

    expect(listed).toHaveLength(105);
    expect(listed).toContain(long.key);
    expect(count(/^\/resources\/acme$/)).toBeGreaterThan(1);
  });

  it("raw naming writes and lists variables named by the key after branch and prefix", async () => {
    const store = backend({ naming: "raw", prefix: "rawp", policyBranch: "apps/strongbox" });
    await store.put?.({ key: "db/password" }, "raw-value", { tags: { kind: "raw" } });

    const listed = [];
    for await (const entry of store.list?.() ?? []) listed.push(entry.ref);

    expect(conjur.variables.has("apps/strongbox/rawp/db/password")).toBe(true);
    expect(listed).toEqual([{ key: "db/password" }]);
    expect((await store.get({ key: "db/password" }))?.tags).toEqual({ kind: "raw" });
    expect(await store.delete?.({ key: "db/password" })).toBe(true);
  });

  it("raw naming reads a variable declared by someone else, by its id", async () => {
    await backend().put?.({ key: "placeholder" }, "x");
    conjur.variables.set("prod/db/password", {
      id: "prod/db/password",
      policy: "root",
      createdAt: new Date().toISOString(),
      annotations: new Map([["owner-team", "dba"]]),
      secrets: [{ version: 7, value: Buffer.from("s3cret") }],
      lastVersion: 7,
    });

    const secret = await backend({ naming: "raw" }).get({ key: "prod/db/password" });

    expect(secret?.value.reveal()).toBe("s3cret");
    expect(secret?.version).toBe("7");
    expect(secret?.tags).toEqual({ "owner-team": "dba" });
  });

  it("createSecretManager loads this adapter from a kebab-case cyberark block with default tags", async () => {
    const manager = await createSecretManager({
      secret: {
        type: "cyberark",
        cyberark: {
          address: conjur.url,
          account: "acme",
          username: "admin",
          password: "Admin-Password1",
          "policy-branch": "apps/strongbox",
          prefix: "manager",
          "retry-delay": "1ms",
          tags: { Application: "Billing" },
        },
      },
    });

    await manager.put({ namespace: "company.team", key: "DB_PASSWORD" }, "from-manager", {
      tags: { team: "ops" },
    });
    const secret = await manager.get({ namespace: "company.team", key: "DB_PASSWORD" });
    await manager.close();

    expect(manager.type).toBe("cyberark");
    expect(secret?.value.reveal()).toBe("from-manager");
    expect(secret?.tags).toEqual({ Application: "Billing", team: "ops" });
    expect([...conjur.variables.keys()].some((id) => id.startsWith("apps/strongbox/manager/"))).toBe(true);
  });

  it("validates options when the factory runs and makes no call before the first operation", () => {
    const before = conjur.requests.length;
    expect(() => cyberark({ address: conjur.url, account: "acme", username: "admin" })).toThrow(
      /cyberark\.apiKey/,
    );
    expect(() =>
      fromConfig(
        { address: "not a url", account: "acme", username: "a", apiKey: "k" },
        { path: "secret.cyberark" },
      ),
    ).toThrow(/secret\.cyberark\.address/);
    fromConfig(
      { address: conjur.url, account: "acme", username: "admin", apiKey: "k" },
      { path: "secret.cyberark" },
    );
    expect(conjur.requests.length).toBe(before);
  });
});

const live = {
  url: process.env.STRONGBOX_IT_CONJUR_URL,
  account: process.env.STRONGBOX_IT_CONJUR_ACCOUNT,
  login: process.env.STRONGBOX_IT_CONJUR_LOGIN,
  apiKey: process.env.STRONGBOX_IT_CONJUR_API_KEY,
  password: process.env.STRONGBOX_IT_CONJUR_PASSWORD,
};
describe.runIf(live.url && live.account && live.login && (live.apiKey || live.password))(
  "cyberark (live; needs STRONGBOX_IT_CONJUR_URL, _ACCOUNT, _LOGIN and _API_KEY or _PASSWORD)",
  () => {
    testBackend(
      "cyberark (live)",
      () =>
        cyberark({
          address: live.url as string,
          account: live.account as string,
          username: live.login as string,
          ...(live.apiKey ? { apiKey: live.apiKey } : { password: live.password as string }),
          prefix: "strongbox-it",
        }),
      { rejectsEmptyValue: true },
    );
  },
);
