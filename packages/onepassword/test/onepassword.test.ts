import { OnePasswordConnect, type OPConnect } from "@1password/connect";
import { createSecretManager, isStrongboxError, type SecretBackend, SecretValue } from "@strongbox/core";
import { recordRetryDelays, rejectionOf, testBackend, watchForLeaks } from "@strongbox/testing";
import { type OnePasswordEmulator, startOnePasswordEmulator } from "@strongbox/testing/emulators/onepassword";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fromConfig, onePassword } from "../src/index.ts";

let emulator: OnePasswordEmulator;
let vaultId: string;

beforeAll(async () => {
  emulator = await startOnePasswordEmulator({ readOnlyToken: "read-only-token" });
  vaultId = emulator.vaults[0]?.id as string;
});
afterAll(() => emulator.close());
afterEach(() => emulator.faults.reset());

const backend = (extra: Partial<Parameters<typeof onePassword>[0]> = {}): SecretBackend =>
  onePassword({ address: emulator.url, token: emulator.token, vaultId, retryDelay: 1, ...extra });

testBackend("1password (emulator)", () => backend());
testBackend("1password (emulator, prefix)", () => backend({ prefix: "kestra" }));
testBackend("1password (emulator, raw)", () => backend({ naming: "raw", prefix: "raw" }), {
  scopedRefs: false,
});

