import { randomUUID } from "node:crypto";
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidNextTokenException,
  InvalidParameterException,
  InvalidRequestException,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AwsSecretsManagerEmulator, startAwsSecretsManagerEmulator } from "../../src/emulators/aws.ts";

let aws: AwsSecretsManagerEmulator;
let client: SecretsManagerClient;

const clientFor = (accessKeyId = "test"): SecretsManagerClient =>
  new SecretsManagerClient({
    endpoint: aws.url,
    region: aws.region,
    credentials: { accessKeyId, secretAccessKey: "test" },
    maxAttempts: 1,
  });
const unique = (label: string): string => `fid/${label}/${randomUUID().slice(0, 8)}`;
const errorOf = async (promise: Promise<unknown>): Promise<SecretsManagerServiceException> => {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof SecretsManagerServiceException))
    throw new Error(`expected a service error, got ${String(error)}`);
  return error;
};

beforeAll(async () => {
  aws = await startAwsSecretsManagerEmulator({ accessKeyId: "test" });
  client = clientFor();
});
afterAll(async () => {
  client.destroy();
  await aws.close();
});
afterEach(() => {
  aws.faults.reset();
  aws.allow();
});

describe("AWS Secrets Manager emulator: values and versions", () => {
  it("CreateSecret uses the ClientRequestToken as VersionId and stages it AWSCURRENT", async () => {
    const name = unique("create");
    const token = randomUUID();

    const created = await client.send(
      new CreateSecretCommand({ Name: name, SecretString: "one", ClientRequestToken: token }),
    );
    const got = await client.send(new GetSecretValueCommand({ SecretId: name }));

    expect(created.VersionId).toBe(token);
    expect(created.ARN).toMatch(
      new RegExp(`^arn:aws:secretsmanager:us-east-1:\\d{12}:secret:${name}-[0-9a-f]{6}$`),
    );
    expect(got).toMatchObject({
      Name: name,
      SecretString: "one",
      VersionId: token,
      VersionStages: ["AWSCURRENT"],
    });
    expect(got.CreatedDate).toBeInstanceOf(Date);
  });

  it("PutSecretValue moves AWSCURRENT to the new version and AWSPREVIOUS to the old one", async () => {
    const name = unique("stages");
    const first = await client.send(new CreateSecretCommand({ Name: name, SecretString: "v1" }));

    const second = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "v2" }));
    const third = await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: "v3" }));

    const previous = await client.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: "AWSPREVIOUS" }),
    );
    expect(previous).toMatchObject({ SecretString: "v2", VersionId: second.VersionId });
    const oldest = await client.send(
      new GetSecretValueCommand({ SecretId: name, VersionId: first.VersionId }),
    );
    expect(oldest).toMatchObject({ SecretString: "v1", VersionStages: [] });
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({
      [second.VersionId as string]: ["AWSPREVIOUS"],
      [third.VersionId as string]: ["AWSCURRENT"],
    });
    const versions = await client.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    expect(versions.Versions?.map((v) => v.VersionId).sort()).toEqual(
      [second.VersionId, third.VersionId].sort(),
    );
    const all = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
    );
    expect(all.Versions).toHaveLength(3);
  });

  it("a re-sent ClientRequestToken with the same value is ignored; with another value it fails", async () => {
    const name = unique("idempotent");
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "base" }));
    const token = randomUUID();

    const once = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: "x", ClientRequestToken: token }),
    );
    const twice = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: "x", ClientRequestToken: token }),
    );
    const clash = await errorOf(
      client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: "y", ClientRequestToken: token }),
      ),
    );

    expect(twice.VersionId).toBe(once.VersionId);
    expect(clash).toBeInstanceOf(ResourceExistsException);
    const all = await client.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
    );
    expect(all.Versions).toHaveLength(2);
  });

  it("keeps binary values as bytes", async () => {
    const name = unique("binary");
    const bytes = new Uint8Array([0, 255, 1, 254, 0xc3, 0x28]);

    await client.send(new CreateSecretCommand({ Name: name, SecretBinary: bytes }));
    const got = await client.send(new GetSecretValueCommand({ SecretId: name }));

    expect(got.SecretString).toBeUndefined();
    expect([...(got.SecretBinary ?? [])]).toEqual([...bytes]);
  });

  it("rejects an empty SecretString, both value kinds at once, and a value past 65536 bytes", async () => {
    const name = unique("invalid");

    const empty = await errorOf(client.send(new CreateSecretCommand({ Name: name, SecretString: "" })));
    const both = await errorOf(
      client.send(
        new CreateSecretCommand({ Name: name, SecretString: "a", SecretBinary: new Uint8Array([1]) }),
      ),
    );
    const large = await errorOf(
      client.send(new CreateSecretCommand({ Name: name, SecretString: "x".repeat(65_537) })),
    );
    const badName = await errorOf(
      client.send(new CreateSecretCommand({ Name: "has space", SecretString: "a" })),
    );

    for (const error of [empty, both, large, badName])
      expect(error).toBeInstanceOf(InvalidParameterException);
    expect(aws.names()).not.toContain(name);
  });

  it("answers ResourceExistsException and ResourceNotFoundException with status 400", async () => {
    const name = unique("exists");
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "a" }));

    const exists = await errorOf(client.send(new CreateSecretCommand({ Name: name, SecretString: "b" })));
    const missing = await errorOf(client.send(new GetSecretValueCommand({ SecretId: unique("missing") })));
    const missingVersion = await errorOf(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionId: randomUUID() })),
    );

    expect(exists).toBeInstanceOf(ResourceExistsException);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missingVersion).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.$metadata.httpStatusCode).toBe(400);
  });

  it("UpdateSecret changes the description and, with a value, adds a version", async () => {
    const name = unique("update");
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "a", Description: "first" }));

    const updated = await client.send(
      new UpdateSecretCommand({ SecretId: name, Description: "second", SecretString: "b" }),
    );

    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.Description).toBe("second");
    expect(described.VersionIdsToStages?.[updated.VersionId as string]).toEqual(["AWSCURRENT"]);
    expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("b");
  });
});

