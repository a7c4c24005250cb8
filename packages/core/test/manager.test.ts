import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rejectionOf } from "@strongbox/testing";
import { describe, expect, it } from "vitest";
import {
  type AuditEvent,
  configFromEnv,
  createSecretManager,
  isStrongboxError,
  loadConfig,
  memory,
  parseConfig,
  parseYamlConfig,
  type SecretBackend,
} from "../src/index.ts";
import { counting } from "./counting.ts";

describe("configuration", () => {
  it("accepts DESIGN.md's kebab-case block and camelCase alike, and keeps tag names as written", () => {
    const kebab = parseConfig({
      secret: {
        type: "memory",
        tags: { "cost-center": "42" },
        "read-only": { enabled: true, tags: { "app-name": "billing" } },
        cache: { enabled: true, "maximum-size": 10, "expire-after-write": "60s" },
        isolation: { enabled: true, "denied-services": ["executor"] },
      },
    });
    const camel = parseConfig({
      secret: {
        type: "memory",
        tags: { "cost-center": "42" },
        readOnly: { enabled: true, tags: { "app-name": "billing" } },
        cache: { enabled: true, maximumSize: 10, expireAfterWrite: 60_000 },
        isolation: { enabled: true, deniedServices: ["executor"] },
      },
    });
    expect(kebab).toEqual(camel);
    expect(kebab.secret.cache?.expireAfterWrite).toBe(60_000);
    expect(kebab.secret.readOnly?.tags).toEqual({ "app-name": "billing" });
    expect(kebab.secret.tags).toEqual({ "cost-center": "42" });
  });

  it("a bad field fails with INVALID_OPTIONS naming its path, never echoing a value", () => {
    let error: unknown;
    try {
      parseConfig({
        secret: { type: "memory", cache: { enabled: "sure-thing-canary", "maximum-size": -1 } },
      });
    } catch (caught) {
      error = caught;
    }
    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect(String(error)).toContain("secret.cache.enabled: expected boolean");
    expect(String(error)).toContain("secret.cache.maximum-size: must be more than 0");
    expect(String(error)).not.toContain("sure-thing-canary");
    expect(() => parseConfig({ secret: { type: "nope" } })).toThrowError(/secret.type: expected one of/);
    expect(() => parseConfig({ secret: { type: "memory", vault: { token: "x" } } })).toThrowError(
      /secret.vault: a block for another type/,
    );
  });

  it("loads YAML with ${ENV} expansion and STRONGBOX_* variables on top", async () => {
    const dir = await mkdtemp(join(tmpdir(), "strongbox-config-"));
    const file = join(dir, "strongbox.yaml");
    await writeFile(
      file,
      [
        "secret:",
        "  type: jdbc",
        "  jdbc:",
        "    url: ${DB_URL}",
        "    secret: ${KEY:-fallback-key}",
        "  cache: { enabled: true }",
      ].join("\n"),
    );
    const env = {
      DB_URL: "sqlite:./x.db",
      STRONGBOX_SECRET__CACHE__MAXIMUM_SIZE: "5",
      STRONGBOX_SECRET__JDBC__TABLE: "s",
    };
    const raw = await loadConfig({ file, env });
    expect(raw).toEqual({
      secret: {
        type: "jdbc",
        jdbc: { url: "sqlite:./x.db", secret: "fallback-key", table: "s" },
        cache: { enabled: true, maximumSize: 5 },
      },
    });
    await writeFile(file, "secret:\n  type: jdbc\n  jdbc:\n    url: ${MISSING_VAR}\n");
    await expect(loadConfig({ file, env: {} })).rejects.toThrowError(
      /secret.jdbc.url uses \$\{MISSING_VAR\}/,
    );
    // A field replaced by an override or a STRONGBOX_* variable needs none of its variables.
    await expect(
      loadConfig({ file, env: {}, overrides: { secret: { jdbc: { url: "sqlite:./y.db" } } } }),
    ).resolves.toEqual({ secret: { type: "jdbc", jdbc: { url: "sqlite:./y.db" } } });
    await expect(
      loadConfig({ file, env: { STRONGBOX_SECRET__JDBC__URL: "sqlite:./z.db" } }),
    ).resolves.toEqual({ secret: { type: "jdbc", jdbc: { url: "sqlite:./z.db" } } });
    await expect(
      loadConfig({ file, env: {}, overrides: { secret: { "read-only": { enabled: true } } } }),
    ).rejects.toThrowError(/secret.jdbc.url uses \$\{MISSING_VAR\}/);
    expect(() => parseYamlConfig("a:\n  - ${MISSING_VAR}\n", "inline.yaml", {})).toThrowError(
      /inline.yaml: a.0 uses \$\{MISSING_VAR\}/,
    );
    expect(configFromEnv({ STRONGBOX_SECRET__READ_ONLY__ENABLED: "true" })).toEqual({
      secret: { "read-only": { enabled: true } },
    });
    await writeFile(file, "secret:\n  type: jdbc\n  jdbc: { secret: yaml-canary-value, url: [unclosed\n");
    const broken = await rejectionOf(loadConfig({ file, env: {} }));
    expect(String(broken)).toMatch(/is not valid YAML \(line \d+, column \d+\)/);
    expect(String(broken)).not.toContain("yaml-canary-value");
  });
});