describe("1password adapter", () => {
  it("stores the value in a concealed field, tags as key=value and the exact ref in a hidden field", async () => {
    const ref = { tenant: "acme", namespace: "billing", key: "DB_PASSWORD" };
    await backend().put?.(ref, "hunter2", {
      tags: { application: "billing", "a=b": "c" },
      description: "db",
    });

    const item = emulator.items(vaultId).find((candidate) => candidate.title.endsWith("DB_PASSWORD"));

    expect(item?.category).toBe("PASSWORD");
    expect(item?.fields?.find((field) => field.purpose === "PASSWORD")).toMatchObject({
      type: "CONCEALED",
      value: "hunter2",
    });
    expect(item?.fields?.find((field) => field.purpose === "NOTES")?.value).toBe("db");
    expect(item?.tags).toEqual(["application=billing", "a%3Db=c"]);
    expect(JSON.parse(item?.fields?.find((field) => field.label === "strongbox.ref")?.value ?? "{}")).toEqual(
      ref,
    );
    expect((await backend().get(ref))?.tags).toEqual({ application: "billing", "a=b": "c" });
  });

  it("titles never hold a quote or backslash, and keys with quotes and URL characters round-trip", async () => {
    const keys = ['say "hi"', "back\\slash", "plus+hash#amp&pct%25", "a b"];
    const refs = keys.map((key) => ({ namespace: "quotes", key }));

    for (const [index, ref] of refs.entries()) await backend().put?.(ref, `v${index}`);

    for (const title of emulator.items(vaultId).map((item) => item.title)) expect(title).not.toMatch(/["\\]/);
    for (const [index, ref] of refs.entries())
      expect((await backend().get(ref))?.value.reveal()).toBe(`v${index}`);
    const listed: string[] = [];
    for await (const entry of backend().list?.({ namespace: "quotes" }) ?? []) listed.push(entry.ref.key);
    expect(listed.sort()).toEqual([...keys].sort());
  });

  it("an over-long key gets a hashed title and list still returns its exact ref", async () => {
    const ref = { namespace: "long", key: "k".repeat(700) };
    await backend().put?.(ref, "long-value");

    const listed = [];
    for await (const entry of backend().list?.({ namespace: "long" }) ?? []) listed.push(entry.ref);

    expect(
      emulator.items(vaultId).some((item) => item.title.length <= 512 && item.title.includes("~h")),
    ).toBe(true);
    expect(listed).toEqual([ref]);
    expect((await backend().get(ref))?.value.reveal()).toBe("long-value");
  });

  it("list skips a hashed title whose ref field was edited into an illegal ref instead of failing", async () => {
    const store = backend({ prefix: "edited" });
    const ref = { namespace: "long", key: "e".repeat(700) };
    await store.put?.(ref, "v");
    await store.put?.({ namespace: "long", key: "short" }, "v");
    const item = emulator.items(vaultId).find((candidate) => candidate.title.startsWith("edited/"));
    const field = item?.fields?.find((candidate) => candidate.label === "strongbox.ref");
    if (field === undefined || !item?.title.includes("~h")) throw new Error("expected the hashed item first");
    field.value = JSON.stringify({ namespace: "a..b", key: "k" });

    const listed = [];
    for await (const entry of store.list?.({ namespace: "long" }) ?? []) listed.push(entry.ref);

    expect(listed).toEqual([{ namespace: "long", key: "short" }]);
  });

  it("the item version is the secret's version and an older one cannot be read", async () => {
    const ref = { key: "versioned" };
    const first = await backend().put?.(ref, "one");
    const second = await backend().put?.(ref, "two");

    const error = await rejectionOf(backend().get(ref, { version: first?.version as string }));

    expect(Number(second?.version)).toBe(Number(first?.version) + 1);
    expect(isStrongboxError(error, "UNSUPPORTED")).toBe(true);
    expect((await backend().get(ref, { version: second?.version as string }))?.value.reveal()).toBe("two");
  });

  it("bytes are refused with UNSUPPORTED before any call, since 1Password keeps text only", async () => {
    const store = backend();
    const before = emulator.requests.length;

    const fromBytes = await rejectionOf(store.put?.({ key: "KEYSTORE" }, new Uint8Array([0x00, 0xff, 0x80])));
    const fromValue = await rejectionOf(
      store.put?.({ key: "KEYSTORE" }, SecretValue.from(new Uint8Array([0x68, 0x69]))),
    );

    expect(isStrongboxError(fromBytes, "UNSUPPORTED")).toBe(true);
    expect(isStrongboxError(fromValue, "UNSUPPORTED")).toBe(true);
    expect(emulator.requests.length).toBe(before);
  });

  it("a wrong token fails with ACCESS_DENIED, not as a missing secret", async () => {
    const error = await rejectionOf(backend({ token: "wrong-token" }).get({ key: "anything" }));

    expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
    expect((error as Error).message).toContain("401");
  });

  it("a vault that does not exist fails clearly, never as a missing secret", async () => {
    const store = backend({ vaultId: "zzzzzzzzzzzzzzzzzzzzzzzzzz" });

    const read = await rejectionOf(store.get({ key: "anything" }));
    const listed = await rejectionOf(store.list?.()[Symbol.asyncIterator]().next());

    expect(isStrongboxError(read, "BACKEND")).toBe(true);
    expect((read as Error).message).toContain("vault zzzzzzzzzzzzzzzzzzzzzzzzzz not found");
    expect(isStrongboxError(listed, "BACKEND")).toBe(true);
    expect((listed as Error).message).toContain("404");
  });

  it("a token that may only read gets ACCESS_DENIED on put", async () => {
    const error = await rejectionOf(backend({ token: "read-only-token" }).put?.({ key: "ro-put" }, "x"));

    expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
    expect((error as Error).message).toContain("403");
  });

  it("maps the SDK's plain-object rejections and keeps the raw object out of the cause", async () => {
    const sdk = OnePasswordConnect({ serverURL: emulator.url, token: "wrong-token", keepAlive: false });
    const raw = await sdk.listItems(vaultId).catch((error: unknown) => error);
    expect(raw).not.toBeInstanceOf(Error);
    expect(raw).toEqual({ status: 401, message: "Invalid token signature" });
    const stub = {
      listItemsByTitle: () => Promise.reject({ status: 403, message: "Authorization: unauthorized access" }),
      listItems: () => Promise.reject({ status: 502, message: "Bad gateway" }),
    } as unknown as OPConnect;

    const denied = await rejectionOf(onePassword({ client: stub, vaultId }).get({ key: "k" }));
    const unavailable = await rejectionOf(
      onePassword({ client: stub, vaultId, retryDelay: 0 }).list?.()[Symbol.asyncIterator]().next(),
    );

    const html = {
      listItemsByTitle: () => Promise.reject("<html>proxy error</html>"),
    } as unknown as OPConnect;
    const unexpected = await rejectionOf(onePassword({ client: html, vaultId }).get({ key: "k" }));

    expect(isStrongboxError(unexpected, "BACKEND")).toBe(true);
    expect((unexpected as Error).message).toContain("unexpected answer");
    expect(isStrongboxError(denied, "ACCESS_DENIED")).toBe(true);
    expect((denied as Error).cause).toBeInstanceOf(Error);
    expect(isStrongboxError(unavailable, "UNAVAILABLE")).toBe(true);
  });

  it("retries a 5xx and succeeds when the server recovers", async () => {
    await backend().put?.({ key: "flaky" }, "steady");
    emulator.faults.failNext(2, 503);

    const secret = await backend().get({ key: "flaky" });

    expect(secret?.value.reveal()).toBe("steady");
  });

  it("a proxy's HTML 502 page keeps its status: retried, then UNAVAILABLE rather than BACKEND", async () => {
    await backend().put?.({ key: "behind-proxy" }, "steady");
    const page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    emulator.faults.failNext(1, 502, page, { "content-type": "text/html" });

    const recovered = await backend().get({ key: "behind-proxy" });
    emulator.faults.failNext(10, 502, page, { "content-type": "text/html" });
    const error = await rejectionOf(backend({ retries: 1 }).get({ key: "behind-proxy" }));

    expect(recovered?.value.reveal()).toBe("steady");
    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toContain("502");
  });

  it("caps each wait between retries at 20 s, however long the configured first delay", async () => {
    const stub = {
      listItemsByTitle: () => Promise.reject({ status: 503, message: "Service unavailable" }),
    } as unknown as OPConnect;
    const store = onePassword({ client: stub, vaultId, retries: 2, retryDelay: "1h" });

    let error: unknown;
    const delays = await recordRetryDelays(async () => {
      error = await rejectionOf(store.get({ key: "capped" }));
    });

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect(delays).toEqual([20_000, 20_000]);
  });

  it("gives up after bounded retries with UNAVAILABLE", async () => {
    emulator.faults.failNext(10, 500);
    const before = emulator.requests.length;

    const error = await rejectionOf(backend({ retries: 2 }).get({ key: "down" }));

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect(emulator.requests.length - before).toBe(3);
  });

  it("a request slower than the timeout is retried, then UNAVAILABLE", async () => {
    // Wide margins: a 50 ms limit could fire before a loaded machine even sends the request.
    emulator.faults.latencyMs = 1500;
    const before = emulator.requests.length;

    const error = await rejectionOf(backend({ timeout: 250, retries: 1 }).get({ key: "slow" }));

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect(emulator.requests.length - before).toBe(2);
  });

  it("a dropped connection ends in UNAVAILABLE and neither the token nor the value leaks", async () => {
    const value = "drop-canary-value-123";
    const leaks = watchForLeaks([emulator.token, value]);
    try {
      emulator.faults.dropNext(10);
      const error = await rejectionOf(
        backend({ retries: 1 }).put?.({ key: "dropped" }, SecretValue.from(value)),
      );
      expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
      leaks.check(error, "the error");
    } finally {
      leaks.stop();
    }
  });

  it("raw naming writes and lists items titled by the key after the prefix", async () => {
    const store = backend({ naming: "raw", prefix: "rawp" });
    await store.put?.({ key: "plain title" }, "raw-value", { tags: { kind: "raw" } });

    const listed = [];
    for await (const entry of store.list?.() ?? []) listed.push(entry.ref);

    expect(emulator.items(vaultId).some((item) => item.title === "rawp/plain title")).toBe(true);
    expect(listed).toEqual([{ key: "plain title" }]);
    expect((await store.get({ key: "plain title" }))?.value.reveal()).toBe("raw-value");
    expect(await store.delete?.({ key: "plain title" })).toBe(true);
  });

  it("raw naming refuses a title that would break the title filter with INVALID_NAME, before any call", async () => {
    const before = emulator.requests.length;

    const quoted = await rejectionOf(backend({ naming: "raw" }).get({ key: 'say "hi"' }));
    const control = await rejectionOf(backend({ naming: "raw" }).put?.({ key: "tab\there" }, "x"));

    expect(isStrongboxError(quoted, "INVALID_NAME")).toBe(true);
    expect(isStrongboxError(control, "INVALID_NAME")).toBe(true);
    expect(emulator.requests.length).toBe(before);
  });

  it("two items with the secret's exact title fail with CONFLICT rather than picking one", async () => {
    await backend().put?.({ key: "twice" }, "first");
    const original = emulator.items(vaultId).find((item) => item.title === "twice");
    emulator.items(vaultId).push({ ...structuredClone(original!), id: "abcdefghijklmnopqrstuvwxy1" });

    const error = await rejectionOf(backend().get({ key: "twice" }));

    expect(isStrongboxError(error, "CONFLICT")).toBe(true);
  });

  it("an item deleted between the title filter and its read is absent", async () => {
    await backend().put?.({ key: "vanishing" }, "x");
    const stub = {
      listItemsByTitle: () => Promise.reject({ status: 404, message: "Item not found" }),
      getVaultById: () => Promise.resolve({ id: vaultId }),
    } as unknown as OPConnect;

    expect(await onePassword({ client: stub, vaultId }).get({ key: "vanishing" })).toBeUndefined();
  });

  it("raw naming reads an item made by a person, by its title", async () => {
    emulator.items(vaultId).push({
      id: "abcdefghijklmnopqrstuvwxy0",
      title: "Stripe API",
      vault: { id: vaultId },
      category: "API_CREDENTIAL",
      version: 3,
      tags: ["payments"],
      fields: [{ id: "credential", type: "CONCEALED", label: "credential", value: "sk_test_1" }],
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });

    const secret = await backend({ naming: "raw" }).get({ key: "Stripe API" });

    expect(secret?.value.reveal()).toBe("sk_test_1");
    expect(secret?.version).toBe("3");
    expect(secret?.tags).toEqual({ payments: "" });
  });

  it("an item with no password or concealed field fails with BACKEND, not as a missing secret", async () => {
    emulator.items(vaultId).push({
      id: "abcdefghijklmnopqrstuvwxy2",
      title: "Runbook note",
      vault: { id: vaultId },
      category: "SECURE_NOTE",
      version: 1,
      tags: [],
      fields: [{ id: "notesPlain", type: "STRING", purpose: "NOTES", label: "notesPlain", value: "steps" }],
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });

    const error = await rejectionOf(backend({ naming: "raw" }).get({ key: "Runbook note" }));

    expect(isStrongboxError(error, "BACKEND")).toBe(true);
    expect((error as Error).message).toContain("no password or concealed field");
  });

  it("createSecretManager loads this adapter from a kebab-case 1password block with default tags", async () => {
    const manager = await createSecretManager({
      secret: {
        type: "1password",
        "1password": {
          address: emulator.url,
          token: emulator.token,
          "vault-id": vaultId,
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

    expect(manager.type).toBe("1password");
    expect(secret?.value.reveal()).toBe("from-manager");
    expect(secret?.tags).toEqual({ Application: "Billing", team: "ops" });
    expect(emulator.items(vaultId).some((item) => item.title.startsWith("manager/"))).toBe(true);
  });

  it("validates options when the factory runs and makes no call before the first operation", () => {
    const before = emulator.requests.length;
    expect(() => onePassword({ address: emulator.url, vaultId: "not-a-vault" } as never)).toThrow(
      /1password\.vaultId[\s\S]*1password\.token/,
    );
    fromConfig({ address: emulator.url, token: emulator.token, vaultId }, { path: "secret.1password" });
    expect(emulator.requests.length).toBe(before);
    expect(() => fromConfig({ address: "nope", token: "t", vaultId }, { path: "secret.1password" })).toThrow(
      /secret\.1password\.address/,
    );
  });
});

const live = {
  url: process.env.STRONGBOX_IT_OP_CONNECT_URL,
  token: process.env.STRONGBOX_IT_OP_CONNECT_TOKEN,
  vault: process.env.STRONGBOX_IT_OP_VAULT_ID,
};
describe.runIf(live.url && live.token && live.vault)(
  "1password (live; needs STRONGBOX_IT_OP_CONNECT_URL, STRONGBOX_IT_OP_CONNECT_TOKEN, STRONGBOX_IT_OP_VAULT_ID)",
  () => {
    testBackend("1password (live)", () =>
      onePassword({
        address: live.url,
        token: live.token,
        vaultId: live.vault as string,
        prefix: "strongbox-it",
      }),
    );
  },
);
