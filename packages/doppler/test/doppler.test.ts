import {
  createSecretManager,
  isStrongboxError,
  nameCodec,
  namingRules,
  parseYamlConfig,
  refId,
  type SecretBackend,
  type SecretEntry,
  type SecretRef,
} from "@strongbox/core";
import { renderings, testBackend } from "@strongbox/testing";
import { type DopplerEmulator, startDopplerEmulator } from "@strongbox/testing/emulators/doppler";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DopplerOptions, doppler, fromConfig } from "../src/index.ts";

const TOKEN = "dp.pt.adapter-test-token";
let emulator: DopplerEmulator;
let counter = 0;

beforeAll(async () => {
  emulator = await startDopplerEmulator({
    tokens: [
      { token: TOKEN },
      { token: "dp.st.service", project: "strongbox", config: "svc" },
      { token: "dp.st.readonly", access: "read", project: "strongbox", config: "dev" },
    ],
    configs: ["strongbox/dev", "strongbox/svc"],
  });
});
afterAll(async () => {
  await emulator.close();
});
afterEach(() => emulator.faults.reset());

/** A backend on a config of its own. */
const backendOn = (extra: Partial<DopplerOptions> = {}): { backend: SecretBackend; config: string } => {
  counter += 1;
  const config = `cfg_${counter}`;
  emulator.addConfig("strongbox", config);
  return {
    config,
    backend: doppler({
      token: TOKEN,
      project: "strongbox",
      config,
      baseUrl: emulator.url,
      retryDelay: 1,
      ...extra,
    }),
  };
};

const listAll = async (backend: SecretBackend, query?: Parameters<NonNullable<SecretBackend["list"]>>[0]) => {
  const out: SecretEntry[] = [];
  for await (const entry of backend.list?.(query) ?? []) out.push(entry);
  return out;
};

// Names past 256 characters are hashed, and `list` skips them: Doppler has no metadata to keep
// the exact ref in (documented; pinned below), hence `listsHashedNames: false`.
testBackend(
  "doppler (emulator)",
  () => doppler({ token: TOKEN, project: "strongbox", config: "dev", baseUrl: emulator.url }),
  { listsHashedNames: false },
);
testBackend(
  "doppler with a name prefix and a service token (emulator)",
  () => doppler({ token: "dp.st.service", secretNamePrefix: "BILLING", baseUrl: emulator.url }),
  { listsHashedNames: false },
);

const env = process.env;
describe.runIf(env.STRONGBOX_IT_DOPPLER_TOKEN)(
  "doppler (live: runs when STRONGBOX_IT_DOPPLER_TOKEN is set, with STRONGBOX_IT_DOPPLER_PROJECT/_CONFIG unless it is a service token)",
  () => {
    testBackend(
      "doppler (live)",
      () =>
        doppler({
          token: env.STRONGBOX_IT_DOPPLER_TOKEN as string,
          ...(env.STRONGBOX_IT_DOPPLER_PROJECT && { project: env.STRONGBOX_IT_DOPPLER_PROJECT }),
          ...(env.STRONGBOX_IT_DOPPLER_CONFIG && { config: env.STRONGBOX_IT_DOPPLER_CONFIG }),
          secretNamePrefix: "STRONGBOX_IT",
          ...(env.STRONGBOX_IT_DOPPLER_MAX_NAME_LENGTH && {
            maxNameLength: Number(env.STRONGBOX_IT_DOPPLER_MAX_NAME_LENGTH),
          }),
        }),
      { listsHashedNames: false },
    );
  },
);

