import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import * as grpc from "@grpc/grpc-js";
import {
  createSecretManager,
  isStrongboxError,
  nameCodec,
  namingRules,
  readOnly,
  type SecretBackend,
  type SecretEntry,
} from "@strongbox/core";
import { fromConfig, googleSecretManager } from "@strongbox/gcp";
import { strongboxRejection, watchForLeaks } from "@strongbox/testing";
import {
  type GoogleSecretManagerEmulator,
  startGoogleSecretManagerEmulator,
} from "@strongbox/testing/emulators/gcp";
import { PassThroughClient } from "google-auth-library";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const PROJECT = "strongbox-behaviour";
let emulator: GoogleSecretManagerEmulator;
let client: SecretManagerServiceClient;

beforeAll(async () => {
  emulator = await startGoogleSecretManagerEmulator();
  client = new SecretManagerServiceClient({
    apiEndpoint: emulator.host,
    port: emulator.port,
    sslCreds: grpc.credentials.createInsecure(),
    authClient: new PassThroughClient(),
  });
});

afterAll(async () => {
  await client.close();
  await emulator.close();
});

afterEach(() => {
  emulator.faults.reset();
  emulator.iam.roles = undefined;
});

const backendWith = (options: Parameters<typeof googleSecretManager>[0] = {}): SecretBackend =>
  googleSecretManager({ project: PROJECT, client, retryDelay: 1, ...options });
const listAll = async (backend: SecretBackend, query?: Parameters<NonNullable<SecretBackend["list"]>>[0]) => {
  const out: SecretEntry[] = [];
  for await (const entry of backend.list?.(query) ?? []) out.push(entry);
  return out;
};
const callsSince = (start: number, method?: string) =>
  emulator.requests.slice(start).filter((entry) => method === undefined || entry.method === method);