describe("createSecretManager", () => {
  it("composes the configured features around the store", async () => {
    const store = counting(memory());
    const events: AuditEvent[] = [];
    const manager = await createSecretManager(
      { secret: { type: "memory", tags: { app: "billing" }, cache: { enabled: true } } },
      { backend: store, service: "worker", audit: (event) => void events.push(event) },
    );
    await manager.put({ namespace: "company", key: "DB" }, "s3cret");
    const found = await manager.get({ namespace: "company.team.etl", key: "DB" });
    expect(found?.ref).toEqual({ namespace: "company", key: "DB" });
    expect(found?.tags).toEqual({ app: "billing" });
    await manager.get({ namespace: "company.team.etl", key: "DB" });
    // One read by default tags (a put without tags keeps the current tags), three inherited levels, then the cache.
    expect(store.calls.get).toBe(4);
    expect(events.map((event) => event.operation)).toEqual(["put", "get", "get"]);
  });

  it("a denied service is refused before the cache and the store", async () => {
    const store = counting(memory());
    const manager = await createSecretManager(
      {
        secret: {
          type: "memory",
          cache: { enabled: true },
          isolation: { enabled: true, "denied-services": ["executor"] },
        },
      },
      { backend: store, service: "executor" },
    );
    expect(isStrongboxError(await rejectionOf(manager.get("K")), "ACCESS_DENIED")).toBe(true);
    expect(store.calls.get).toBe(0);
  });

  it("inheritance never falls back into a namespace the isolation policy denies", async () => {
    const store = memory();
    await store.put?.({ namespace: "company", key: "DB" }, "company-only");
    await store.put?.({ key: "ROOT" }, "root-only");
    await store.put?.({ namespace: "company.team", key: "TEAM" }, "team-value");
    const manager = await createSecretManager(
      {
        secret: {
          type: "memory",
          isolation: {
            enabled: true,
            namespaces: { allow: ["company.team.*"], deny: ["company.*"], default: "deny" },
          },
        },
      },
      { backend: store, service: "worker" },
    );
    expect(
      isStrongboxError(await rejectionOf(manager.get({ namespace: "company", key: "DB" })), "ACCESS_DENIED"),
    ).toBe(true);
    expect(await manager.get({ namespace: "company.team.etl", key: "DB" })).toBeUndefined();
    expect(await manager.get({ namespace: "company.team.etl", key: "ROOT" })).toBeUndefined();
    expect((await manager.get({ namespace: "company.team.etl", key: "TEAM" }))?.value.reveal()).toBe(
      "team-value",
    );
    await expect(
      manager.render("{{ secret('DB') }}", { namespace: "company.team.etl" }),
    ).rejects.toThrowError(/does not exist/);
  });

  it("the memory block is validated like every other type's", async () => {
    const error = await rejectionOf(
      createSecretManager({ secret: { type: "memory", memory: { "max-versoins": 2 } } }),
    );
    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect(String(error)).toContain("secret.memory");
    const manager = await createSecretManager({ secret: { type: "memory", memory: { "max-versions": 1 } } });
    const first = await manager.put("K", "one");
    await manager.put("K", "two");
    expect(await manager.get("K", { version: first.version as string })).toBeUndefined();
  });

  it("read-only refuses writes; a missing capability is UNSUPPORTED, never a silent no-op", async () => {
    const readOnlyManager = await createSecretManager({
      secret: { type: "memory", "read-only": { enabled: true } },
    });
    expect(isStrongboxError(await rejectionOf(readOnlyManager.put("K", "v")), "READ_ONLY")).toBe(true);
    const getOnly: SecretBackend = {
      type: "custom",
      capabilities: memory().capabilities,
      get: async () => undefined,
    };
    const manager = await createSecretManager({ secret: { type: "memory" } }, { backend: getOnly });
    expect(isStrongboxError(await rejectionOf(manager.put("K", "v")), "UNSUPPORTED")).toBe(true);
    expect(isStrongboxError(await rejectionOf(manager.delete("K")), "UNSUPPORTED")).toBe(true);
    expect(() => manager.list()).toThrowError(expect.objectContaining({ code: "UNSUPPORTED" }));
  });

  it("getOrThrow, getValue and getJson", async () => {
    const manager = await createSecretManager(
      { secret: { type: "memory" } },
      { scope: { namespace: "team" } },
    );
    await manager.put("JSON", '{"user":"app","port":5432}');
    await manager.put("TEXT", "not-json-canary");
    expect(await manager.getJson("JSON")).toEqual({ user: "app", port: 5432 });
    expect(await manager.getValue({ namespace: "team", key: "TEXT" })).toBe("not-json-canary");
    expect(await manager.getValue("ABSENT")).toBeUndefined();
    const notFound = await rejectionOf(manager.getOrThrow("ABSENT"));
    expect(isStrongboxError(notFound, "NOT_FOUND")).toBe(true);
    expect(String(notFound)).toContain('get "team/ABSENT"');
    const notJson = await rejectionOf(manager.getJson("TEXT"));
    expect(isStrongboxError(notJson, "BACKEND")).toBe(true);
    expect(String(notJson)).not.toContain("not-json-canary");
  });

  it("loads only the adapter of the configured type, and says which package a missing one needs", async () => {
    const error = await rejectionOf(createSecretManager({ secret: { type: "doppler", doppler: {} } }));
    expect(isStrongboxError(error)).toBe(true);
    expect(String(error)).toMatch(/doppler/);
  });
});

