import {
  CredentialUnavailableError,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import {
  createSecretManager,
  refId,
  type SecretBackend,
  type SecretEntry,
  type SecretRef,
  type StrongboxError,
} from "@strongbox/core";
import { renderings, strongboxRejection, testBackend } from "@strongbox/testing";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@strongbox/testing/emulators/azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzureKeyVaultOptions, azureKeyVault, fromConfig } from "../src/index.ts";

let vault: AzureKeyVaultEmulator;
const savedEnv = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };
const LEGAL = /^[0-9a-zA-Z-]{1,127}$/;

const stubCredential: TokenCredential = {
  getToken: async () => ({ token: "stub-token-123456", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** Options pointing the real SDK at the emulator, with short delays so retries and polls go fast. */
const local = (extra: Partial<AzureKeyVaultOptions> = {}, target = vault): AzureKeyVaultOptions => ({
  keyVaultUri: target.url,
  ca: target.ca,
  credential: stubCredential,
  disableChallengeResourceVerification: true,
  retryDelay: 1,
  maxRetryDelay: 5,
  pollInterval: 5,
  ...extra,
});

const collect = async (backend: SecretBackend, query?: Parameters<NonNullable<SecretBackend["list"]>>[0]) => {
  const out: SecretEntry[] = [];
  for await (const entry of backend.list?.(query) ?? []) out.push(entry);
  return out;
};
/** Completes the 401 challenge once, so later request counts hold only the operation's own requests. */
const warm = async (backend: SecretBackend) => {
  await backend.get({ key: "warm-up" });
};
const since = (target: AzureKeyVaultEmulator, start: number) => target.requests.slice(start);

beforeAll(async () => {
  vault = await startAzureKeyVaultEmulator();
  process.env.IDENTITY_ENDPOINT = vault.identityEndpoint;
  process.env.IDENTITY_HEADER = vault.identityHeader;
});

afterAll(async () => {
  for (const [name, value] of [
    ["IDENTITY_ENDPOINT", savedEnv.endpoint],
    ["IDENTITY_HEADER", savedEnv.header],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await vault.close();
});

// The real SDK over a real socket, authenticated by a real ManagedIdentityCredential against the emulator's token endpoint.
testBackend("azure (emulator)", () => azureKeyVault(local({ credential: new ManagedIdentityCredential() })));

// Again under a prefix: every name starts with it, and list sees only its own.
testBackend("azure (emulator, prefixed)", () => azureKeyVault(local({ prefix: "conformance" })));

describe("azure: credentials", () => {
  it("authenticates with a managed identity through the challenge flow", async () => {
    const backend = azureKeyVault(local({ credential: new ManagedIdentityCredential() }));
    const start = vault.requests.length;
    await backend.put?.({ key: "mi-check" }, "x");
    const sent = since(vault, start).filter((request) => request.path.startsWith("/secrets/"));
    expect(sent[0]?.headers.authorization).toBeUndefined();
    const bearer = sent.at(-1)?.headers.authorization;
    expect(vault.issuedTokens.map((token) => `Bearer ${token}`)).toContain(bearer);
  });

  it("turns a credential that cannot give a token into ACCESS_DENIED", async () => {
    const failing: TokenCredential = {
      getToken: async () => {
        throw new CredentialUnavailableError("no identity here");
      },
    };
    const error = await strongboxRejection(azureKeyVault(local({ credential: failing })).get({ key: "any" }));
    expect(error.code).toBe("ACCESS_DENIED");
    expect(error.operation).toBe("get");
  });
});

describe("azure: through the manager", () => {
  it("createSecretManager loads the adapter from a kebab-case block and DefaultAzureCredential finds the managed identity", async () => {
    const manager = await createSecretManager({
      secret: {
        type: "azure-key-vault",
        "azure-key-vault": {
          "key-vault-uri": vault.url,
          ca: vault.ca,
          "disable-challenge-resource-verification": true,
          prefix: "managed",
          "poll-interval": "5ms",
          tags: { application: "billing" },
        },
      },
    });
    await manager.put({ namespace: "team.etl", key: "DB_PASSWORD" }, "from-manager");
    expect(await manager.getValue({ namespace: "team.etl", key: "DB_PASSWORD" })).toBe("from-manager");
    expect(vault.secretNames().some((name) => name.startsWith("managed"))).toBe(true);
    const bearer = vault.requests.at(-1)?.headers.authorization;
    expect(vault.issuedTokens.map((token) => `Bearer ${token}`)).toContain(bearer);
  });
});

describe("azure: names", () => {
  it("a prefix keeps applications apart in one vault", async () => {
    const first = azureKeyVault(local({ prefix: "appone" }));
    const second = azureKeyVault(local({ prefix: "apptwo" }));
    await first.put?.({ key: "SHARED_NAME" }, "one");
    await second.put?.({ key: "SHARED_NAME" }, "two");
    expect((await first.get({ key: "SHARED_NAME" }))?.value.reveal()).toBe("one");
    expect((await second.get({ key: "SHARED_NAME" }))?.value.reveal()).toBe("two");
    expect((await collect(first)).map((entry) => entry.ref)).toEqual([{ key: "SHARED_NAME" }]);
  });

  it("keeps two keys that differ only by case as two secrets, listed with their exact refs", async () => {
    const backend = azureKeyVault(local({ prefix: "case" }));
    const refs = [{ key: "ApiKey" }, { key: "apikey" }, { key: "APIKEY" }];
    for (const [index, ref] of refs.entries()) await backend.put?.(ref, `case-${index}`);
    for (const [index, ref] of refs.entries())
      expect((await backend.get(ref))?.value.reveal()).toBe(`case-${index}`);
    const listed = await collect(backend);
    expect(listed.map((entry) => entry.ref.key).sort()).toEqual(["APIKEY", "ApiKey", "apikey"]);
  });

  it("round-trips dots, underscores and very long keys through put, list and get with legal names", async () => {
    const backend = azureKeyVault(local({ prefix: "odd" }));
    const refs: SecretRef[] = [
      { tenant: "acme_corp", namespace: "company.team.etl", key: "db.password_main" },
      { namespace: "x.y", key: `very_long.${"K".repeat(600)}` },
      { tenant: "t".repeat(200), key: "ünï çødé/slash" },
    ];
    for (const [index, ref] of refs.entries()) await backend.put?.(ref, `odd-${index}`);
    for (const [index, ref] of refs.entries())
      expect((await backend.get(ref))?.value.reveal()).toBe(`odd-${index}`);
    const listed = await collect(backend);
    for (const ref of refs) expect(listed.map((entry) => entry.ref)).toContainEqual(ref);
    for (const name of vault.secretNames().filter((name) => name.startsWith("odd")))
      expect(name).toMatch(LEGAL);
  });

  it("list skips a ref tag edited into an illegal ref and reads the name instead of failing", async () => {
    const backend = azureKeyVault(local({ prefix: "edited" }));
    await backend.put?.({ key: "victim" }, "v");
    const name = vault.secretNames().find((candidate) => candidate.startsWith("edited")) as string;
    const client = new SecretClient(vault.url, stubCredential, {
      tlsOptions: { ca: vault.ca },
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
    await client.setSecret(name, "v", { tags: { "strongbox-ref": JSON.stringify([null, "a..b", "k"]) } });

    const listed = await collect(backend);

    expect(listed.map((entry) => entry.ref)).toEqual([{ key: "victim" }]);
  });

  it("raw naming uses the key as the Key Vault name and refuses one Key Vault cannot hold", async () => {
    const backend = azureKeyVault(local({ naming: "raw" }));
    await backend.put?.({ key: "Plain-Raw-Name" }, "raw");
    expect(vault.secretNames()).toContain("Plain-Raw-Name");
    expect((await backend.get({ key: "Plain-Raw-Name" }))?.value.reveal()).toBe("raw");
    expect((await strongboxRejection(backend.put?.({ key: "not_legal" }, "x"))).code).toBe("INVALID_NAME");
  });
});

describe("azure: tags, description, versions", () => {
  it("keeps the previous tags and description when a put gives none", async () => {
    const backend = azureKeyVault(local());
    const ref = { key: "keep-meta" };
    await backend.put?.(ref, "one", { tags: { team: "ops" }, description: "the ops key" });
    const second = await backend.put?.(ref, "two");
    expect(second).toMatchObject({ tags: { team: "ops" }, description: "the ops key" });
    expect(await backend.get(ref)).toMatchObject({ tags: { team: "ops" }, description: "the ops key" });
  });

  it("merges default tags, lets put's tags win, and hides its own tags", async () => {
    const backend = azureKeyVault(local({ tags: { application: "billing", team: "a" } }));
    await backend.put?.({ key: "defaults" }, "x", { tags: { team: "b" } });
    expect((await backend.get({ key: "defaults" }))?.tags).toEqual({ application: "billing", team: "b" });
  });

  it("refuses reserved tag names and more tags than Key Vault keeps, before any call", async () => {
    const backend = azureKeyVault(local());
    const start = vault.requests.length;
    expect(
      (await strongboxRejection(backend.put?.({ key: "t" }, "x", { tags: { "strongbox-ref": "x" } }))).code,
    ).toBe("INVALID_OPTIONS");
    const many = Object.fromEntries(Array.from({ length: 15 }, (_, index) => [`tag${index}`, "v"]));
    expect((await strongboxRejection(backend.put?.({ key: "t" }, "x", { tags: many }))).code).toBe(
      "INVALID_OPTIONS",
    );
    expect(since(vault, start).filter((request) => request.method === "PUT")).toHaveLength(0);
  });

  it("refuses expectedVersion with UNSUPPORTED rather than ignoring it", async () => {
    const backend = azureKeyVault(local());
    expect(
      (await strongboxRejection(backend.put?.({ key: "cas" }, "x", { expectedVersion: null }))).code,
    ).toBe("UNSUPPORTED");
  });

  it("reads older versions by their Key Vault version id", async () => {
    const backend = azureKeyVault(local());
    const first = await backend.put?.({ key: "ver" }, "v1");
    await backend.put?.({ key: "ver" }, "v2");
    expect(first?.version).toMatch(/^[0-9a-f]{32}$/);
    expect((await backend.get({ key: "ver" }, { version: first?.version as string }))?.value.reveal()).toBe(
      "v1",
    );
    expect(await backend.get({ key: "ver" }, { version: "f".repeat(32) })).toBeUndefined();
  });

  it("getMany reads distinct refs with at most `concurrency` reads in flight, leaving out missing ones", async () => {
    let inFlight = 0;
    let peak = 0;
    const fake = {
      async getSecret(name: string) {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        if (name.includes("missing"))
          throw Object.assign(new Error("not found"), { statusCode: 404, code: "SecretNotFound" });
        return { name, value: `v-${name}`, properties: { name, vaultUrl: "https://x", tags: {} } };
      },
    } as unknown as SecretClient;
    const backend = azureKeyVault({ client: fake, concurrency: 3 });
    const refs = Array.from({ length: 10 }, (_, index) => ({ key: `k${index}` }));
    const found = await backend.getMany?.([...refs, { key: "missing" }, { key: "k0" }]);
    expect(found?.size).toBe(10);
    expect(found?.get(refId({ key: "k3" }))?.value.reveal()).toBe("v-k3");
    expect(peak).toBe(3);
  });

  it("lists past the first page by following nextLink", async () => {
    const own = await startAzureKeyVaultEmulator();
    try {
      const backend = azureKeyVault(local({}, own));
      for (let index = 0; index < 30; index++)
        await backend.put?.({ namespace: "paged", key: `k${index}` }, "x");
      const start = own.requests.length;
      const listed = await collect(backend, { namespace: "paged" });
      expect(listed).toHaveLength(30);
      expect(
        since(own, start).filter((request) => request.path === "/secrets").length,
      ).toBeGreaterThanOrEqual(2);
    } finally {
      await own.close();
    }
  });
});

describe("azure: soft delete", () => {
  it("delete resolves only once the deletion is recorded", async () => {
    const own = await startAzureKeyVaultEmulator({ deleteDelayMs: 40 });
    try {
      const backend = azureKeyVault(local({}, own));
      await backend.put?.({ key: "slowdelete" }, "x");
      const start = own.requests.length;
      expect(await backend.delete?.({ key: "slowdelete" })).toBe(true);
      expect(own.deletedNames()).toEqual(["slowdelete"]);
      const polls = since(own, start).filter((request) => request.path === "/deletedsecrets/slowdelete");
      expect(polls.length).toBeGreaterThanOrEqual(1);
    } finally {
      await own.close();
    }
  });

  it("purgeOnDelete leaves nothing behind, and the name is free again", async () => {
    const backend = azureKeyVault(local({ purgeOnDelete: true }));
    await backend.put?.({ key: "purged" }, "x");
    await backend.delete?.({ key: "purged" });
    expect(vault.deletedNames()).not.toContain("purged");
    expect(vault.secretNames()).not.toContain("purged");
    const start = vault.requests.length;
    await backend.put?.({ key: "purged" }, "again");
    expect(since(vault, start).some((request) => request.path.endsWith("/recover"))).toBe(false);
  });

  it("a put onto a soft-deleted name recovers it first, keeping its history", async () => {
    const backend = azureKeyVault(local());
    const old = await backend.put?.({ key: "recovered" }, "before");
    await backend.delete?.({ key: "recovered" });
    const start = vault.requests.length;
    await backend.put?.({ key: "recovered" }, "after");
    expect(since(vault, start).map((request) => `${request.method} ${request.path}`)).toContain(
      "POST /deletedsecrets/recovered/recover",
    );
    expect((await backend.get({ key: "recovered" }))?.value.reveal()).toBe("after");
    expect(
      (await backend.get({ key: "recovered" }, { version: old?.version as string }))?.value.reveal(),
    ).toBe("before");
  });

  it("a put onto a soft-deleted name waits until the recovery completes", async () => {
    const own = await startAzureKeyVaultEmulator({ recoverDelayMs: 40 });
    try {
      const backend = azureKeyVault(local({}, own));
      const old = await backend.put?.({ key: "slowrecover" }, "before");
      await backend.delete?.({ key: "slowrecover" });
      const start = own.requests.length;

      await backend.put?.({ key: "slowrecover" }, "after");

      // The write that landed came after the recovery was asked for (the emulator refuses
      // writes with 409 until the recovery completes), and the history came back with it.
      const calls = since(own, start).map((request) => `${request.method} ${request.path}`);
      const recovery = calls.indexOf("POST /deletedsecrets/slowrecover/recover");
      expect(recovery).toBeGreaterThanOrEqual(0);
      expect(calls.lastIndexOf("PUT /secrets/slowrecover")).toBeGreaterThan(recovery);
      expect((await backend.get({ key: "slowrecover" }))?.value.reveal()).toBe("after");
      expect(
        (await backend.get({ key: "slowrecover" }, { version: old?.version as string }))?.value.reveal(),
      ).toBe("before");
    } finally {
      await own.close();
    }
  });

  it("onSoftDeleted: purge purges the soft-deleted name instead, dropping its history", async () => {
    const backend = azureKeyVault(local({ onSoftDeleted: "purge" }));
    const old = await backend.put?.({ key: "repurged" }, "before");
    await backend.delete?.({ key: "repurged" });
    const start = vault.requests.length;
    await backend.put?.({ key: "repurged" }, "after");
    const calls = since(vault, start).map((request) => `${request.method} ${request.path}`);
    expect(calls).toContain("DELETE /deletedsecrets/repurged");
    expect(calls).not.toContain("POST /deletedsecrets/repurged/recover");
    expect((await backend.get({ key: "repurged" }))?.value.reveal()).toBe("after");
    expect(await backend.get({ key: "repurged" }, { version: old?.version as string })).toBeUndefined();
  });

  it("a put waits while a purged name is still being freed", async () => {
    const own = await startAzureKeyVaultEmulator({ purgeDelayMs: 40 });
    try {
      const backend = azureKeyVault(local({ purgeOnDelete: true }, own));
      await backend.put?.({ key: "busy" }, "one");
      await backend.delete?.({ key: "busy" });
      await backend.put?.({ key: "busy" }, "two");
      expect((await backend.get({ key: "busy" }))?.value.reveal()).toBe("two");
    } finally {
      await own.close();
    }
  });

  it("delete of a missing secret resolves false", async () => {
    expect(await azureKeyVault(local()).delete?.({ key: "never-there" })).toBe(false);
  });
});

describe("azure: errors", () => {
  it("403 becomes ACCESS_DENIED with the operation and ref, and no token in the error", async () => {
    const backend = azureKeyVault(local());
    await warm(backend);
    vault.permissions.delete("get");
    try {
      const error = await strongboxRejection(backend.get({ namespace: "a.b", key: "forbidden" }));
      expect(error).toMatchObject({ code: "ACCESS_DENIED", backend: "azure-key-vault", operation: "get" });
      expect(error.ref).toEqual({ namespace: "a.b", key: "forbidden" });
      expect((error.cause as { statusCode?: number }).statusCode).toBe(403);
      for (const text of renderings(error)) expect(text).not.toContain("stub-token-123456");
    } finally {
      vault.permissions.add("get");
    }
  });

  it("a list without the list permission fails with ACCESS_DENIED", async () => {
    const backend = azureKeyVault(local());
    vault.permissions.delete("list");
    try {
      const error = await strongboxRejection(collect(backend));
      expect(error).toMatchObject({ code: "ACCESS_DENIED", operation: "list" });
    } finally {
      vault.permissions.add("list");
    }
  });

  it("a put's value never reaches the error of a failed write", async () => {
    const backend = azureKeyVault(local());
    await warm(backend);
    vault.faults.failNext(1, 400);
    try {
      const error = await strongboxRejection(
        backend.put?.({ key: "bad-write" }, "value-canary-998877", { tags: {}, description: "d" }),
      );
      expect(error.code).toBe("BACKEND");
      for (const text of renderings(error)) expect(text).not.toContain("value-canary-998877");
    } finally {
      vault.faults.reset();
    }
  });

  it("a malformed answer to a get leaves the value out of the error (the SDK quotes the body)", async () => {
    const backend = azureKeyVault(local({ retries: 0 }));
    await warm(backend);
    const body = '{"value":"value-canary-malformed-42","id":"x",';
    vault.faults.failNext(1, 200, body, { "content-type": "application/json" });

    const error = await strongboxRejection(backend.get({ key: "malformed" }));

    expect(error.code).toBe("BACKEND");
    expect(error.message).toContain("body not shown");
    for (const text of renderings(error)) expect(text).not.toContain("value-canary-malformed-42");
  });

  it("retries a 429 without Retry-After, then succeeds", async () => {
    const backend = azureKeyVault(local({ retries: 3 }));
    await backend.put?.({ key: "throttled" }, "ok");
    const start = vault.requests.length;
    vault.faults.failNext(2, 429);
    expect((await backend.get({ key: "throttled" }))?.value.reveal()).toBe("ok");
    expect(since(vault, start)).toHaveLength(3);
  });

  it("caps a long Retry-After at maxRetryDelay instead of stalling", async () => {
    const backend = azureKeyVault(local({ retries: 2 }));
    await backend.put?.({ key: "throttled-long" }, "ok");
    vault.faults.failNext(1, 429, undefined, { "retry-after": "3600" });
    expect((await backend.get({ key: "throttled-long" }))?.value.reveal()).toBe("ok");
  });

  it("caps a long Retry-After on a 503 at maxRetryDelay instead of stalling", async () => {
    const backend = azureKeyVault(local({ retries: 2 }));
    await backend.put?.({ key: "unavailable-long" }, "ok");
    const start = vault.requests.length;
    vault.faults.failNext(1, 503, undefined, { "retry-after": "3600" });

    const secret = await backend.get({ key: "unavailable-long" });

    expect(secret?.value.reveal()).toBe("ok");
    expect(since(vault, start)).toHaveLength(2);
  });

  it("a 429 beyond the retries becomes UNAVAILABLE", async () => {
    const backend = azureKeyVault(local({ retries: 2 }));
    await warm(backend);
    const start = vault.requests.length;
    vault.faults.failNext(10, 429);
    try {
      const error = await strongboxRejection(backend.get({ key: "always-throttled" }));
      expect(error.code).toBe("UNAVAILABLE");
      expect(since(vault, start)).toHaveLength(3);
    } finally {
      vault.faults.reset();
    }
  });

  it("retries dropped connections and 5xx, and reports UNAVAILABLE when they persist", async () => {
    const backend = azureKeyVault(local({ retries: 2 }));
    await backend.put?.({ key: "flaky" }, "ok");
    vault.faults.dropNext(1);
    expect((await backend.get({ key: "flaky" }))?.value.reveal()).toBe("ok");
    vault.faults.failNext(1, 503);
    expect((await backend.get({ key: "flaky" }))?.value.reveal()).toBe("ok");
    vault.faults.dropNext(10);
    try {
      expect((await strongboxRejection(backend.get({ key: "flaky" }))).code).toBe("UNAVAILABLE");
    } finally {
      vault.faults.reset();
    }
    vault.faults.failNext(10, 500);
    try {
      expect((await strongboxRejection(backend.get({ key: "flaky" }))).code).toBe("UNAVAILABLE");
    } finally {
      vault.faults.reset();
    }
  });
});

describe("azure: options", () => {
  it("validates options when the factory runs, naming the field and never echoing a secret", () => {
    const attempt = (options: Record<string, unknown>) => {
      try {
        azureKeyVault(options as AzureKeyVaultOptions);
      } catch (error) {
        return error as StrongboxError;
      }
      throw new Error("expected the factory to throw");
    };
    expect(attempt({}).message).toContain("vaultName");
    expect(attempt({ vaultName: "a", keyVaultUri: "https://a.vault.azure.net" }).code).toBe(
      "INVALID_OPTIONS",
    );
    const partial = attempt({ vaultName: "my-vault", clientId: "id", clientSecret: "hunter2-secret" });
    expect(partial.code).toBe("INVALID_OPTIONS");
    expect(partial.message).toContain("clientSecret");
    expect(renderings(partial).join("")).not.toContain("hunter2-secret");
    expect(attempt({ vaultName: "my-vault", retries: -1 }).message).toContain("retries");
    expect(attempt({ vaultName: "my-vault", tags: { "strongbox-x": "y" } }).message).toContain("tags");
    expect(attempt({ vaultName: "my-vault", prefix: "under_score" }).code).toBe("INVALID_OPTIONS");
  });

  it("makes no network call and asks for no token before the first operation", async () => {
    let tokens = 0;
    const counting: TokenCredential = {
      getToken: async (scopes, options) => {
        tokens += 1;
        return stubCredential.getToken(scopes, options);
      },
    };
    const start = vault.requests.length;
    const backend = azureKeyVault(local({ credential: counting }));
    expect(vault.requests.length).toBe(start);
    expect(tokens).toBe(0);
    await backend.get({ key: "first-call" });
    expect(vault.requests.length).toBeGreaterThan(start);
    expect(tokens).toBe(1);
  });

  it("fromConfig takes the camelCase block and the configured prefix", async () => {
    const backend = fromConfig(
      {
        keyVaultUri: vault.url,
        ca: vault.ca,
        disableChallengeResourceVerification: true,
        credential: stubCredential,
        purgeOnDelete: true,
      },
      { path: "secret.azure-key-vault", prefix: "fromcfg" },
    );
    await backend.put?.({ key: "cfg" }, "v");
    expect(vault.secretNames().some((name) => name.startsWith("fromcfg"))).toBe(true);
    expect(() => fromConfig({ vaultName: 42 }, { path: "secret.azure-key-vault" })).toThrow(
      /secret\.azure-key-vault\.vault-name/,
    );
  });

  it("accepts a configured SecretClient as is", async () => {
    const client = new SecretClient(vault.url, stubCredential, {
      tlsOptions: { ca: vault.ca },
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 0 },
    });
    const backend = azureKeyVault({ client });
    await backend.put?.({ key: "own-client" }, "v");
    expect((await backend.get({ key: "own-client" }))?.value.reveal()).toBe("v");
  });
});

const liveUrl = process.env.STRONGBOX_IT_AZURE_VAULT_URL;
describe.runIf(liveUrl)(
  `azure (live)${liveUrl ? "" : ": skipped, set STRONGBOX_IT_AZURE_VAULT_URL (and Azure credentials for DefaultAzureCredential) to run it"}`,
  () => {
    testBackend("azure (live)", () =>
      azureKeyVault({
        keyVaultUri: liveUrl as string,
        credential: new DefaultAzureCredential(),
        purgeOnDelete: process.env.STRONGBOX_IT_AZURE_PURGE === "true",
      }),
    );
  },
);
