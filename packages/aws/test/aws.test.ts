import { randomUUID } from "node:crypto";
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import {
  createSecretManager,
  isStrongboxError,
  readOnly,
  type SecretBackend,
  type SecretRef,
  withCache,
} from "@strongbox/core";
import { testBackend, watchForLeaks } from "@strongbox/testing";
import {
  type AwsSecretsManagerEmulator,
  startAwsSecretsManagerEmulator,
} from "@strongbox/testing/emulators/aws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AwsSecretsManagerOptions, awsSecretsManager, fromConfig } from "../src/index.ts";

let aws: AwsSecretsManagerEmulator;
let raw: SecretsManagerClient;
const opened: SecretBackend[] = [];

beforeAll(async () => {
  aws = await startAwsSecretsManagerEmulator({ accessKeyId: "test" });
  raw = new SecretsManagerClient({
    endpoint: aws.url,
    region: aws.region,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  raw.destroy();
  await aws.close();
});
afterEach(async () => {
  aws.faults.reset();
  aws.allow();
  for (const backend of opened.splice(0)) await backend.close?.();
});

/** A backend on the real SDK, over a socket to this file's emulator. */
const connect = (extra: AwsSecretsManagerOptions = {}): SecretBackend => {
  const backend = awsSecretsManager({
    endpointOverride: aws.url,
    region: "us-east-1",
    accessKeyId: "test",
    secretKeyId: "test",
    retryBaseDelay: 1,
    ...extra,
  });
  opened.push(backend);
  return backend;
};
const fresh = (label: string, scope: Omit<SecretRef, "key"> = {}): SecretRef => ({
  ...scope,
  key: `${label}_${randomUUID().slice(0, 8)}`,
});
const describeName = (name: string) => raw.send(new DescribeSecretCommand({ SecretId: name }));
const put = (backend: SecretBackend, ref: SecretRef, value: string | Uint8Array, options?: object) =>
  (backend.put as NonNullable<SecretBackend["put"]>)(ref, value, options);
const listAll = async (backend: SecretBackend, query?: Parameters<NonNullable<SecretBackend["list"]>>[0]) => {
  const out = [];
  for await (const entry of backend.list?.(query) ?? []) out.push(entry);
  return out;
};

testBackend("aws (emulator)", () => connect({ prefix: `conf${randomUUID().slice(0, 6)}` }), {
  rejectsEmptyValue: true,
});
testBackend(
  "aws forced deletion (emulator)",
  () => connect({ prefix: `force${randomUUID().slice(0, 6)}`, forceDelete: true }),
  { rejectsEmptyValue: true },
);
testBackend(
  "aws readMetadata: false (emulator)",
  () => connect({ prefix: `value${randomUUID().slice(0, 6)}`, readMetadata: false }),
  { rejectsEmptyValue: true },
);
const liveEndpoint = process.env.STRONGBOX_IT_AWS_ENDPOINT;
describe.runIf(liveEndpoint)("aws (live, STRONGBOX_IT_AWS_ENDPOINT)", () => {
  testBackend(
    "aws (live)",
    () =>
      awsSecretsManager({
        endpointOverride: liveEndpoint as string,
        region: process.env.AWS_REGION ?? "us-east-1",
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "test",
        secretKeyId: process.env.AWS_SECRET_ACCESS_KEY ?? "test",
        prefix: "strongbox-it",
        forceDelete: true,
      }),
    { rejectsEmptyValue: true },
  );
});
describe.skipIf(liveEndpoint)("aws (live)", () => {
  it.skip("skipped: set STRONGBOX_IT_AWS_ENDPOINT=http://localhost:4566 with LocalStack running to run the live suite", () => {});
});

describe("aws: options", () => {
  it("rejects bad options with INVALID_OPTIONS naming the field, never its value", () => {
    const attempts: [AwsSecretsManagerOptions, RegExp][] = [
      [{ recoveryWindowInDays: 3 }, /awsSecretsManager\.recoveryWindowInDays/],
      [
        { accessKeyId: "AKIDONLY" },
        /awsSecretsManager\.accessKeyId: accessKeyId and secretKeyId go together/,
      ],
      [{ endpointOverride: "not a url" }, /awsSecretsManager\.endpointOverride/],
      [{ naming: "odd" as "raw" }, /awsSecretsManager\.naming/],
      [
        { region: "eu-west-1", client: raw },
        /client: a configured client was given, so region cannot be applied/,
      ],
      [{ forceDelete: true, recoveryWindowInDays: 7 }, /forceDelete/],
      [{ tags: { "strongbox:key": "x" } }, /reserved prefix/],
      [{ prefix: "has space" }, /prefix "has space" has characters outside/],
    ];
    for (const [options, message] of attempts) {
      expect(() => awsSecretsManager(options)).toThrow(message);
      expect(() => awsSecretsManager(options)).toThrow(expect.objectContaining({ code: "INVALID_OPTIONS" }));
    }
    const error = (() => {
      try {
        awsSecretsManager({
          secretKeyId: "wJalrXUtnFEMI-canary",
          accessKeyId: "AKID",
          sessionToken: 42 as unknown as string,
        });
      } catch (caught) {
        return caught as Error;
      }
    })();
    expect(error?.message).toMatch(/awsSecretsManager\.sessionToken/);
    expect(error?.message).not.toContain("wJalrXUtnFEMI-canary");
  });

  it("makes no call to the store before the first operation", async () => {
    const before = aws.requests.length;

    const backend = connect();

    expect(aws.requests.length).toBe(before);
    await backend.get(fresh("first"));
    expect(aws.requests.length).toBeGreaterThan(before);
  });

  it("fromConfig takes the camelCase block, the configuration's path and its prefix", async () => {
    const backend = fromConfig(
      {
        endpointOverride: aws.url,
        region: "us-east-1",
        accessKeyId: "test",
        secretKeyId: "test",
        tags: { app: "cfg" },
      },
      { path: "secret.aws-secret-manager", prefix: "fromcfg" },
    );
    opened.push(backend);
    const ref = fresh("cfg");

    await put(backend, ref, "v");

    expect(aws.names()).toContain(`fromcfg/${ref.key}`);
    expect((await backend.get(ref))?.tags).toEqual({ app: "cfg" });
    expect(() => fromConfig({ regio: "x" }, { path: "secret.aws-secret-manager" })).toThrow(
      /secret\.aws-secret-manager: unknown option "regio"/,
    );
  });

  it("createSecretManager loads this adapter from the README's kebab-case block", async () => {
    const manager = await createSecretManager({
      secret: {
        type: "aws-secret-manager",
        "aws-secret-manager": {
          region: "us-east-1",
          "access-key-id": "test",
          "secret-key-id": "test",
          "endpoint-override": aws.url,
          prefix: "kebab",
          naming: "scoped",
          "recovery-window-in-days": 7,
          "max-attempts": 2,
          "retry-base-delay": "1ms",
          "request-timeout": "5s",
          "read-metadata": true,
        },
      },
    });
    const ref = fresh("kebab", { namespace: "company.team" });

    await manager.put(ref, "from-yaml", { tags: { team: "ops" } });
    const secret = await manager.get(ref);
    await manager.close();

    expect(secret?.value.reveal()).toBe("from-yaml");
    expect(secret?.tags).toEqual({ team: "ops" });
    expect(aws.names()).toContain(`kebab/+ncompany.team/${ref.key}`);
  });

  it("signs with the given static credentials, session token included", async () => {
    const backend = connect({ sessionToken: "session-token-value" });
    const before = aws.requests.length;

    await backend.get(fresh("signed"));

    const sent = aws.requests.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const request of sent) {
      expect(request.headers.authorization).toMatch(
        /Credential=test\/\d{8}\/us-east-1\/secretsmanager\/aws4_request/,
      );
      expect(request.headers["x-amz-security-token"]).toBe("session-token-value");
    }
  });

  it("accepts secretAccessKey as an alias of secretKeyId", async () => {
    const backend = connect({ secretKeyId: undefined, secretAccessKey: "test" });

    await expect(backend.get(fresh("alias"))).resolves.toBeUndefined();
  });
});

describe("aws: names, tags and descriptions", () => {
  it("names secrets with the prefix and the codec, and records the exact ref in strongbox: tags", async () => {
    const backend = connect({ prefix: "billing" });
    const ref = fresh("DB_PASSWORD", { tenant: "acme", namespace: "company.team" });

    await put(backend, ref, "v", { tags: { owner: "ops" } });

    const described = await describeName(`billing/+tacme/+ncompany.team/${ref.key}`);
    expect(described.Tags).toEqual(
      expect.arrayContaining([
        { Key: "strongbox:tenant", Value: "acme" },
        { Key: "strongbox:namespace", Value: "company.team" },
        { Key: "strongbox:key", Value: ref.key },
        { Key: "owner", Value: "ops" },
      ]),
    );
    expect((await backend.get(ref))?.tags).toEqual({ owner: "ops" });
  });

  it("lists an over-long (hashed) name with its exact ref, read back from the tags", async () => {
    const backend = connect({ prefix: "hashed" });
    const ref = fresh(`${"x".repeat(600)}ü`, { namespace: "long.names" });

    await put(backend, ref, "v");

    const [name] = aws.names().filter((n) => n.startsWith("hashed/+nlong.names/"));
    expect(name?.length).toBeLessThanOrEqual(512);
    expect(name).toMatch(/\+h[0-9a-f]{20}$/);
    const listed = await listAll(backend, { namespace: "long.names" });
    expect(listed.map((entry) => entry.ref)).toEqual([ref]);
  });

  it("an update replaces the tags and the description, keeps the ref tags, and merges the default tags", async () => {
    const backend = connect({ tags: { application: "billing" } });
    const ref = fresh("update");
    await put(backend, ref, "one", { tags: { a: "1", b: "2" }, description: "first" });

    const written = await put(backend, ref, "two", { tags: { b: "3" }, description: "second" });

    const secret = await backend.get(ref);
    expect(written.tags).toEqual({ application: "billing", b: "3" });
    expect(secret?.tags).toEqual({ application: "billing", b: "3" });
    expect(secret?.description).toBe("second");
    expect(secret?.value.reveal()).toBe("two");
    expect((await listAll(backend, { tags: { b: "3" } })).map((entry) => entry.ref)).toEqual([ref]);
  });

  it("an update without tags keeps the secret's tags", async () => {
    const backend = connect();
    const ref = fresh("keep");
    await put(backend, ref, "one", { tags: { a: "1" }, description: "kept" });

    await put(backend, ref, "two");

    expect(await backend.get(ref)).toMatchObject({ tags: { a: "1" }, description: "kept" });
  });

  it("list sends the name prefix and one tag as server-side filters, and checks every tag itself", async () => {
    const inputs: { command: string; input: Record<string, unknown> }[] = [];
    const client = new SecretsManagerClient({
      endpoint: aws.url,
      region: aws.region,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    client.middlewareStack.add(
      (next, context) => (args) => {
        inputs.push({ command: String(context.commandName), input: args.input as Record<string, unknown> });
        return next(args);
      },
      { step: "initialize" },
    );
    const backend = awsSecretsManager({ client, prefix: "filters" });
    opened.push(backend);
    const tenant = `t${randomUUID().slice(0, 6)}`;
    await put(backend, fresh("a", { tenant }), "v", { tags: { app: "billing", tier: "gold" } });
    await put(backend, fresh("b", { tenant }), "v", { tags: { app: "billing", tier: "silver" } });

    const listed = await listAll(backend, { tenant, tags: { app: "billing", tier: "gold" } });

    expect(listed.map((entry) => entry.ref.key)).toEqual([expect.stringMatching(/^a_/)]);
    const list = inputs.find((call) => call.command === "ListSecretsCommand");
    expect(list?.input.Filters).toEqual([
      { Key: "name", Values: [`filters/+t${tenant}/`] },
      { Key: "tag-key", Values: ["app"] },
      { Key: "tag-value", Values: ["billing"] },
    ]);
    client.destroy();
  });
});

describe("aws: list paging", () => {
  it("follows NextToken past the first page of 100", async () => {
    const backend = connect({ prefix: "paging" });
    const namespace = `p${randomUUID().slice(0, 6)}`;
    const refs = Array.from({ length: 102 }, (_, index) => ({ namespace, key: `k${index}` }));
    await Promise.all(refs.map((ref) => put(backend, ref, "v")));

    const listed = await listAll(backend, { namespace });

    expect(listed.map((entry) => entry.ref.key).sort()).toEqual(refs.map((ref) => ref.key).sort());
    expect(aws.operations().filter((op) => op === "ListSecrets").length).toBeGreaterThanOrEqual(2);
  });
});

describe("aws: raw naming", () => {
  it("reads and lists secrets named by someone else, the key being the name after the prefix", async () => {
    const backend = connect({ prefix: "legacy", naming: "raw" });
    const key = `app/db-password-${randomUUID().slice(0, 8)}`;
    await raw.send(
      new CreateSecretCommand({
        Name: `legacy/${key}`,
        SecretString: "theirs",
        Tags: [{ Key: "team", Value: "x" }],
      }),
    );

    const secret = await backend.get({ key });
    const listed = await listAll(backend);

    expect(secret?.value.reveal()).toBe("theirs");
    expect(listed).toContainEqual(expect.objectContaining({ ref: { key }, tags: { team: "x" } }));
  });

  it("refuses refs with a tenant or namespace with INVALID_NAME", async () => {
    const backend = connect({ naming: "raw" });

    await expect(backend.get({ namespace: "a", key: "b" })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "INVALID_NAME"),
    );
  });
});

describe("aws: versions and values", () => {
  it("reads AWSPREVIOUS by stage and an older version by its VersionId", async () => {
    const backend = connect();
    const ref = fresh("versions");
    const first = await put(backend, ref, "v1");
    await put(backend, ref, "v2");
    await put(backend, ref, "v3");

    expect((await backend.get(ref, { version: "AWSPREVIOUS" }))?.value.reveal()).toBe("v2");
    expect((await backend.get(ref, { version: first.version as string }))?.value.reveal()).toBe("v1");
    expect(await backend.get(ref, { version: randomUUID() })).toBeUndefined();
  });

  it("keeps a binary secret as SecretBinary", async () => {
    const backend = connect({ prefix: "bin" });
    const ref = fresh("bytes");

    await put(backend, ref, new Uint8Array([0, 1, 255]));

    const stored = await raw.send(new GetSecretValueCommand({ SecretId: `bin/${ref.key}` }));
    expect(stored.SecretString).toBeUndefined();
    expect([...(stored.SecretBinary ?? [])]).toEqual([0, 1, 255]);
  });

  it("refuses expectedVersion with UNSUPPORTED rather than ignoring it", async () => {
    const backend = connect();

    await expect(put(backend, fresh("cas"), "v", { expectedVersion: null })).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNSUPPORTED"),
    );
  });
});

describe("aws: readMetadata: false", () => {
  it("get makes one GetSecretValue call and needs no DescribeSecret permission", async () => {
    const ref = fresh("lean");
    await put(connect(), ref, "lean-value", { tags: { team: "ops" }, description: "kept in AWS" });
    const backend = connect({ readMetadata: false });
    aws.deny("DescribeSecret");
    const before = aws.operations().length;

    const secret = await backend.get(ref);

    expect(aws.operations().slice(before)).toEqual(["GetSecretValue"]);
    expect(secret?.value.reveal()).toBe("lean-value");
    expect(secret?.version).toEqual(expect.any(String));
    expect(secret?.updatedAt).toBeInstanceOf(Date);
    expect(secret?.tags).toEqual({});
    expect(secret?.description).toBeUndefined();
  });

  it("a secret scheduled for deletion reads as absent without DescribeSecret", async () => {
    const ref = fresh("lean-deleted");
    const full = connect({ recoveryWindowInDays: 7 });
    await put(full, ref, "soon gone");
    await full.delete?.(ref);
    const backend = connect({ readMetadata: false });
    aws.deny("DescribeSecret");

    const secret = await backend.get(ref);

    expect(secret).toBeUndefined();
  });

  it("declares tags and description unsupported, so a read-only tag filter is refused at start-up", () => {
    const backend = connect({ readMetadata: false });

    const refused = (() => {
      try {
        readOnly(backend, { tags: { application: "billing" } });
      } catch (caught) {
        return caught;
      }
    })();

    expect(backend.capabilities).toMatchObject({ tags: false, tagFilter: "none", description: false });
    expect(isStrongboxError(refused, "INVALID_OPTIONS")).toBe(true);
  });

  it("through the manager, read-metadata: false with default tags is refused at start-up", async () => {
    const config = {
      secret: {
        type: "aws-secret-manager",
        "aws-secret-manager": {
          region: "us-east-1",
          "read-metadata": false,
          tags: { application: "billing" },
        },
      },
    };

    const refused = await createSecretManager(config as never).catch((caught: unknown) => caught);

    expect(isStrongboxError(refused, "INVALID_OPTIONS")).toBe(true);
  });

  it("getMany reads values with BatchGetSecretValue alone, without ListSecrets", async () => {
    const refs = [fresh("lean-a"), fresh("lean-b")];
    for (const ref of refs) await put(connect(), ref, `v-${ref.key}`);
    const backend = connect({ readMetadata: false });
    const before = aws.operations().length;

    const found = await backend.getMany?.(refs);

    expect(aws.operations().slice(before)).toEqual(["BatchGetSecretValue"]);
    expect([...(found?.values() ?? [])].map((secret) => secret.value.reveal()).sort()).toEqual(
      refs.map((ref) => `v-${ref.key}`).sort(),
    );
  });
});

describe("aws: deletion", () => {
  it("deletes with the configured recovery window, and a put restores the secret rather than failing", async () => {
    const backend = connect({ prefix: "window", recoveryWindowInDays: 7 });
    const ref = fresh("restore");
    await put(backend, ref, "before", { tags: { old: "yes" } });

    expect(await backend.delete?.(ref)).toBe(true);
    const scheduled = await describeName(`window/${ref.key}`);
    expect(scheduled.DeletedDate).toBeInstanceOf(Date);
    expect(await backend.get(ref)).toBeUndefined();
    await put(backend, ref, "after");

    expect(aws.operations()).toContain("RestoreSecret");
    expect(await backend.get(ref)).toMatchObject({ tags: {} });
    expect((await backend.get(ref))?.value.reveal()).toBe("after");
  });

  it("forceDelete removes the secret without a recovery window", async () => {
    const backend = connect({ prefix: "forced", forceDelete: true });
    const ref = fresh("gone");
    await put(backend, ref, "v");

    expect(await backend.delete?.(ref)).toBe(true);

    expect(aws.names()).not.toContain(`forced/${ref.key}`);
  });
});

describe("aws: getMany", () => {
  it("reads many secrets with BatchGetSecretValue and leaves missing ones out", async () => {
    const backend = connect({ prefix: "batch" });
    const refs = Array.from({ length: 25 }, (_, index) => fresh(`m${index}`, { namespace: "many" }));
    for (const [index, ref] of refs.entries())
      await put(backend, ref, `value-${index}`, { tags: { i: String(index) } });
    const missing = fresh("missing");
    const before = aws.operations().length;

    const found = await backend.getMany?.([...refs, missing]);

    const calls = aws.operations().slice(before);
    expect(calls.filter((op) => op === "BatchGetSecretValue")).toHaveLength(2);
    expect(calls).not.toContain("GetSecretValue");
    expect(found?.size).toBe(25);
    const third = found?.get(JSON.stringify([null, "many", refs[3]?.key]));
    expect(third?.value.reveal()).toBe("value-3");
    expect(third?.tags).toEqual({ i: "3" });
  });

  it("a secret scheduled for deletion, refused by the batch, is read on its own and found absent", async () => {
    const backend = connect({ prefix: "batchdel" });
    const [kept, deleted] = [fresh("kept"), fresh("deleted")];
    await put(backend, kept, "here");
    await put(backend, deleted, "gone");
    await backend.delete?.(deleted);

    const found = await backend.getMany?.([kept, deleted]);

    expect([...(found?.values() ?? [])].map((secret) => secret.ref)).toEqual([kept]);
  });

  it("falls back to one read per secret when BatchGetSecretValue is denied", async () => {
    const backend = connect({ prefix: "nobatch" });
    const refs = [fresh("x"), fresh("y")];
    for (const ref of refs) await put(backend, ref, "v");
    aws.deny("BatchGetSecretValue");
    const before = aws.operations().length;

    const found = await backend.getMany?.(refs);

    expect(found?.size).toBe(2);
    expect(
      aws
        .operations()
        .slice(before)
        .filter((op) => op === "GetSecretValue"),
    ).toHaveLength(2);
  });
});

describe("aws: failures", () => {
  it("retries throttling (429 ThrottlingException) and then succeeds", async () => {
    const backend = connect();
    const ref = fresh("throttled");
    await put(backend, ref, "patient");
    aws.faults.failNext(2, 429);
    const before = aws.requests.length;

    const secret = await backend.get(ref);

    expect(secret?.value.reveal()).toBe("patient");
    // Two calls (value and metadata) succeed after the two throttled attempts between them.
    expect(aws.requests.length - before).toBe(4);
  });

  it("a ThrottlingException sent with HTTP 400, as Secrets Manager sends it, is retried and then UNAVAILABLE", async () => {
    const backend = connect({ maxAttempts: 2, readMetadata: false });
    const ref = fresh("throttled400");
    await put(backend, ref, "patient");
    const throttled = { __type: "ThrottlingException", message: "Rate exceeded" };
    aws.faults.failNext(1, 400, throttled);

    const secret = await backend.get(ref);
    aws.faults.failNext(1000, 400, throttled);
    const error = await backend.get(ref).catch((caught: unknown) => caught);

    expect(secret?.value.reveal()).toBe("patient");
    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/ThrottlingException.*after 2 attempts/);
  });

  it("gives UNAVAILABLE after maxAttempts when 5xx persists", async () => {
    const backend = connect({ maxAttempts: 3 });
    const ref = fresh("down");
    aws.faults.failNext(1000, 500);
    const before = aws.requests.length;

    const error = await backend.get(ref).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/InternalServiceError.*after 3 attempts/);
    // Two calls (value and metadata), three attempts each.
    expect(aws.requests.length - before).toBe(6);
  });

  it("gives UNAVAILABLE when connections keep dropping", async () => {
    const backend = connect({ maxAttempts: 2 });
    aws.faults.dropNext(1000);

    await expect(backend.get(fresh("dropped"))).rejects.toSatisfy((error) =>
      isStrongboxError(error, "UNAVAILABLE"),
    );
  });

  it("gives UNAVAILABLE when a request outlives requestTimeout", async () => {
    const backend = connect({ maxAttempts: 1, requestTimeout: 50 });
    aws.faults.latencyMs = 2000;

    const error = await backend.get(fresh("slow")).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).cause).toMatchObject({ name: "TimeoutError" });
  });

  it("maps AccessDeniedException and an unknown access key to ACCESS_DENIED, with the operation and ref", async () => {
    const ref = fresh("denied");
    aws.deny("*");

    const denied = await connect()
      .get(ref)
      .catch((caught: unknown) => caught);
    aws.allow();
    const stranger = await connect({ accessKeyId: "nobody" })
      .get(ref)
      .catch((caught: unknown) => caught);

    expect(denied).toMatchObject({
      code: "ACCESS_DENIED",
      backend: "aws-secret-manager",
      operation: "get",
      ref,
    });
    expect(isStrongboxError(stranger, "ACCESS_DENIED")).toBe(true);
  });

  it("with the cache's stale-if-error on, an expired value is served while the store is UNAVAILABLE", async () => {
    // lru-cache reads a start time of 0 as "no expiry": the fake clock starts later.
    let now = 1_000_000;
    const clock = { now: () => now };
    const cached = withCache(connect({ maxAttempts: 2 }), {
      maximumSize: 10,
      expireAfterWrite: 1000,
      staleIfError: true,
      clock,
    });
    const strict = withCache(connect({ maxAttempts: 2 }), { maximumSize: 10, expireAfterWrite: 1000, clock });
    const ref = fresh("stale");
    await put(cached, ref, "last-known");
    expect((await cached.get(ref))?.value.reveal()).toBe("last-known");
    expect((await strict.get(ref))?.value.reveal()).toBe("last-known");
    now += 5000;
    aws.faults.failNext(1000, 503);
    const before = aws.requests.length;

    const served = await cached.get(ref);
    const refused = await strict.get(ref).catch((caught: unknown) => caught);

    expect(served?.value.reveal()).toBe("last-known");
    expect(aws.requests.length).toBeGreaterThan(before);
    expect(isStrongboxError(refused, "UNAVAILABLE")).toBe(true);
  });

  it("a failed put carries no secret value in its message, cause or inspection", async () => {
    const backend = connect({ maxAttempts: 1 });
    const value = `canary-${randomUUID()}`;
    const leaks = watchForLeaks([value]);
    aws.faults.failNext(1, 500);

    const error = await put(backend, fresh("leak"), value).catch((caught: unknown) => caught);

    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    leaks.check(error, "the put error");
    leaks.stop();
  });
});