describe("names and tags", () => {
  it("keys with dots, mixed case and past 255 characters round-trip exactly through put, list and get", async () => {
    const backend = backendWith({ prefix: "names" });
    const refs = [
      { namespace: "odd.names", key: "db.password.v2" },
      { namespace: "odd.names", key: "MiXeD.Case-Key" },
      { tenant: "Acme Corp", namespace: "odd.names", key: `very-long-${"k".repeat(300)}` },
    ];

    for (const [index, ref] of refs.entries()) await backend.put?.(ref, `value-${index}`);
    const listed = await listAll(backend, { namespace: "odd.names" });

    for (const [index, ref] of refs.entries()) {
      expect((await backend.get(ref))?.value.reveal()).toBe(`value-${index}`);
      expect(listed.map((entry) => entry.ref)).toContainEqual(ref);
    }
    const [secrets] = await client.listSecrets({ parent: `projects/${PROJECT}` }, { autoPaginate: false });
    const ids = secrets
      .map((secret) => secret.name?.split("/secrets/")[1] ?? "")
      .filter((id) => id.startsWith("names"));
    expect(ids).toHaveLength(3);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,255}$/);
  });

  it("tags that break Google's label rules survive through an annotation; the others become labels", async () => {
    const backend = backendWith();
    const ref = { namespace: "tags.rules", key: "API_KEY" };
    const tags = { application: "billing", "team.name": "Ops Team", Owner: "alice", env: "PROD" };

    await backend.put?.(ref, "v", { tags, description: "the billing key" });
    const secret = await backend.get(ref);
    const id = nameCodec(namingRules.gcp).encode(ref);
    const [stored] = await client.getSecret({ name: `projects/${PROJECT}/secrets/${id}` });

    expect(secret?.tags).toEqual(tags);
    expect(secret?.description).toBe("the billing key");
    expect(stored.labels).toEqual({ application: "billing" });
    expect(JSON.parse(stored.annotations?.["strongbox-tags"] ?? "{}")).toEqual({
      "team.name": "Ops Team",
      Owner: "alice",
      env: "PROD",
    });
    expect(JSON.parse(stored.annotations?.["strongbox-ref"] ?? "{}")).toEqual(ref);
  });

  it("list filters label tags on the server and the other tags in this process", async () => {
    const backend = backendWith({ prefix: "filters" });
    await backend.put?.({ key: "a" }, "1", { tags: { app: "billing", Team: "Red" } });
    await backend.put?.({ key: "b" }, "2", { tags: { app: "billing", Team: "Blue" } });
    await backend.put?.({ key: "c" }, "3", { tags: { app: "other", Team: "Red" } });
    const start = emulator.requests.length;

    const listed = await listAll(backend, { tags: { app: "billing", Team: "Red" } });

    expect(listed.map((entry) => entry.ref.key)).toEqual(["a"]);
    const [call] = callsSince(start, "ListSecrets");
    expect(call?.filter).toContain('labels.app="billing"');
    expect(call?.filter).toContain('name:"filters-s"');
    expect(call?.filter).not.toContain("Team");
  });

  it("an overwrite without tags keeps the tags and description, and default tags are merged in", async () => {
    const backend = backendWith({ tags: { managed: "strongbox" } });
    const ref = { key: "keep-meta" };
    await backend.put?.(ref, "one", { tags: { app: "billing" }, description: "kept" });

    const written = await backend.put?.(ref, "two");
    const secret = await backend.get(ref);

    expect(written?.version).toBe("2");
    expect(secret?.tags).toEqual({ managed: "strongbox", app: "billing" });
    expect(secret?.description).toBe("kept");
    expect(secret?.value.reveal()).toBe("two");
  });

  it("raw naming reads a secret made outside Strongbox by its own id", async () => {
    await client.createSecret({
      parent: `projects/${PROJECT}`,
      secretId: "legacy_db-url",
      secret: { replication: { automatic: {} } },
    });
    await client.addSecretVersion({
      parent: `projects/${PROJECT}/secrets/legacy_db-url`,
      payload: { data: Buffer.from("postgres://x") },
    });
    const backend = backendWith({ naming: "raw" });

    const secret = await backend.get({ key: "legacy_db-url" });

    expect(secret?.value.reveal()).toBe("postgres://x");
    expect((await listAll(backend)).map((entry) => entry.ref.key)).toContain("legacy_db-url");
  });

  it("concurrent first puts of one ref both land: the loser of CreateSecret adds its version to the winner's secret", async () => {
    const backend = backendWith();
    const ref = { key: "raced" };
    const start = emulator.requests.length;

    const written = await Promise.all([backend.put?.(ref, "a"), backend.put?.(ref, "b")]);
    const [versions] = await client.listSecretVersions(
      { parent: `projects/${PROJECT}/secrets/raced` },
      { autoPaginate: false },
    );

    expect(written.map((meta) => meta?.version).sort()).toEqual(["1", "2"]);
    expect(versions).toHaveLength(2);
    expect(callsSince(start, "CreateSecret").map((entry) => entry.code)).toEqual([
      grpc.status.OK,
      grpc.status.ALREADY_EXISTS,
    ]);
  });

  it("a payload that fails its CRC32C check is an error, never a wrong value", async () => {
    const corrupt = {
      accessSecretVersion: async () => [
        {
          name: `projects/${PROJECT}/secrets/x/versions/1`,
          payload: { data: Buffer.from("tampered"), dataCrc32c: "1" },
        },
      ],
      getSecret: async () => [{ name: `projects/${PROJECT}/secrets/x`, labels: {}, annotations: {} }],
    } as unknown as SecretManagerServiceClient;
    const backend = googleSecretManager({ project: PROJECT, client: corrupt });

    const error = await strongboxRejection(backend.get({ key: "x" }));

    expect(error.code).toBe("BACKEND");
    expect(error.message).toContain("CRC32C");
    expect(error.message).not.toContain("tampered");
  });

  it("check-and-set is refused with UNSUPPORTED before any call", async () => {
    const backend = backendWith();
    const start = emulator.requests.length;

    const error = await strongboxRejection(backend.put?.({ key: "cas" }, "v", { expectedVersion: null }));

    expect(error.code).toBe("UNSUPPORTED");
    expect(callsSince(start)).toHaveLength(0);
  });

  it("get reads a version by number or by alias, and reports the version it read", async () => {
    const backend = backendWith();
    const ref = { key: "aliased" };
    await backend.put?.(ref, "one");
    await backend.put?.(ref, "two");
    const name = `projects/${PROJECT}/secrets/aliased`;
    await client.updateSecret({
      secret: { name, versionAliases: { stable: 1 } },
      updateMask: { paths: ["version_aliases"] },
    });

    const stable = await backend.get(ref, { version: "stable" });
    const latest = await backend.get(ref);
    const missing = await backend.get(ref, { version: "9" });
    const malformed = await strongboxRejection(backend.get(ref, { version: "a/b" }));

    expect(stable).toMatchObject({ version: "1" });
    expect(stable?.value.reveal()).toBe("one");
    expect(latest).toMatchObject({ version: "2" });
    expect(missing).toBeUndefined();
    expect(malformed.code).toBe("INVALID_NAME");
  });

  it("a disabled version is an error, not a missing secret", async () => {
    const backend = backendWith();
    const ref = { key: "disabled" };
    const written = await backend.put?.(ref, "v1");
    await client.disableSecretVersion({
      name: `projects/${PROJECT}/secrets/disabled/versions/${written?.version}`,
    });

    const error = await strongboxRejection(backend.get(ref));

    expect(error.code).toBe("BACKEND");
    expect(error.message).toContain("disabled or destroyed");
    expect(error.operation).toBe("get");
  });
});