describe("AWS Secrets Manager emulator: tags", () => {
  it("TagResource appends and overwrites; UntagResource removes", async () => {
    const name = unique("tags");
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: "a", Tags: [{ Key: "app", Value: "billing" }] }),
    );

    await client.send(
      new TagResourceCommand({
        SecretId: name,
        Tags: [
          { Key: "app", Value: "ops" },
          { Key: "team", Value: "x" },
        ],
      }),
    );
    await client.send(new UntagResourceCommand({ SecretId: name, TagKeys: ["team"] }));

    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.Tags).toEqual([{ Key: "app", Value: "ops" }]);
  });

  it("refuses more than 50 tags and keys with the reserved aws: prefix", async () => {
    const name = unique("tag-limits");
    const tags = Array.from({ length: 51 }, (_, index) => ({ Key: `k${index}`, Value: "v" }));

    const tooMany = await errorOf(
      client.send(new CreateSecretCommand({ Name: name, SecretString: "a", Tags: tags })),
    );
    const reserved = await errorOf(
      client.send(
        new CreateSecretCommand({ Name: name, SecretString: "a", Tags: [{ Key: "aws:owner", Value: "me" }] }),
      ),
    );
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "a", Tags: tags.slice(0, 50) }));
    const oneMore = await errorOf(
      client.send(new TagResourceCommand({ SecretId: name, Tags: [{ Key: "extra", Value: "v" }] })),
    );

    for (const error of [tooMany, reserved, oneMore]) expect(error).toBeInstanceOf(InvalidParameterException);
  });
});

