import { randomBytes, randomUUID } from "node:crypto";
import { type EmulatorRequest, type EmulatorResponse, type HttpEmulator, startHttpEmulator } from "./http.ts";

/** Options of {@link startAwsSecretsManagerEmulator}. */
export interface AwsSecretsManagerEmulatorOptions {
  /** Region written into ARNs. @default "us-east-1" */
  region?: string;
  /** Account id written into ARNs. @default "123456789012" */
  accountId?: string;
  /** When set, a request signed with another access key id fails with `UnrecognizedClientException`. */
  accessKeyId?: string;
  /** Port to listen on. @default 0 (a random free port) */
  port?: number;
  /** The emulator's clock in ms (a test seam): secrets whose recovery window has passed are purged. @default Date.now */
  now?: () => number;
}

/** A running AWS Secrets Manager emulator. */
export interface AwsSecretsManagerEmulator extends HttpEmulator {
  readonly region: string;
  /** The operations called so far, in order (`"GetSecretValue"`, ...), from the request log. */
  operations(): string[];
  /** Makes these operations (or every one, with `"*"`) fail with `AccessDeniedException` until {@link allow}. */
  deny(...operations: string[]): void;
  /** Lifts every denial. */
  allow(): void;
  /** The names held, with those scheduled for deletion. */
  names(): string[];
}

interface Version {
  id: string;
  string?: string;
  binary?: string; // base64, as it travels
  stages: string[];
  created: number;
}

interface Stored {
  arn: string;
  name: string;
  description?: string;
  tags: { Key: string; Value: string }[];
  created: number;
  changed: number;
  deleted?: number;
  deletion?: number;
  versions: Map<string, Version>;
}

class AwsError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

const JSON_11 = "application/x-amz-json-1.1";
const NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;
const FILTER_KEYS = [
  "description",
  "name",
  "tag-key",
  "tag-value",
  "primary-region",
  "owning-service",
  "all",
];
const MAX_VALUE_BYTES = 65_536;
const MAX_TAGS = 50;
const MAX_VERSIONS = 100;
const DAY_S = 86_400;

const invalidParameter = (message: string): AwsError => new AwsError("InvalidParameterException", message);
const notFound = (message = "Secrets Manager can't find the specified secret."): AwsError =>
  new AwsError("ResourceNotFoundException", message);
const markedForDeletion = (): AwsError =>
  new AwsError(
    "InvalidRequestException",
    "You can't perform this operation on the secret because it was marked for deletion.",
  );

/** The error type and status an injected fault status stands for. */
function faultBody(status: number): EmulatorResponse["body"] {
  if (status === 429) return { __type: "ThrottlingException", message: "Rate exceeded" };
  if (status === 503) return { __type: "ServiceUnavailable", message: "Service unavailable" };
  if (status >= 500)
    return { __type: "InternalServiceError", message: "An error occurred on the server side." };
  if (status === 403) return { __type: "AccessDeniedException", message: "Access denied" };
  return { __type: "InvalidRequestException", message: `injected ${status}` };
}

/**
 * Starts an in-memory AWS Secrets Manager on 127.0.0.1 that speaks the JSON 1.1
 * protocol the SDK uses (`POST /`, `X-Amz-Target: secretsmanager.<Op>`): create,
 * get, put, update, describe, list (filters, pagination), list versions, tag,
 * untag, delete (recovery window or forced), restore and batch get, with the
 * documented error types, version stages and idempotent client request tokens.
 *
 * @example
 * const aws = await startAwsSecretsManagerEmulator();
 * const client = new SecretsManagerClient({ endpoint: aws.url, region: aws.region,
 *   credentials: { accessKeyId: "test", secretAccessKey: "test" } });
 */
