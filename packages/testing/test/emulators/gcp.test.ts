import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import * as grpc from "@grpc/grpc-js";
import {
  crc32c,
  type GoogleSecretManagerEmulator,
  startGoogleSecretManagerEmulator,
} from "@strongbox/testing/emulators/gcp";
import { PassThroughClient } from "google-auth-library";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

let emulator: GoogleSecretManagerEmulator;
let client: SecretManagerServiceClient;
let counter = 0;
const noRetry = { retry: null } as never;

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

/** A project of its own for each test, so listings see only what the test made. */
const project = (): string => {
  counter += 1;
  return `fidelity-${counter}`;
};
const create = async (parent: string, secretId: string, secret: Record<string, unknown> = {}) =>
  (
    await client.createSecret({
      parent: `projects/${parent}`,
      secretId,
      secret: { replication: { automatic: {} }, ...secret },
    })
  )[0];
const add = async (secret: string, data: string) =>
  (await client.addSecretVersion({ parent: secret, payload: { data: Buffer.from(data) } }))[0];
const failure = async (promise: Promise<unknown>): Promise<{ code?: number; details?: string }> =>
  promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (error: { code?: number; details?: string }) => error,
  );

describe("secrets", () => {
  it("answers names with the project number, and takes either the id or the number", async () => {
    const id = project();
    const number = emulator.projectNumber(id);

    const created = await create(id, "db");
    const [byNumber] = await client.getSecret({ name: `projects/${number}/secrets/db` });

    expect(number).toMatch(/^\d{12}$/);
    expect(created.name).toBe(`projects/${number}/secrets/db`);
    expect(byNumber.name).toBe(created.name);
    expect(created.createTime?.seconds).toBeDefined();
    expect(created.etag).toMatch(/^".+"$/);
  });

  it("refuses a duplicate with ALREADY_EXISTS and a bad id with INVALID_ARGUMENT", async () => {
    const id = project();
    await create(id, "dup");

    const duplicate = await failure(create(id, "dup"));
    const dotted = await failure(create(id, "has.dot"));
    const long = await failure(create(id, "x".repeat(256)));

    expect(duplicate.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(duplicate.details).toBe(
      `Secret [projects/${emulator.projectNumber(id)}/secrets/dup] already exists.`,
    );
    expect(dotted.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(long.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("enforces Google's label and annotation rules with INVALID_ARGUMENT", async () => {
    const id = project();
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, index) => [`k${index}`, "v"]));

    const upperKey = await failure(create(id, "a", { labels: { Team: "x" } }));
    const upperValue = await failure(create(id, "b", { labels: { team: "Red" } }));
    const dotKey = await failure(create(id, "c", { labels: { "team.name": "x" } }));
    const many = await failure(create(id, "d", { labels: tooMany }));
    const badAnnotation = await failure(create(id, "e", { annotations: { "-bad": "x" } }));
    const bigAnnotations = await failure(create(id, "f", { annotations: { big: "x".repeat(16_400) } }));
    const fine = await create(id, "g", {
      labels: { équipe: "ops_1", env: "" },
      annotations: { "team.name": "Ops Team", Owner_1: "any text at all" },
    });

    for (const error of [upperKey, upperValue, dotKey, many, badAnnotation, bigAnnotations])
      expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(fine.labels).toEqual({ équipe: "ops_1", env: "" });
    expect(fine.annotations).toEqual({ "team.name": "Ops Team", Owner_1: "any text at all" });
  });

  it("UpdateSecret changes only the fields of the update mask, checks the etag and renews it", async () => {
    const id = project();
    const created = await create(id, "upd", { labels: { a: "1" }, annotations: { note: "keep" } });

    const [updated] = await client.updateSecret({
      secret: { name: created.name, labels: { b: "2" }, annotations: { note: "ignored" } },
      updateMask: { paths: ["labels"] },
    });
    const noMask = await failure(client.updateSecret({ secret: { name: created.name, labels: {} } }));
    const stale = await failure(
      client.updateSecret({
        secret: { name: created.name, etag: created.etag, labels: {} },
        updateMask: { paths: ["labels"] },
      }),
    );
    const missing = await failure(
      client.updateSecret({
        secret: { name: `projects/${id}/secrets/none` },
        updateMask: { paths: ["labels"] },
      }),
    );

    expect(updated.labels).toEqual({ b: "2" });
    expect(updated.annotations).toEqual({ note: "keep" });
    expect(updated.etag).not.toBe(created.etag);
    expect(noMask.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(stale.code).toBe(grpc.status.ABORTED);
    expect(missing.code).toBe(grpc.status.NOT_FOUND);
  });

  it("DeleteSecret checks the etag, removes the secret and its versions; a second delete is NOT_FOUND", async () => {
    const id = project();
    const created = await create(id, "gone");
    await add(created.name as string, "v");

    const stale = await failure(client.deleteSecret({ name: created.name, etag: '"stale"' }));
    await client.deleteSecret({ name: created.name, etag: created.etag });
    const again = await failure(client.deleteSecret({ name: created.name }));
    const access = await failure(client.accessSecretVersion({ name: `${created.name}/versions/1` }));

    expect(stale.code).toBe(grpc.status.ABORTED);
    expect(again.code).toBe(grpc.status.NOT_FOUND);
    expect(again.details).toBe(`Secret [${created.name}] not found.`);
    expect(access.code).toBe(grpc.status.NOT_FOUND);
  });
});

describe("versions", () => {
  it("numbers versions from 1, resolves latest, and answers the resolved name with a CRC32C", async () => {
    const id = project();
    const secret = (await create(id, "v")).name as string;
    const first = await add(secret, "one");
    await add(secret, "two");

    const [latest] = await client.accessSecretVersion({ name: `${secret}/versions/latest` });
    const [older] = await client.accessSecretVersion({ name: `${secret}/versions/1` });

    expect(first.name).toBe(`${secret}/versions/1`);
    expect(first.state).toBe("ENABLED");
    expect(latest.name).toBe(`${secret}/versions/2`);
    expect(Buffer.from(latest.payload?.data as Uint8Array).toString()).toBe("two");
    expect(Number(latest.payload?.dataCrc32c)).toBe(crc32c(Buffer.from("two")));
    expect(Buffer.from(older.payload?.data as Uint8Array).toString()).toBe("one");
  });

  it("answers Google's NOT_FOUND messages for a missing secret, an empty one and a missing version, and INVALID_ARGUMENT for a malformed name", async () => {
    const id = project();
    const number = emulator.projectNumber(id);
    const empty = (await create(id, "empty")).name as string;

    const missing = await failure(
      client.accessSecretVersion({ name: `projects/${id}/secrets/nope/versions/latest` }),
    );
    const noVersions = await failure(client.accessSecretVersion({ name: `${empty}/versions/latest` }));
    await add(empty, "x");
    const noSuchVersion = await failure(client.accessSecretVersion({ name: `${empty}/versions/7` }));
    const malformed = await failure(client.accessSecretVersion({ name: empty }));

    expect(missing.code).toBe(grpc.status.NOT_FOUND);
    expect(missing.details).toBe(`Secret [projects/${number}/secrets/nope] not found or has no versions.`);
    expect(noVersions.details).toBe(`Secret [${empty}] not found or has no versions.`);
    expect(noSuchVersion.code).toBe(grpc.status.NOT_FOUND);
    expect(noSuchVersion.details).toBe(`Secret Version [${empty}/versions/7] not found.`);
    expect(malformed.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(malformed.details).toBe(`Resource ID [${empty}] is not in a valid format.`);
  });

  it("a disabled or destroyed version answers FAILED_PRECONDITION; enable brings a disabled one back", async () => {
    const id = project();
    const secret = (await create(id, "states")).name as string;
    await add(secret, "one");
    await add(secret, "two");

    await client.disableSecretVersion({ name: `${secret}/versions/2` });
    const disabled = await failure(client.accessSecretVersion({ name: `${secret}/versions/latest` }));
    await client.enableSecretVersion({ name: `${secret}/versions/2` });
    const [enabled] = await client.accessSecretVersion({ name: `${secret}/versions/latest` });
    const [destroyed] = await client.destroySecretVersion({ name: `${secret}/versions/1` });
    const accessDestroyed = await failure(client.accessSecretVersion({ name: `${secret}/versions/1` }));
    const enableDestroyed = await failure(client.enableSecretVersion({ name: `${secret}/versions/1` }));

    expect(disabled.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(disabled.details).toBe(`Secret Version [${secret}/versions/2] is in DISABLED state.`);
    expect(enabled.name).toBe(`${secret}/versions/2`);
    expect(destroyed.state).toBe("DESTROYED");
    expect(destroyed.destroyTime?.seconds).toBeDefined();
    expect(accessDestroyed.details).toBe(`Secret Version [${secret}/versions/1] is in DESTROYED state.`);
    expect(enableDestroyed.code).toBe(grpc.status.FAILED_PRECONDITION);
  });

  it("resolves version aliases set with UpdateSecret, and GetSecretVersion resolves latest", async () => {
    const id = project();
    const secret = (await create(id, "aliases")).name as string;
    await add(secret, "one");
    await add(secret, "two");

    await client.updateSecret({
      secret: { name: secret, versionAliases: { prod: 1 } },
      updateMask: { paths: ["version_aliases"] },
    });
    const [prod] = await client.accessSecretVersion({ name: `${secret}/versions/prod` });
    const [described] = await client.getSecretVersion({ name: `${secret}/versions/latest` });
    const unknown = await failure(client.accessSecretVersion({ name: `${secret}/versions/staging` }));

    expect(prod.name).toBe(`${secret}/versions/1`);
    expect(Buffer.from(prod.payload?.data as Uint8Array).toString()).toBe("one");
    expect(described).toMatchObject({ name: `${secret}/versions/2`, state: "ENABLED" });
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);
  });

  it("lists versions newest first, with their states, filtered by state", async () => {
    const id = project();
    const secret = (await create(id, "list")).name as string;
    for (const value of ["a", "b", "c"]) await add(secret, value);
    await client.disableSecretVersion({ name: `${secret}/versions/2` });

    const [all] = await client.listSecretVersions({ parent: secret }, { autoPaginate: false });
    const [enabled] = await client.listSecretVersions(
      { parent: secret, filter: "state:ENABLED" },
      { autoPaginate: false },
    );

    expect(all.map((version) => [version.name?.split("/").pop(), version.state])).toEqual([
      ["3", "ENABLED"],
      ["2", "DISABLED"],
      ["1", "ENABLED"],
    ]);
    expect(enabled.map((version) => version.name?.split("/").pop())).toEqual(["3", "1"]);
  });

  it("checks the payload: empty, a wrong data_crc32c or more than 64 KiB is INVALID_ARGUMENT", async () => {
    const id = project();
    const secret = (await create(id, "payload")).name as string;
    const data = Buffer.from("checked");

    const [good] = await client.addSecretVersion({
      parent: secret,
      payload: { data, dataCrc32c: crc32c(data) },
    });
    const wrong = await failure(
      client.addSecretVersion({ parent: secret, payload: { data, dataCrc32c: 1234 } }),
    );
    const empty = await failure(
      client.addSecretVersion({ parent: secret, payload: { data: Buffer.alloc(0) } }),
    );
    const large = await failure(
      client.addSecretVersion({ parent: secret, payload: { data: Buffer.alloc(65_537) } }),
    );
    const [exact] = await client.addSecretVersion({
      parent: secret,
      payload: { data: Buffer.alloc(65_536) },
    });

    expect(good.clientSpecifiedPayloadChecksum).toBe(true);
    expect(wrong.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(large.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(empty.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(empty.details).toBe("Field [payload] is required.");
    expect(exact.name).toBe(`${secret}/versions/2`);
  });
});

describe("ListSecrets", () => {
  it("sorts by name and pages with page tokens", async () => {
    const id = project();
    for (const name of ["e", "c", "a", "d", "b"]) await create(id, name);

    const names: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const [secrets, , response] = await client.listSecrets(
        { parent: `projects/${id}`, pageSize: 2, pageToken },
        { autoPaginate: false },
      );
      names.push(...secrets.map((secret) => secret.name?.split("/").pop() ?? ""));
      expect(response?.totalSize).toBe(5);
      pageToken = response?.nextPageToken ?? "";
      pages += 1;
    } while (pageToken !== "");
    const badToken = await failure(
      client.listSecrets({ parent: `projects/${id}`, pageToken: "bogus" }, { autoPaginate: false }),
    );

    expect(names).toEqual(["a", "b", "c", "d", "e"]);
    expect(pages).toBe(3);
    expect(badToken.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it("filters on names and labels with the documented syntax", async () => {
    const id = project();
    await create(id, "app-asecret", { labels: { env: "prod", team: "red" } });
    await create(id, "app-bsecret", { labels: { env: "dev" } });
    await create(id, "other", { labels: { env: "prod" } });
    const list = async (filter: string) =>
      (await client.listSecrets({ parent: `projects/${id}`, filter }, { autoPaginate: false }))[0].map(
        (secret) => secret.name?.split("/").pop(),
      );

    expect(await list("name:asecret")).toEqual(["app-asecret"]);
    expect(await list("name:asecret OR name:bsecret")).toEqual(["app-asecret", "app-bsecret"]);
    expect(await list("labels.env=prod")).toEqual(["app-asecret", "other"]);
    expect(await list('labels.env="prod" AND name:"app-"')).toEqual(["app-asecret"]);
    expect(await list("labels.team:*")).toEqual(["app-asecret"]);
    expect(await list("NOT labels.env=prod")).toEqual(["app-bsecret"]);
    expect(await list("name:app*secret labels.env=dev")).toEqual(["app-bsecret"]);
    expect(await list("create_time>2000-01-01T00:00:00Z")).toHaveLength(3);
    expect((await failure(list("annotations.x=y"))).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await failure(list("labels.env=(prod"))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe("faults and IAM", () => {
  it("fails exactly the next N calls with the injected status, then answers again", async () => {
    const id = project();
    const secret = (await create(id, "f")).name as string;
    emulator.faults.failNext(2, "RESOURCE_EXHAUSTED");

    const first = await failure(client.getSecret({ name: secret }, noRetry));
    const second = await failure(client.getSecret({ name: secret }, noRetry));
    const [third] = await client.getSecret({ name: secret }, noRetry);

    expect(first.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(second.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(third.name).toBe(secret);
  });

  it("a dropped call reaches the client as UNAVAILABLE and the next call reconnects", async () => {
    const id = project();
    const secret = (await create(id, "d")).name as string;
    emulator.faults.dropNext(1);

    const dropped = await failure(client.getSecret({ name: secret }, noRetry));
    const [after] = await client.getSecret({ name: secret }, noRetry);

    expect(dropped.code).toBe(grpc.status.UNAVAILABLE);
    expect(after.name).toBe(secret);
  });

  it("latency holds every answer, so a short deadline expires", async () => {
    const id = project();
    const secret = (await create(id, "slow")).name as string;
    emulator.faults.latencyMs = 1_000;

    const late = await failure(client.getSecret({ name: secret }, { timeout: 50, retry: null } as never));

    expect(late.code).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it("with only roles/secretmanager.secretAccessor, every method but AccessSecretVersion is PERMISSION_DENIED", async () => {
    const id = project();
    const secret = (await create(id, "iam")).name as string;
    await add(secret, "v");
    emulator.iam.roles = ["roles/secretmanager.secretAccessor"];

    const [accessed] = await client.accessSecretVersion({ name: `${secret}/versions/latest` });
    const denied = await Promise.all([
      failure(client.getSecret({ name: secret })),
      failure(client.listSecrets({ parent: `projects/${id}` }, { autoPaginate: false })),
      failure(client.addSecretVersion({ parent: secret, payload: { data: Buffer.from("x") } })),
      failure(client.listSecretVersions({ parent: secret }, { autoPaginate: false })),
      failure(client.deleteSecret({ name: secret })),
      failure(create(id, "new")),
    ]);

    expect(accessed.name).toBe(`${secret}/versions/1`);
    for (const error of denied) expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(denied[0]?.details).toBe(
      `Permission 'secretmanager.secrets.get' denied for resource '${secret}' (or it may not exist).`,
    );
  });

  it("the viewer role lists and reads metadata but cannot access values", async () => {
    const id = project();
    const secret = (await create(id, "viewer")).name as string;
    await add(secret, "v");
    emulator.iam.roles = ["roles/secretmanager.viewer"];

    const [listed] = await client.listSecrets({ parent: `projects/${id}` }, { autoPaginate: false });
    const denied = await failure(client.accessSecretVersion({ name: `${secret}/versions/1` }));

    expect(listed).toHaveLength(1);
    expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("logs every call with its method, resource and answered status", async () => {
    const id = project();
    const start = emulator.requests.length;

    await failure(client.getSecret({ name: `projects/${id}/secrets/logged` }));

    expect(emulator.requests.slice(start)).toEqual([
      { method: "GetSecret", resource: `projects/${id}/secrets/logged`, code: grpc.status.NOT_FOUND },
    ]);
  });
});