describe("templates", () => {
  it("render replaces secret() calls, with subkey and namespace, fetching each secret once", async () => {
    const store = counting(memory());
    await store.put?.({ namespace: "company.team", key: "DB_PASSWORD" }, "pw");
    await store.put?.({ namespace: "company.team", key: "DB" }, '{"user":"app","port":5432}');
    await store.put?.({ namespace: "other", key: "TOKEN" }, "tok");
    store.calls.get = 0;
    const manager = await createSecretManager(
      { secret: { type: "memory", inheritance: { enabled: false } } },
      { backend: store },
    );
    const rendered = await manager.render(
      "postgres://{{ secret('DB', subkey='user') }}:{{ secret('DB_PASSWORD') }}@h:{{secret(\"DB\", subkey=\"port\")}} {{ secret('TOKEN', namespace='other') }}",
      { namespace: "company.team" },
    );
    expect(rendered).toBe("postgres://app:pw@h:5432 tok");
    expect(store.calls.get).toBe(3);
  });

  it("resolve renders a nested object and keeps non-strings", async () => {
    const manager = await createSecretManager({ secret: { type: "memory" } });
    await manager.put({ namespace: "a", key: "PW" }, "pw");
    const resolved = await manager.resolve(
      {
        db: { password: "{{ secret('PW') }}", port: 5432, hosts: ["h1", "{{ secret('PW') }}"] },
        enabled: true,
      },
      { namespace: "a.b" },
    );
    expect(resolved).toEqual({ db: { password: "pw", port: 5432, hosts: ["h1", "pw"] }, enabled: true });
  });

  it("a missing secret or unknown function is a clear error; registered functions work", async () => {
    const manager = await createSecretManager({ secret: { type: "memory" } });
    expect(isStrongboxError(await rejectionOf(manager.render("{{ secret('NOPE') }}")), "NOT_FOUND")).toBe(
      true,
    );
    await expect(manager.render("{{ credential('x') }}")).rejects.toThrowError(/unknown function credential/);
    manager.registerTemplateFunction(
      "credential",
      async (args, scope) => `token-for-${args.positional[0]}-${scope.namespace}`,
    );
    expect(await manager.render("Bearer {{ credential('api') }}", { namespace: "n" })).toBe(
      "Bearer token-for-api-n",
    );
    await expect(manager.render("{{ secret(NAME) }}")).rejects.toThrowError(/quoted strings/);
  });
});