export async function startAwsSecretsManagerEmulator(
  options: AwsSecretsManagerEmulatorOptions = {},
): Promise<AwsSecretsManagerEmulator> {
  const region = options.region ?? "us-east-1";
  const account = options.accountId ?? "123456789012";
  const secrets = new Map<string, Stored>();
  const denied = new Set<string>();
  const clock = options.now ?? Date.now;
  const now = (): number => clock() / 1000;

  const find = (id: unknown): Stored => {
    if (typeof id !== "string" || id.length === 0 || id.length > 2048)
      throw invalidParameter("Invalid SecretId.");
    const byName = secrets.get(id);
    if (byName !== undefined) return byName;
    for (const stored of secrets.values()) if (stored.arn === id) return stored;
    throw notFound();
  };
  const live = (id: unknown): Stored => {
    const stored = find(id);
    if (stored.deleted !== undefined) throw markedForDeletion();
    return stored;
  };

  const handlers: Record<string, (input: Record<string, unknown>) => object> = {
    CreateSecret(input) {
      const name = input.Name;
      if (typeof name !== "string" || !NAME.test(name))
        throw invalidParameter(
          "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@",
        );
      const value = readValue(input, false);
      const tags = input.Tags === undefined ? [] : readTags(input.Tags);
      checkTagCount(tags);
      const description = readDescription(input.Description);
      const existing = secrets.get(name);
      if (existing?.deleted !== undefined)
        throw new AwsError(
          "InvalidRequestException",
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      const token = readToken(input.ClientRequestToken);
      if (existing !== undefined) {
        const same = value !== undefined && existing.versions.get(token);
        if (same && sameValue(same, value)) return { ARN: existing.arn, Name: name, VersionId: token };
        throw new AwsError(
          "ResourceExistsException",
          `The operation failed because the secret ${name} already exists.`,
        );
      }
      const time = now();
      const stored: Stored = {
        arn: `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${randomBytes(3).toString("hex")}`,
        name,
        tags,
        created: time,
        changed: time,
        versions: new Map(),
        ...(description === undefined ? {} : { description }),
      };
      secrets.set(name, stored);
      if (value === undefined) return { ARN: stored.arn, Name: name };
      addVersion(stored, token, value, ["AWSCURRENT"]);
      return { ARN: stored.arn, Name: name, VersionId: token };
    },

    GetSecretValue(input) {
      const stored = live(input.SecretId);
      const version = pickVersion(stored, input.VersionId, input.VersionStage);
      return { ARN: stored.arn, Name: stored.name, ...versionOut(version), VersionStages: version.stages };
    },

    PutSecretValue(input) {
      const stored = live(input.SecretId);
      const value = readValue(input, true);
      const stages = input.VersionStages === undefined ? ["AWSCURRENT"] : readStages(input.VersionStages);
      const token = readToken(input.ClientRequestToken);
      const id = putVersion(stored, token, value as Value, stages);
      return {
        ARN: stored.arn,
        Name: stored.name,
        VersionId: id,
        VersionStages: stored.versions.get(id)?.stages,
      };
    },

    UpdateSecret(input) {
      const stored = live(input.SecretId);
      const value = readValue(input, false);
      const description = readDescription(input.Description);
      if (description !== undefined) stored.description = description;
      stored.changed = now();
      if (value === undefined) return { ARN: stored.arn, Name: stored.name };
      const id = putVersion(stored, readToken(input.ClientRequestToken), value, ["AWSCURRENT"]);
      return { ARN: stored.arn, Name: stored.name, VersionId: id };
    },

    DescribeSecret(input) {
      const stored = find(input.SecretId);
      return {
        ...entryOut(stored),
        VersionIdsToStages: stagesMap(stored),
      };
    },

    ListSecrets(input) {
      const filters = readFilters(input.Filters);
      const include = input.IncludePlannedDeletion === true;
      const order = input.SortOrder === "desc" ? -1 : 1;
      const matching = [...secrets.values()]
        .filter((stored) => (include || stored.deleted === undefined) && filters.every((f) => f(stored)))
        .sort((a, b) => order * (a.created - b.created || a.name.localeCompare(b.name)));
      const { page, next } = paginate(matching, input, 100, JSON.stringify(input.Filters ?? null));
      return {
        SecretList: page.map((stored) => ({
          ...entryOut(stored),
          SecretVersionsToStages: stagesMap(stored),
        })),
        ...(next === undefined ? {} : { NextToken: next }),
      };
    },

    ListSecretVersionIds(input) {
      const stored = find(input.SecretId);
      const all = [...stored.versions.values()].filter(
        (version) => input.IncludeDeprecated === true || version.stages.length > 0,
      );
      const { page, next } = paginate(all, input, 100, stored.name);
      return {
        ARN: stored.arn,
        Name: stored.name,
        Versions: page.map((version) => ({
          VersionId: version.id,
          VersionStages: version.stages,
          CreatedDate: version.created,
        })),
        ...(next === undefined ? {} : { NextToken: next }),
      };
    },

    TagResource(input) {
      const stored = find(input.SecretId);
      const tags = readTags(input.Tags);
      const merged = new Map(stored.tags.map((tag) => [tag.Key, tag.Value]));
      for (const tag of tags) merged.set(tag.Key, tag.Value);
      const next = [...merged].map(([Key, Value]) => ({ Key, Value }));
      checkTagCount(next);
      stored.tags = next;
      return {};
    },

    UntagResource(input) {
      const stored = find(input.SecretId);
      if (!Array.isArray(input.TagKeys) || input.TagKeys.some((key) => typeof key !== "string"))
        throw invalidParameter("TagKeys must be a list of strings.");
      const keys = new Set(input.TagKeys as string[]);
      if ([...keys].some(isReserved)) throw invalidParameter("You can't delete tags with the aws: prefix.");
      stored.tags = stored.tags.filter((tag) => !keys.has(tag.Key));
      return {};
    },

    DeleteSecret(input) {
      const stored = find(input.SecretId);
      const force = input.ForceDeleteWithoutRecovery === true;
      if (force && input.RecoveryWindowInDays !== undefined)
        throw invalidParameter(
          "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        );
      const days = input.RecoveryWindowInDays ?? 30;
      if (!Number.isInteger(days) || (days as number) < 7 || (days as number) > 30)
        throw invalidParameter("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).");
      const time = now();
      if (force) {
        secrets.delete(stored.name);
        return { ARN: stored.arn, Name: stored.name, DeletionDate: time };
      }
      if (stored.deleted !== undefined)
        throw new AwsError(
          "InvalidRequestException",
          "You can't perform this operation on the secret because it was already scheduled for deletion.",
        );
      stored.deleted = time;
      stored.deletion = time + (days as number) * DAY_S;
      return { ARN: stored.arn, Name: stored.name, DeletionDate: stored.deletion };
    },

    RestoreSecret(input) {
      const stored = find(input.SecretId);
      delete stored.deleted;
      delete stored.deletion;
      return { ARN: stored.arn, Name: stored.name };
    },

    BatchGetSecretValue(input) {
      const list = input.SecretIdList;
      if ((list === undefined) === (input.Filters === undefined))
        throw invalidParameter("Specify either SecretIdList or Filters, but not both.");
      if (list !== undefined) {
        if (!Array.isArray(list) || list.length < 1 || list.length > 20)
          throw invalidParameter("SecretIdList must hold between 1 and 20 secret ids.");
        if (input.MaxResults !== undefined)
          throw invalidParameter("MaxResults can't be used with SecretIdList.");
        const values: object[] = [];
        const errors: object[] = [];
        for (const id of list) {
          try {
            const stored = live(id);
            const version = pickVersion(stored, undefined, undefined);
            values.push({
              ARN: stored.arn,
              Name: stored.name,
              ...versionOut(version),
              VersionStages: version.stages,
            });
          } catch (error) {
            if (!(error instanceof AwsError)) throw error;
            errors.push({ SecretId: id, ErrorCode: error.type, Message: error.message });
          }
        }
        return { SecretValues: values, Errors: errors };
      }
      const filters = readFilters(input.Filters);
      const matching = [...secrets.values()]
        .filter((stored) => stored.deleted === undefined && filters.every((f) => f(stored)))
        .sort((a, b) => a.created - b.created || a.name.localeCompare(b.name));
      const { page, next } = paginate(matching, input, 20, JSON.stringify(input.Filters));
      const values: object[] = [];
      const errors: object[] = [];
      for (const stored of page) {
        const version = [...stored.versions.values()].find((v) => v.stages.includes("AWSCURRENT"));
        if (version === undefined)
          errors.push({ SecretId: stored.arn, ErrorCode: "ResourceNotFoundException", Message: "no value" });
        else
          values.push({
            ARN: stored.arn,
            Name: stored.name,
            ...versionOut(version),
            VersionStages: version.stages,
          });
      }
      return { SecretValues: values, Errors: errors, ...(next === undefined ? {} : { NextToken: next }) };
    },
  };

  function putVersion(stored: Stored, token: string, value: Value, stages: string[]): string {
    const existing = stored.versions.get(token);
    if (existing !== undefined) {
      if (sameValue(existing, value)) return token;
      throw new AwsError(
        "ResourceExistsException",
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    addVersion(stored, token, value, stages);
    return token;
  }

  function addVersion(stored: Stored, id: string, value: Value, stages: string[]): void {
    const time = now();
    if (stages.includes("AWSCURRENT")) {
      const current = [...stored.versions.values()].find((v) => v.stages.includes("AWSCURRENT"));
      for (const version of stored.versions.values())
        version.stages = version.stages.filter((stage) => stage !== "AWSPREVIOUS");
      if (current !== undefined)
        current.stages = [...current.stages.filter((s) => s !== "AWSCURRENT"), "AWSPREVIOUS"];
    }
    for (const version of stored.versions.values())
      version.stages = version.stages.filter((stage) => stage === "AWSPREVIOUS" || !stages.includes(stage));
    stored.versions.set(id, { id, ...value, stages: [...stages], created: time });
    stored.changed = time;
    // Secrets Manager keeps about 100 versions: the oldest ones without a stage go first.
    for (const version of stored.versions.values()) {
      if (stored.versions.size <= MAX_VERSIONS) break;
      if (version.stages.length === 0) stored.versions.delete(version.id);
    }
  }

  function pickVersion(stored: Stored, versionId: unknown, stage: unknown): Version {
    if (versionId !== undefined) {
      if (typeof versionId !== "string" || versionId.length < 32 || versionId.length > 64)
        throw invalidParameter("VersionId must be between 32 and 64 characters.");
      const version = stored.versions.get(versionId);
      if (version === undefined || (typeof stage === "string" && !version.stages.includes(stage)))
        throw notFound(`Secrets Manager can't find the specified secret value for VersionId: ${versionId}`);
      return version;
    }
    const label = typeof stage === "string" ? stage : "AWSCURRENT";
    const version = [...stored.versions.values()].find((v) => v.stages.includes(label));
    if (version === undefined)
      throw notFound(`Secrets Manager can't find the specified secret value for staging label: ${label}`);
    return version;
  }

  function paginate<T>(
    items: T[],
    input: Record<string, unknown>,
    max: number,
    scope: string,
  ): { page: T[]; next: string | undefined } {
    const size = input.MaxResults ?? max;
    if (!Number.isInteger(size) || (size as number) < 1 || (size as number) > max)
      throw invalidParameter(`MaxResults must be between 1 and ${max}.`);
    let start = 0;
    if (input.NextToken !== undefined) {
      const decoded = decodeToken(input.NextToken);
      if (decoded === undefined || decoded.scope !== scope)
        throw new AwsError("InvalidNextTokenException", "The NextToken value is invalid.");
      start = decoded.offset;
    }
    const end = start + (size as number);
    const next =
      end < items.length ? Buffer.from(JSON.stringify({ scope, offset: end })).toString("base64") : undefined;
    return { page: items.slice(start, end), next };
  }

  function entryOut(stored: Stored): object {
    return {
      ARN: stored.arn,
      Name: stored.name,
      ...(stored.description === undefined ? {} : { Description: stored.description }),
      LastChangedDate: stored.changed,
      ...(stored.deleted === undefined ? {} : { DeletedDate: stored.deleted }),
      ...(stored.tags.length === 0 ? {} : { Tags: stored.tags }),
      CreatedDate: stored.created,
    };
  }

  const handle = async (request: EmulatorRequest): Promise<EmulatorResponse> => {
    const headers = { "content-type": JSON_11, "x-amzn-requestid": randomUUID() };
    const fail = (error: AwsError): EmulatorResponse => ({
      status: error.status,
      headers,
      body: { __type: error.type, message: error.message },
    });
    const target = String(request.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("secretsmanager.") ? target.slice("secretsmanager.".length) : "";
    const handler = Object.hasOwn(handlers, operation) ? handlers[operation] : undefined;
    if (request.method !== "POST" || handler === undefined)
      return fail(new AwsError("UnknownOperationException", "", 400));
    const auth = String(request.headers.authorization ?? "");
    if (!auth.includes("Credential="))
      return fail(new AwsError("MissingAuthenticationTokenException", "Missing Authentication Token", 400));
    if (options.accessKeyId !== undefined && !auth.includes(`Credential=${options.accessKeyId}/`))
      return fail(
        new AwsError("UnrecognizedClientException", "The security token included in the request is invalid."),
      );
    if (denied.has("*") || denied.has(operation))
      return fail(
        new AwsError(
          "AccessDeniedException",
          `User is not authorized to perform: secretsmanager:${operation} because no identity-based policy allows it`,
        ),
      );
    // A secret whose recovery window has ended is gone for good.
    for (const [name, stored] of secrets)
      if (stored.deletion !== undefined && stored.deletion <= now()) secrets.delete(name);
    let input: Record<string, unknown>;
    try {
      input = request.json<Record<string, unknown>>() ?? {};
    } catch {
      return fail(new AwsError("SerializationException", "Malformed JSON"));
    }
    try {
      return { status: 200, headers, body: handler(input) };
    } catch (error) {
      if (error instanceof AwsError) return fail(error);
      throw error;
    }
  };

  const base = await startHttpEmulator(handle, {
    errorBody: faultBody,
    headers: { "content-type": JSON_11 },
    ...(options.port === undefined ? {} : { port: options.port }),
  });
  return Object.assign(base, {
    region,
    operations: () =>
      base.requests.map((request) =>
        String(request.headers["x-amz-target"] ?? "").replace(/^secretsmanager\./, ""),
      ),
    deny: (...operations: string[]) => {
      for (const operation of operations) denied.add(operation);
    },
    allow: () => denied.clear(),
    names: () => [...secrets.keys()],
  });
}

type Value = { string: string } | { binary: string };

function readValue(input: Record<string, unknown>, required: boolean): Value | undefined {
  const { SecretString: text, SecretBinary: binary } = input;
  if (text !== undefined && binary !== undefined)
    throw invalidParameter(
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  if (text === undefined && binary === undefined) {
    if (required) throw invalidParameter("You must provide either SecretString or SecretBinary.");
    return undefined;
  }
  if (text !== undefined) {
    // SecretStringType: length 1 to 65536.
    if (typeof text !== "string" || text.length === 0 || Buffer.byteLength(text) > MAX_VALUE_BYTES)
      throw invalidParameter("SecretString must be between 1 and 65536 bytes.");
    return { string: text };
  }
  const bytes = typeof binary === "string" ? Buffer.from(binary, "base64") : undefined;
  if (bytes === undefined || bytes.length === 0 || bytes.length > MAX_VALUE_BYTES)
    throw invalidParameter("SecretBinary must be between 1 and 65536 bytes.");
  return { binary: binary as string };
}

function sameValue(version: Version, value: Value): boolean {
  return "string" in value ? version.string === value.string : version.binary === value.binary;
}

function versionOut(version: Version): object {
  return {
    VersionId: version.id,
    ...(version.string === undefined ? {} : { SecretString: version.string }),
    ...(version.binary === undefined ? {} : { SecretBinary: version.binary }),
    CreatedDate: version.created,
  };
}

function stagesMap(stored: Stored): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const version of stored.versions.values())
    if (version.stages.length > 0) out[version.id] = version.stages;
  return out;
}

function readToken(token: unknown): string {
  if (token === undefined) return randomUUID();
  if (typeof token !== "string" || token.length < 32 || token.length > 64)
    throw invalidParameter("ClientRequestToken must be between 32 and 64 characters.");
  return token;
}

function readStages(stages: unknown): string[] {
  if (!Array.isArray(stages) || stages.length < 1 || stages.length > 20)
    throw invalidParameter("VersionStages must hold between 1 and 20 labels.");
  for (const stage of stages)
    if (typeof stage !== "string" || stage.length < 1 || stage.length > 256)
      throw invalidParameter("A staging label must be between 1 and 256 characters.");
  return stages as string[];
}

function readDescription(description: unknown): string | undefined {
  if (description === undefined) return undefined;
  if (typeof description !== "string" || description.length > 2048)
    throw invalidParameter("Description must be at most 2048 characters.");
  return description;
}

const isReserved = (key: string): boolean => key.toLowerCase().startsWith("aws:");

function readTags(tags: unknown): { Key: string; Value: string }[] {
  if (!Array.isArray(tags)) throw invalidParameter("Tags must be a list.");
  const out = new Map<string, string>();
  for (const tag of tags as { Key?: unknown; Value?: unknown }[]) {
    const { Key: key, Value: value = "" } = tag ?? {};
    if (typeof key !== "string" || [...key].length < 1 || [...key].length > 128)
      throw invalidParameter("A tag key must be between 1 and 128 characters.");
    if (typeof value !== "string" || [...value].length > 256)
      throw invalidParameter("A tag value must be at most 256 characters.");
    if (isReserved(key)) throw invalidParameter("Tag keys can't start with the reserved prefix aws:.");
    out.set(key, value);
  }
  return [...out].map(([Key, Value]) => ({ Key, Value }));
}

function checkTagCount(tags: { Key: string }[]): void {
  if (tags.filter((tag) => !isReserved(tag.Key)).length > MAX_TAGS)
    throw invalidParameter(`A secret can have at most ${MAX_TAGS} tags.`);
}

function decodeToken(token: unknown): { scope: string; offset: number } | undefined {
  if (typeof token !== "string") return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as {
      scope?: unknown;
      offset?: unknown;
    };
    if (typeof parsed.scope !== "string" || !Number.isInteger(parsed.offset)) return undefined;
    return { scope: parsed.scope, offset: parsed.offset as number };
  } catch {
    return undefined;
  }
}

/** ListSecrets filters: filters are ANDed, the values of one filter ORed, `!` negates a value. */
function readFilters(filters: unknown): ((stored: Stored) => boolean)[] {
  if (filters === undefined) return [];
  if (!Array.isArray(filters)) throw invalidParameter("Filters must be a list.");
  return (filters as { Key?: unknown; Values?: unknown }[]).map(({ Key: key, Values: values }) => {
    if (typeof key !== "string" || !FILTER_KEYS.includes(key))
      throw invalidParameter(`Invalid filter key: ${String(key)}`);
    if (!Array.isArray(values) || values.length < 1 || values.length > 10)
      throw invalidParameter("A filter has between 1 and 10 values.");
    for (const value of values)
      if (typeof value !== "string" || value.length > 512 || !FILTER_VALUE.test(value))
        throw invalidParameter("Invalid filter value.");
    const positive = (values as string[]).filter((value) => !value.startsWith("!"));
    const negative = (values as string[])
      .filter((value) => value.startsWith("!"))
      .map((value) => value.slice(1));
    const test = (stored: Stored, value: string): boolean => matchFilter(key, stored, value);
    return (stored) =>
      (positive.length === 0 || positive.some((value) => test(stored, value))) &&
      negative.every((value) => !test(stored, value));
  });
}

function matchFilter(key: string, stored: Stored, value: string): boolean {
  switch (key) {
    case "name":
      return stored.name.startsWith(value);
    case "tag-key":
      return stored.tags.some((tag) => tag.Key.startsWith(value));
    case "tag-value":
      return stored.tags.some((tag) => tag.Value.startsWith(value));
    case "description":
      return words(stored.description ?? "").some((word) => word.startsWith(value.toLowerCase()));
    case "all": {
      const haystack = [
        stored.name,
        stored.description ?? "",
        ...stored.tags.flatMap((t) => [t.Key, t.Value]),
      ].flatMap(words);
      return words(value).every((needle) => haystack.some((word) => word.startsWith(needle)));
    }
    default:
      return false; // primary-region, owning-service: this emulator has neither replicas nor managed secrets
  }
}

/** Words as the search splits them: letters and digits only, at case, letter-digit and punctuation changes. */
function words(text: string): string[] {
  return (text.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g) ?? []).map((word) => word.toLowerCase());
}