describe("doppler: names", () => {
  it("writes Doppler-legal names and lists them back as the exact refs", async () => {
    const { backend, config } = backendOn();
    const refs = [
      { key: "DB_PASSWORD" },
      { key: "db.password" },
      { tenant: "Acme Corp", namespace: "billing.eu", key: "api-key/v2" },
      { namespace: "billing", key: "ünïcödé 🔑" },
      { key: "9lives" },
    ];
    for (const [index, ref] of refs.entries()) await backend.put?.(ref, `value-${index}`);
    const names = [...emulator.secrets("strongbox", config).keys()];
    for (const name of names) expect(name).toMatch(/^[A-Z_][A-Z0-9_]*$/);
    expect(names).toHaveLength(refs.length);
    const listed = (await listAll(backend)).map((entry) => entry.ref);
    expect(listed).toHaveLength(refs.length);
    expect(listed).toEqual(expect.arrayContaining(refs));
    for (const [index, ref] of refs.entries())
      expect((await backend.get(ref))?.value.reveal()).toBe(`value-${index}`);
  });

  it("list skips names the codec did not make (foreign and hashed past 256) and other prefixes", async () => {
    const { backend, config } = backendOn({ secretNamePrefix: "APP" });
    const long = { key: "k".repeat(300) };
    await backend.put?.({ key: "mine" }, "1");
    await backend.put?.(long, "2");
    const secrets = emulator.secrets("strongbox", config);
    secrets.set("FOREIGN_NAME", { raw: "x", note: "" });
    secrets.set("OTHER_SMINE", { raw: "x", note: "" });
    expect((await listAll(backend)).map((entry) => entry.ref)).toEqual([{ key: "mine" }]);
    expect(Math.max(...[...secrets.keys()].map((name) => name.length))).toBe(256);
    expect((await backend.get(long))?.value.reveal()).toBe("2");
    expect(await backend.delete?.(long)).toBe(true);
  });

  it("filters list by tenant and namespace through the name prefix", async () => {
    const { backend } = backendOn();
    await backend.put?.({ tenant: "a", namespace: "x", key: "one" }, "1");
    await backend.put?.({ tenant: "a", key: "two" }, "2");
    await backend.put?.({ tenant: "b", namespace: "x", key: "three" }, "3");
    expect((await listAll(backend, { tenant: "a" })).map((entry) => entry.ref.key).sort()).toEqual([
      "one",
      "two",
    ]);
    expect((await listAll(backend, { tenant: "a", namespace: null })).map((entry) => entry.ref.key)).toEqual([
      "two",
    ]);
    expect((await listAll(backend, { namespace: "x" })).map((entry) => entry.ref.key).sort()).toEqual([
      "one",
      "three",
    ]);
  });

  it("raw naming reads the Doppler name as the key", async () => {
    const { backend, config } = backendOn({ naming: "raw" });
    emulator.secrets("strongbox", config).set("STRIPE_KEY", { raw: "sk", note: "" });
    expect((await backend.get({ key: "STRIPE_KEY" }))?.value.reveal()).toBe("sk");
    expect((await listAll(backend)).map((entry) => entry.ref)).toEqual([{ key: "STRIPE_KEY" }]);
    await expect(backend.get({ key: "lower-case" })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "INVALID_NAME"),
    );
  });

  it("reads the raw value, not the computed one with ${references} expanded", async () => {
    const { backend, config } = backendOn();
    const codec = nameCodec(namingRules.doppler);
    emulator.secrets("strongbox", config).set("HOST", { raw: "db.internal", note: "" });
    await backend.put?.({ key: "TEMPLATE" }, "postgres://${HOST}/app");
    expect(codec.encode({ key: "TEMPLATE" })).toBe("TEMPLATE");
    expect((await backend.get({ key: "TEMPLATE" }))?.value.reveal()).toBe("postgres://${HOST}/app");
  });
});

describe("doppler: getMany", () => {
  it("reads many secrets in one call (raw values and notes); missing ones are absent", async () => {
    const { backend } = backendOn();
    const refs = [{ key: "one" }, { namespace: "n", key: "two" }, { key: "missing" }];
    await backend.put?.(refs[0] as SecretRef, "${ONE}");
    await backend.put?.(refs[1] as SecretRef, "2", { description: "second" });
    const before = emulator.requests.length;
    const found = await backend.getMany?.(refs);
    expect(emulator.requests.length - before).toBe(1);
    expect([...(found?.keys() ?? [])]).toEqual([refId(refs[0] as SecretRef), refId(refs[1] as SecretRef)]);
    expect(found?.get(refId(refs[0] as SecretRef))?.value.reveal()).toBe("${ONE}");
    expect(found?.get(refId(refs[1] as SecretRef))?.description).toBe("second");
  });

  it("splits a long list of names into several calls", async () => {
    const { backend } = backendOn();
    const refs = Array.from({ length: 40 }, (_, i) => ({ key: `k${i}_${"x".repeat(200)}` }));
    await backend.put?.(refs[7] as SecretRef, "seven");
    const before = emulator.requests.length;
    const found = await backend.getMany?.(refs);
    expect(emulator.requests.length - before).toBeGreaterThan(1);
    expect([...(found?.values() ?? [])].map((secret) => secret.value.reveal())).toEqual(["seven"]);
  });
});