describe("AWS Secrets Manager emulator: ListSecrets", () => {
  it("filters by name prefix, tag key and tag value, ANDs filters, ORs values and negates with !", async () => {
    const root = unique("list");
    const mk = (suffix: string, tags: Record<string, string>) =>
      client.send(
        new CreateSecretCommand({
          Name: `${root}/${suffix}`,
          SecretString: "v",
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    await mk("a", { app: "billing" });
    await mk("b", { app: "ops" });
    await mk("c", { team: "billing" });
    const names = async (filters: { Key: "name" | "tag-key" | "tag-value"; Values: string[] }[]) =>
      (
        (
          await client.send(
            new ListSecretsCommand({ Filters: [{ Key: "name", Values: [root] }, ...filters] }),
          )
        ).SecretList ?? []
      )
        .map((entry) => entry.Name?.slice(root.length + 1))
        .sort();

    expect(await names([])).toEqual(["a", "b", "c"]);
    expect(await names([{ Key: "tag-key", Values: ["app"] }])).toEqual(["a", "b"]);
    expect(await names([{ Key: "tag-value", Values: ["bill"] }])).toEqual(["a", "c"]);
    expect(
      await names([
        { Key: "tag-key", Values: ["app"] },
        { Key: "tag-value", Values: ["billing"] },
      ]),
    ).toEqual(["a"]);
    expect(await names([{ Key: "tag-value", Values: ["ops", "billing"] }])).toEqual(["a", "b", "c"]);
    expect(await names([{ Key: "tag-key", Values: ["!app"] }])).toEqual(["c"]);
    expect(await names([{ Key: "name", Values: [`${root}/A`] }])).toEqual([]);
  });

  it("returns SecretVersionsToStages and Tags, and pages with NextToken", async () => {
    const root = unique("pages");
    for (const suffix of ["1", "2", "3"])
      await client.send(
        new CreateSecretCommand({
          Name: `${root}/${suffix}`,
          SecretString: "v",
          Tags: [{ Key: "n", Value: suffix }],
        }),
      );
    const filters = [{ Key: "name" as const, Values: [root] }];

    const first = await client.send(new ListSecretsCommand({ Filters: filters, MaxResults: 2 }));
    const second = await client.send(
      new ListSecretsCommand({ Filters: filters, MaxResults: 2, NextToken: first.NextToken }),
    );

    expect(first.SecretList).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    expect(second.SecretList).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    const entry = first.SecretList?.[0];
    expect(Object.values(entry?.SecretVersionsToStages ?? {})).toEqual([["AWSCURRENT"]]);
    expect(entry?.Tags).toHaveLength(1);
  });

  it("rejects a forged NextToken and a filter value outside the documented pattern", async () => {
    const badToken = await errorOf(client.send(new ListSecretsCommand({ NextToken: "bm90IGEgdG9rZW4=" })));
    const badValue = await errorOf(
      client.send(new ListSecretsCommand({ Filters: [{ Key: "tag-value", Values: ["ü"] }] })),
    );

    expect(badToken).toBeInstanceOf(InvalidNextTokenException);
    expect(badValue).toBeInstanceOf(InvalidParameterException);
  });
});

describe("AWS Secrets Manager emulator: deletion", () => {
  it("a recovery window schedules deletion: reads fail, list hides it, create refuses the name, restore brings it back", async () => {
    const name = unique("window");
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "kept" }));

    const deleted = await client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 7 }));

    expect(deleted.DeletionDate).toBeInstanceOf(Date);
    expect(await errorOf(client.send(new GetSecretValueCommand({ SecretId: name })))).toBeInstanceOf(
      InvalidRequestException,
    );
    expect(
      await errorOf(client.send(new CreateSecretCommand({ Name: name, SecretString: "x" }))),
    ).toBeInstanceOf(InvalidRequestException);
    expect(await errorOf(client.send(new DeleteSecretCommand({ SecretId: name })))).toBeInstanceOf(
      InvalidRequestException,
    );
    const listed = await client.send(new ListSecretsCommand({ Filters: [{ Key: "name", Values: [name] }] }));
    expect(listed.SecretList).toEqual([]);
    const planned = await client.send(
      new ListSecretsCommand({ Filters: [{ Key: "name", Values: [name] }], IncludePlannedDeletion: true }),
    );
    expect(planned.SecretList?.[0]?.DeletedDate).toBeInstanceOf(Date);
    expect((await client.send(new DescribeSecretCommand({ SecretId: name }))).DeletedDate).toBeInstanceOf(
      Date,
    );

    await client.send(new RestoreSecretCommand({ SecretId: name }));
    expect((await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe("kept");
  });

  it("validates the recovery window and forced deletion removes the secret at once", async () => {
    const name = unique("force");
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "v" }));

    const short = await errorOf(
      client.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: 6 })),
    );
    const both = await errorOf(
      client.send(
        new DeleteSecretCommand({
          SecretId: name,
          RecoveryWindowInDays: 7,
          ForceDeleteWithoutRecovery: true,
        }),
      ),
    );
    await client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true }));

    expect(short).toBeInstanceOf(InvalidParameterException);
    expect(both).toBeInstanceOf(InvalidParameterException);
    expect(await errorOf(client.send(new DescribeSecretCommand({ SecretId: name })))).toBeInstanceOf(
      ResourceNotFoundException,
    );
    await client.send(new CreateSecretCommand({ Name: name, SecretString: "again" }));
  });
});