describe("permissions", () => {
  it("read-only mode reads with roles/secretmanager.secretAccessor alone, making only AccessSecretVersion calls", async () => {
    const ref = { namespace: "ro", key: "TOKEN" };
    await backendWith().put?.(ref, "readable", { tags: { app: "billing" } });
    emulator.iam.roles = ["roles/secretmanager.secretAccessor"];
    const backend = readOnly(backendWith({ readMetadata: false }));
    const start = emulator.requests.length;

    const secret = await backend.get(ref);
    const older = await backend.get(ref, { version: "1" });
    const missing = await backend.get({ key: "absent" });
    const refused = await strongboxRejection(backend.put?.(ref, "nope"));

    expect(secret?.value.reveal()).toBe("readable");
    expect(secret?.version).toBe("1");
    expect(older?.value.reveal()).toBe("readable");
    expect(missing).toBeUndefined();
    expect(refused.code).toBe("READ_ONLY");
    expect(callsSince(start).map((entry) => [entry.method, entry.code])).toEqual([
      ["AccessSecretVersion", grpc.status.OK],
      ["AccessSecretVersion", grpc.status.OK],
      ["AccessSecretVersion", grpc.status.NOT_FOUND],
    ]);
  });

  it("PERMISSION_DENIED becomes ACCESS_DENIED with the operation, the ref and the cause", async () => {
    emulator.iam.roles = ["roles/secretmanager.secretAccessor"];
    const ref = { key: "denied" };

    const put = await strongboxRejection(backendWith().put?.(ref, "v"));
    const list = await strongboxRejection(listAll(backendWith()));
    const get = await strongboxRejection(backendWith().get(ref));

    expect(put).toMatchObject({
      code: "ACCESS_DENIED",
      operation: "put",
      ref,
      backend: "google-secret-manager",
    });
    expect((put.cause as { code?: number }).code).toBe(grpc.status.PERMISSION_DENIED);
    expect(list).toMatchObject({ code: "ACCESS_DENIED", operation: "list" });
    expect(get).toMatchObject({ code: "ACCESS_DENIED", operation: "get" });
    expect(get.message).toContain("readMetadata: false");
  });
  it("a failed AddSecretVersion carries no trace of the value in the error or its causes", async () => {
    const backend = backendWith();
    const ref = { key: "no-leak" };
    await backend.put?.(ref, "first");
    emulator.iam.roles = ["roles/secretmanager.viewer"];
    const canary = `leak-canary-${Date.now()}`;
    const leaks = watchForLeaks([canary]);

    const error = await strongboxRejection(backend.put?.(ref, canary));
    leaks.check(error, "the ACCESS_DENIED error");
    leaks.stop();

    expect(error.code).toBe("ACCESS_DENIED");
    expect(emulator.requests.at(-1)).toMatchObject({
      method: "AddSecretVersion",
      code: grpc.status.PERMISSION_DENIED,
    });
  });
});

describe("retries", () => {
  it("UNAVAILABLE then success: the call is retried and succeeds", async () => {
    const backend = backendWith({ readMetadata: false });
    await backend.put?.({ key: "flaky" }, "v");
    emulator.faults.failNext(2, "UNAVAILABLE");
    const start = emulator.requests.length;

    const secret = await backend.get({ key: "flaky" });

    expect(secret?.value.reveal()).toBe("v");
    expect(callsSince(start, "AccessSecretVersion").map((entry) => entry.code)).toEqual([
      grpc.status.UNAVAILABLE,
      grpc.status.UNAVAILABLE,
      grpc.status.OK,
    ]);
  });

  it("RESOURCE_EXHAUSTED and a dropped connection are retried too", async () => {
    const backend = backendWith({ readMetadata: false });
    await backend.put?.({ key: "throttled" }, "v");

    emulator.faults.failNext(1, "RESOURCE_EXHAUSTED");
    const throttled = await backend.get({ key: "throttled" });
    emulator.faults.dropNext(1);
    const dropped = await backend.get({ key: "throttled" });

    expect(throttled?.value.reveal()).toBe("v");
    expect(dropped?.value.reveal()).toBe("v");
  });

  it("UNAVAILABLE beyond the retries fails with UNAVAILABLE after retries + 1 attempts", async () => {
    const backend = backendWith({ readMetadata: false, retries: 2 });
    emulator.faults.failNext(10, "UNAVAILABLE");
    const start = emulator.requests.length;

    const error = await strongboxRejection(backend.get({ key: "down" }));

    expect(error).toMatchObject({ code: "UNAVAILABLE", operation: "get", ref: { key: "down" } });
    expect(error.message).toContain("3 attempts");
    expect(callsSince(start, "AccessSecretVersion")).toHaveLength(3);
  });
});