describe("doppler: tags, notes and writes", () => {
  it("declares no tags and a put with tags fails with UNSUPPORTED saying why", async () => {
    const { backend, config } = backendOn();
    expect(backend.capabilities).toMatchObject({ tags: false, tagFilter: "none" });
    const error = await backend
      .put?.({ key: "TAGGED" }, "v", { tags: { team: "ops" } })
      .catch((caught: unknown) => caught);
    expect(isStrongboxError(error, "UNSUPPORTED")).toBe(true);
    expect((error as Error).message).toMatch(/no tags.*ignoreTags/);
    expect(emulator.secrets("strongbox", config).size).toBe(0);
  });

  it("with ignoreTags, a put with tags writes the value and drops the tags", async () => {
    const { backend } = backendOn({ ignoreTags: true });
    const written = await backend.put?.({ key: "TAGGED" }, "v", { tags: { team: "ops" } });
    expect(written?.tags).toEqual({});
    expect((await backend.get({ key: "TAGGED" }))?.value.reveal()).toBe("v");
  });

  it("a tag filter on list fails with UNSUPPORTED", async () => {
    const { backend } = backendOn();
    await expect(listAll(backend, { tags: { a: "b" } })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNSUPPORTED"),
    );
  });

  it("keeps the description as the note, and an update without one keeps it", async () => {
    const { backend, config } = backendOn();
    await backend.put?.({ key: "NOTED" }, "one", { description: "the primary key" });
    await backend.put?.({ key: "NOTED" }, "two");
    const name = nameCodec(namingRules.doppler).encode({ key: "NOTED" });
    expect(emulator.secrets("strongbox", config).get(name)?.note).toBe("the primary key");
    expect(await backend.get({ key: "NOTED" })).toMatchObject({ description: "the primary key" });
  });

  it("refuses bytes and check-and-set with UNSUPPORTED", async () => {
    const { backend } = backendOn();
    await expect(backend.put?.({ key: "B" }, new Uint8Array([1, 2]))).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNSUPPORTED"),
    );
    await expect(backend.put?.({ key: "C" }, "v", { expectedVersion: null })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNSUPPORTED"),
    );
  });
});

describe("doppler: versions", () => {
  it("get with a version fails with UNSUPPORTED before any call, since Doppler keeps no versions", async () => {
    const { backend } = backendOn();
    await backend.put?.({ key: "API_KEY" }, "first");
    await backend.put?.({ key: "API_KEY" }, "second");
    const before = emulator.requests.length;

    const error = await backend.get({ key: "API_KEY" }, { version: "1" }).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "UNSUPPORTED")).toBe(true);
    expect(emulator.requests.length).toBe(before);
  });
});