describe("AWS Secrets Manager emulator: recovery window", () => {
  it("purges a secret once its recovery window has passed", async () => {
    let clock = Date.UTC(2026, 0, 1);
    const timed = await startAwsSecretsManagerEmulator({ now: () => clock });
    const timedClient = new SecretsManagerClient({
      endpoint: timed.url,
      region: timed.region,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    await timedClient.send(new CreateSecretCommand({ Name: "purged", SecretString: "v" }));

    const deleted = await timedClient.send(
      new DeleteSecretCommand({ SecretId: "purged", RecoveryWindowInDays: 7 }),
    );
    clock += 6 * 86_400_000;
    const during = await timedClient.send(new DescribeSecretCommand({ SecretId: "purged" }));
    clock += 2 * 86_400_000;
    const after = await errorOf(timedClient.send(new DescribeSecretCommand({ SecretId: "purged" })));
    timedClient.destroy();
    await timed.close();

    expect(deleted.DeletionDate?.getTime()).toBe(Date.UTC(2026, 0, 8));
    expect(during.DeletedDate).toBeInstanceOf(Date);
    expect(after).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe("AWS Secrets Manager emulator: BatchGetSecretValue", () => {
  it("returns the values found and an error entry per missing id", async () => {
    const a = unique("batch");
    const missing = unique("batch-missing");
    await client.send(new CreateSecretCommand({ Name: a, SecretString: "va" }));

    const result = await client.send(new BatchGetSecretValueCommand({ SecretIdList: [a, missing] }));

    expect(result.SecretValues?.map((v) => [v.Name, v.SecretString])).toEqual([[a, "va"]]);
    expect(result.Errors).toEqual([
      expect.objectContaining({ SecretId: missing, ErrorCode: "ResourceNotFoundException" }),
    ]);
  });

  it("selects by filters, and refuses ids and filters together or more than 20 ids", async () => {
    const root = unique("batchf");
    await client.send(new CreateSecretCommand({ Name: `${root}/x`, SecretString: "vx" }));

    const byFilter = await client.send(
      new BatchGetSecretValueCommand({ Filters: [{ Key: "name", Values: [root] }] }),
    );
    const both = await errorOf(
      client.send(
        new BatchGetSecretValueCommand({ SecretIdList: [root], Filters: [{ Key: "name", Values: [root] }] }),
      ),
    );
    const many = await errorOf(
      client.send(
        new BatchGetSecretValueCommand({ SecretIdList: Array.from({ length: 21 }, (_, i) => `${root}${i}`) }),
      ),
    );

    expect(byFilter.SecretValues?.map((v) => v.SecretString)).toEqual(["vx"]);
    expect(both).toBeInstanceOf(InvalidParameterException);
    expect(many).toBeInstanceOf(InvalidParameterException);
  });
});

describe("AWS Secrets Manager emulator: protocol, auth and faults", () => {
  it("logs each call's operation from X-Amz-Target", async () => {
    const before = aws.operations().length;

    await errorOf(client.send(new GetSecretValueCommand({ SecretId: unique("log") })));

    expect(aws.operations().slice(before)).toEqual(["GetSecretValue"]);
  });

  it("refuses an unknown access key with UnrecognizedClientException and a denied operation with AccessDeniedException", async () => {
    const stranger = clientFor("someone-else");
    aws.deny("GetSecretValue");

    const unknownKey = await errorOf(stranger.send(new ListSecretsCommand({})));
    const denied = await errorOf(client.send(new GetSecretValueCommand({ SecretId: unique("denied") })));
    stranger.destroy();

    expect(unknownKey.name).toBe("UnrecognizedClientException");
    expect(denied.name).toBe("AccessDeniedException");
  });

  it("injects 429 ThrottlingException, 500 InternalServiceError and dropped connections", async () => {
    aws.faults.failNext(1, 429);
    const throttled = await errorOf(client.send(new ListSecretsCommand({})));
    aws.faults.failNext(1, 500);
    const internal = await errorOf(client.send(new ListSecretsCommand({})));
    aws.faults.dropNext(1);
    const dropped = await client.send(new ListSecretsCommand({})).catch((caught: unknown) => caught);

    expect(throttled.name).toBe("ThrottlingException");
    expect(throttled.$metadata.httpStatusCode).toBe(429);
    expect(internal.name).toBe("InternalServiceError");
    expect(internal.$fault).toBe("server");
    expect(dropped).toBeInstanceOf(Error);
    expect(dropped).not.toBeInstanceOf(SecretsManagerServiceException);
    await expect(client.send(new ListSecretsCommand({}))).resolves.toHaveProperty("SecretList");
  });
});