describe("deadlines and clients", () => {
  it("a call past the timeout fails with UNAVAILABLE and is not retried", async () => {
    const backend = backendWith({ readMetadata: false, timeout: 50 });
    emulator.faults.latencyMs = 1_000;
    const start = emulator.requests.length;

    const error = await strongboxRejection(backend.get({ key: "slow" }));

    expect(error).toMatchObject({ code: "UNAVAILABLE", operation: "get" });
    expect((error.cause as { code?: number }).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(callsSince(start, "AccessSecretVersion")).toHaveLength(1);
  });

  it("close() leaves a client the caller passed in open", async () => {
    const backend = backendWith();
    await backend.put?.({ key: "still_open" }, "v");

    await backend.close?.();
    const [secret] = await client.getSecret({ name: `projects/${PROJECT}/secrets/still_open` });

    expect(secret.name).toContain("/secrets/still_open");
  });
});

describe("options", () => {
  it("bad options fail with INVALID_OPTIONS naming the field, never echoing a key", async () => {
    const key = '{"type":"service_account","private_key":"-----BEGIN PRIVATE KEY-----canary';

    const badRetries = (() =>
      fromConfig({ retries: -1 }, { path: "secret.google-secret-manager" })) as () => never;
    const badKey = (() => googleSecretManager({ serviceAccount: key })) as () => never;
    const badPrefix = (() => googleSecretManager({ prefix: "has space" })) as () => never;
    const badProject = (() => googleSecretManager({ project: "a/b" })) as () => never;
    const noProject = (() => googleSecretManager({ endpoint: "http://127.0.0.1:1" })) as () => never;

    expect(badRetries).toThrow(/secret\.google-secret-manager\.retries/);
    expect(badKey).toThrow(/serviceAccount: expected a service account JSON key/);
    expect(badPrefix).toThrow(/prefix/);
    expect(badProject).toThrow(/secret\.google-secret-manager\.project/);
    expect(noProject).toThrow(/project: required with a plain-text \(emulator\) endpoint/);
    for (const build of [badRetries, badKey, badPrefix, badProject, noProject]) {
      const error = (() => {
        try {
          build();
        } catch (caught) {
          return caught;
        }
      })();
      expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
      expect(String((error as Error).message)).not.toContain("canary");
    }
  });

  it("fromConfig builds a backend without a call, and an http:// endpoint reaches an emulator", async () => {
    const start = emulator.requests.length;
    const backend = fromConfig(
      { project: PROJECT, endpoint: `http://${emulator.host}:${emulator.port}`, readMetadata: true },
      { path: "secret.google-secret-manager", prefix: "fromconfig" },
    );
    expect(callsSince(start)).toHaveLength(0);

    await backend.put?.({ key: "cfg" }, "configured");
    const secret = await backend.get({ key: "cfg" });
    await backend.close?.();

    expect(secret?.value.reveal()).toBe("configured");
    expect(callsSince(start, "AccessSecretVersion")[0]?.resource).toBe(
      `projects/${PROJECT}/secrets/fromconfig-scfg/versions/latest`,
    );
  });

  it("createSecretManager loads this adapter from a kebab-case google-secret-manager block", async () => {
    const manager = await createSecretManager({
      secret: {
        type: "google-secret-manager",
        "google-secret-manager": {
          project: PROJECT,
          endpoint: `http://${emulator.host}:${emulator.port}`,
          prefix: "manager",
          "read-metadata": true,
          "retry-delay": "1ms",
          tags: { Application: "Billing" },
        },
      },
    });

    await manager.put({ namespace: "company.team", key: "DB_PASSWORD" }, "from-manager");
    const secret = await manager.get({ namespace: "company.team", key: "DB_PASSWORD" });
    await manager.close();

    expect(manager.type).toBe("google-secret-manager");
    expect(secret?.value.reveal()).toBe("from-manager");
    expect(secret?.tags).toEqual({ Application: "Billing" });
  });
});