describe("doppler: failures", () => {
  it("makes no network call before the first operation", () => {
    const before = emulator.requests.length;
    backendOn();
    expect(emulator.requests.length).toBe(before);
  });

  it("a wrong token is ACCESS_DENIED and the error never holds the token", async () => {
    const { backend } = backendOn({ token: "dp.st.wrong-token-value" });
    const error = await backend.get({ key: "X" }).catch((caught: unknown) => caught);
    expect(isStrongboxError(error, "ACCESS_DENIED")).toBe(true);
    for (const text of renderings(error)) expect(text).not.toContain("wrong-token-value");
  });

  it("a read-only token writing is ACCESS_DENIED", async () => {
    const backend = doppler({ token: "dp.st.readonly", baseUrl: emulator.url });
    await expect(backend.put?.({ key: "X" }, "v")).rejects.toSatisfy((error) =>
      isStrongboxError(error, "ACCESS_DENIED"),
    );
  });

  it("a missing config is a BACKEND error, not a missing secret", async () => {
    const backend = doppler({ token: TOKEN, project: "strongbox", config: "nope", baseUrl: emulator.url });
    const error = await backend.get({ key: "X" }).catch((caught: unknown) => caught);
    expect(isStrongboxError(error, "BACKEND")).toBe(true);
    expect((error as Error).message).toContain("config");
  });

  it("retries 429 (honouring Retry-After) and 5xx, then succeeds", async () => {
    const { backend } = backendOn();
    await backend.put?.({ key: "R" }, "v");
    const before = emulator.requests.length;
    emulator.faults.failNext(1, 429, undefined, { "retry-after": "0" });
    expect((await backend.get({ key: "R" }))?.value.reveal()).toBe("v");
    emulator.faults.failNext(2, 503);
    expect((await backend.get({ key: "R" }))?.value.reveal()).toBe("v");
    expect(emulator.requests.length - before).toBe(5);
  });

  it("after bounded retries, 429 is UNAVAILABLE", async () => {
    const { backend } = backendOn({ maxRetries: 2 });
    const before = emulator.requests.length;
    emulator.faults.failNext(5, 429);
    await expect(backend.get({ key: "R" })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNAVAILABLE"),
    );
    expect(emulator.requests.length - before).toBe(3);
  });

  it("dropped connections are retried, then UNAVAILABLE", async () => {
    const { backend } = backendOn({ maxRetries: 1 });
    emulator.faults.dropNext(2);
    await expect(backend.get({ key: "R" })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNAVAILABLE"),
    );
  });

  it("delete of a missing secret resolves false", async () => {
    const { backend } = backendOn();
    expect(await backend.delete?.({ key: "NEVER" })).toBe(false);
  });
});

describe("doppler: options", () => {
  it("refuses a prefix Doppler cannot use, naming the field", () => {
    expect(() => doppler({ token: TOKEN, secretNamePrefix: "billing" })).toThrow(/doppler\.secretNamePrefix/);
  });

  it("refuses a project without a config", () => {
    expect(() => doppler({ token: TOKEN, project: "p" })).toThrow(/doppler\.config/);
  });

  it("an invalid option never echoes the token", () => {
    let error: unknown;
    try {
      doppler({ token: "dp.st.secret-token-123", baseUrl: "not a url" });
    } catch (caught) {
      error = caught;
    }
    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    for (const text of renderings(error)) expect(text).not.toContain("secret-token-123");
  });

  it("fromConfig takes the camelCase block and the configuration prefix", async () => {
    const backend = fromConfig(
      { token: TOKEN, project: "strongbox", config: "dev", baseUrl: emulator.url, ignoreTags: true },
      { path: "secret.doppler", prefix: "CFG" },
    );
    await backend.put?.({ key: "from-config" }, "v");
    expect([...emulator.secrets("strongbox", "dev").keys()].some((name) => name.startsWith("CFG_S"))).toBe(
      true,
    );
    await backend.delete?.({ key: "from-config" });
    expect(() => fromConfig({ project: "p", config: "c" }, { path: "secret.doppler" })).toThrow(
      /secret\.doppler\.token/,
    );
  });
});

describe("doppler: through createSecretManager", () => {
  it("the YAML block of the README configures the backend", async () => {
    emulator.addConfig("billing", "prd");
    const yaml = `
secret:
  type: doppler
  doppler:
    token: \${DOPPLER_TOKEN}
    project: billing
    config: prd
    base-url: ${emulator.url}
    secret-name-prefix: KESTRA
    naming: scoped
    ignore-tags: false
    max-retries: 1
    timeout: 5s
`;
    const manager = await createSecretManager(
      parseYamlConfig(yaml, "strongbox.yaml", { DOPPLER_TOKEN: TOKEN }),
    );
    await manager.put({ namespace: "payments", key: "stripe-key" }, "sk-yaml", { description: "Stripe" });
    expect(await manager.getValue({ namespace: "payments", key: "stripe-key" })).toBe("sk-yaml");
    expect(emulator.secrets("billing", "prd").get("KESTRA_S_N_UPAYMENTS_S_USTRIPE_2DKEY")).toEqual({
      raw: "sk-yaml",
      note: "Stripe",
    });
  });

  it("default tags in the configuration fail at start-up, since Doppler keeps none", async () => {
    const config = {
      secret: { type: "doppler", tags: { app: "x" }, doppler: { token: TOKEN, baseUrl: emulator.url } },
    };
    await expect(createSecretManager(config)).rejects.toSatisfy((error) =>
      isStrongboxError(error, "INVALID_OPTIONS"),
    );
  });
});
