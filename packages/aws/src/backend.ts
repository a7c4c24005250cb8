import {
  BatchGetSecretValueCommand,
  type BatchGetSecretValueResponse,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretResponse,
  type Filter,
  GetSecretValueCommand,
  type GetSecretValueResponse,
  ListSecretsCommand,
  RestoreSecretCommand,
  type SecretListEntry,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import {
  type Capabilities,
  cleanRef,
  type ListQuery,
  matchesScope,
  matchesTags,
  nameCodec,
  namingRules,
  type PutOptions,
  refId,
  type Secret,
  type SecretBackend,
  type SecretEntry,
  type SecretInput,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
  StrongboxError,
  type Tags,
  validateRef,
} from "@strongbox/core";
import {
  buildClient,
  errorName,
  REF_TAG,
  refFromTags,
  refTags,
  toTagList,
  userTags,
  wrapError,
} from "./client.ts";
import { type ResolvedOptions, TYPE } from "./options.ts";

const capabilities: Capabilities = {
  tags: true,
  tagFilter: "server",
  versions: true,
  binary: true,
  description: true,
  // Secrets Manager has no compare-and-swap on a secret's value.
  checkAndSet: false,
  maxValueBytes: 65_536,
};
// What a ListSecrets filter value may hold (documented pattern), without a leading "!" (negation).
const FILTER_VALUE = /^[a-zA-Z0-9 :_@/+=.-][a-zA-Z0-9 :_@/+=.\-!]{0,511}$/;
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;
const BATCH = 20;
const NAMES_PER_FILTER = 10;

const notFound = (error: unknown): boolean => errorName(error) === "ResourceNotFoundException";

/** The backend over validated options. */
export function createBackend(options: ResolvedOptions): SecretBackend {
  const reserved = (tags: Tags, where: string): void => {
    const bad = Object.keys(tags).find(
      (key) => key.startsWith(REF_TAG) || key.toLowerCase().startsWith("aws:"),
    );
    if (bad !== undefined)
      throw new StrongboxError(
        "INVALID_OPTIONS",
        `${where}: tag "${bad}" uses a reserved prefix (strongbox:, aws:)`,
        {
          backend: TYPE,
        },
      );
  };
  reserved(options.tags, "tags");
  const codec = nameCodec(namingRules.aws, { prefix: options.prefix, mode: options.naming });
  const raw = options.naming === "raw";
  let client = options.client;
  const owned = client === undefined;
  const sdk = (): NonNullable<typeof client> => {
    client ??= buildClient(options);
    return client;
  };

  const nameOf = (ref: SecretRef): string => {
    validateRef(ref);
    if (raw && (ref.tenant !== undefined || ref.namespace !== undefined))
      throw new StrongboxError("INVALID_NAME", "raw naming has no tenants or namespaces", {
        backend: TYPE,
        ref,
      });
    return codec.encode(ref);
  };

  /** The exact ref of a listed name: from its tags when they name it, else decoded from the name. */
  const refOf = (name: string, tags: SecretListEntry["Tags"]): SecretRef | undefined => {
    if (raw) return codec.decode(name);
    const tagged = refFromTags(tags);
    if (tagged !== undefined) {
      try {
        if (codec.encode(tagged) === name) return tagged;
      } catch (error) {
        if (!(error instanceof StrongboxError)) throw error; // tags that name no legal ref: not one of ours
      }
    }
    return codec.decode(name);
  };

  const secretOf = (
    ref: SecretRef,
    value: GetSecretValueResponse,
    meta: DescribeSecretResponse | SecretListEntry,
  ): Secret => {
    const raw = value.SecretBinary ?? value.SecretString ?? "";
    return {
      ref: cleanRef(ref),
      value: SecretValue.from(raw),
      tags: userTags(meta.Tags),
      ...(value.VersionId === undefined ? {} : { version: value.VersionId }),
      ...(meta.Description === undefined ? {} : { description: meta.Description }),
      ...(meta.CreatedDate === undefined ? {} : { createdAt: meta.CreatedDate }),
      ...(meta.LastChangedDate === undefined ? {} : { updatedAt: meta.LastChangedDate }),
    };
  };

  async function get(ref: SecretRef, getOptions: { version?: string } = {}): Promise<Secret | undefined> {
    const name = nameOf(ref);
    const { version } = getOptions;
    const which =
      version === undefined
        ? {}
        : VERSION_ID.test(version)
          ? { VersionId: version }
          : { VersionStage: version };
    const [value, meta] = await Promise.allSettled([
      sdk().send(new GetSecretValueCommand({ SecretId: name, ...which })),
      sdk().send(new DescribeSecretCommand({ SecretId: name })),
    ]);
    if (meta.status === "rejected") {
      if (notFound(meta.reason)) return undefined;
      throw wrapError(meta.reason, "get", ref);
    }
    // A secret scheduled for deletion is gone for its readers (GetSecretValue refuses it).
    if (meta.value.DeletedDate !== undefined) return undefined;
    if (value.status === "rejected") {
      if (notFound(value.reason)) return undefined;
      throw wrapError(value.reason, "get", ref);
    }
    return secretOf(ref, value.value, meta.value);
  }

  /** Metadata of these names, with ListSecrets name filters (ten names a call). */
  async function describeMany(names: string[]): Promise<Map<string, SecretListEntry>> {
    const out = new Map<string, SecretListEntry>();
    for (let start = 0; start < names.length; start += NAMES_PER_FILTER) {
      const wanted = new Set(names.slice(start, start + NAMES_PER_FILTER));
      for await (const entry of listSecrets([{ Key: "name", Values: [...wanted] }], "getMany"))
        if (entry.Name !== undefined && wanted.has(entry.Name)) out.set(entry.Name, entry);
    }
    return out;
  }

  async function* listSecrets(Filters: Filter[], operation: string): AsyncGenerator<SecretListEntry> {
    let NextToken: string | undefined;
    do {
      const page = await sdk()
        .send(
          new ListSecretsCommand({
            MaxResults: 100,
            ...(Filters.length > 0 && { Filters }),
            ...(NextToken && { NextToken }),
          }),
        )
        .catch((error: unknown) => {
          throw wrapError(error, operation);
        });
      yield* page.SecretList ?? [];
      NextToken = page.NextToken;
    } while (NextToken !== undefined);
  }

  async function getChunk(refs: SecretRef[], found: Map<string, Secret>): Promise<void> {
    const names = refs.map(nameOf);
    const fallback = async (ref: SecretRef): Promise<void> => {
      const secret = await get(ref);
      if (secret !== undefined) found.set(refId(ref), secret);
    };
    let batch: BatchGetSecretValueResponse;
    let metadata: Map<string, SecretListEntry>;
    try {
      [batch, metadata] = await Promise.all([
        sdk().send(new BatchGetSecretValueCommand({ SecretIdList: names })),
        describeMany(names),
      ]);
    } catch (error) {
      // Without the batch or list permission (or an endpoint that lacks BatchGetSecretValue),
      // each secret is read on its own; an unreachable store fails as it is.
      const wrapped = wrapError(error, "getMany");
      if (wrapped.code === "UNAVAILABLE") throw wrapped;
      for (const ref of refs) await fallback(ref);
      return;
    }
    const values = new Map((batch.SecretValues ?? []).map((value) => [value.Name, value]));
    const failed = new Map((batch.Errors ?? []).map((error) => [error.SecretId, error.ErrorCode]));
    for (const [index, ref] of refs.entries()) {
      const name = names[index] as string;
      const value = values.get(name);
      const meta = metadata.get(name);
      if (value !== undefined && meta !== undefined) found.set(refId(ref), secretOf(ref, value, meta));
      else if (value === undefined && failed.get(name) === "ResourceNotFoundException") continue;
      else await fallback(ref);
    }
  }

  const backend: SecretBackend = {
    type: TYPE,
    capabilities,
    get,

    async getMany(refs) {
      const unique = [...new Map(refs.map((ref) => [refId(ref), ref])).values()];
      for (const ref of unique) nameOf(ref);
      const found = new Map<string, Secret>();
      if (unique.length === 1) {
        const secret = await get(unique[0] as SecretRef);
        if (secret !== undefined) found.set(refId(secret.ref), secret);
        return found;
      }
      for (let start = 0; start < unique.length; start += BATCH)
        await getChunk(unique.slice(start, start + BATCH), found);
      return found;
    },

    async *list(query: ListQuery = {}): AsyncGenerator<SecretEntry> {
      const filters: Filter[] = [];
      const start = codec.listPrefix(query);
      if (start !== "") filters.push({ Key: "name", Values: [start] });
      // One tag goes to the server (tag-key AND tag-value narrow the page); all are checked here.
      const sent = Object.entries(query.tags ?? {}).find(
        ([key, value]) => FILTER_VALUE.test(key) && FILTER_VALUE.test(value),
      );
      if (sent !== undefined)
        filters.push({ Key: "tag-key", Values: [sent[0]] }, { Key: "tag-value", Values: [sent[1]] });
      for await (const entry of listSecrets(filters, "list")) {
        const ref = entry.Name === undefined ? undefined : refOf(entry.Name, entry.Tags);
        if (ref === undefined || !matchesScope(ref, query)) continue;
        const tags = userTags(entry.Tags);
        if (!matchesTags(tags, query.tags)) continue;
        const current = Object.entries(entry.SecretVersionsToStages ?? {}).find(([, stages]) =>
          stages.includes("AWSCURRENT"),
        )?.[0];
        yield {
          ref: cleanRef(ref),
          tags,
          ...(current === undefined ? {} : { version: current }),
          ...(entry.Description === undefined ? {} : { description: entry.Description }),
          ...(entry.CreatedDate === undefined ? {} : { createdAt: entry.CreatedDate }),
          ...(entry.LastChangedDate === undefined ? {} : { updatedAt: entry.LastChangedDate }),
        };
      }
    },

    put: (ref, value, putOptions) => put(ref, value, putOptions),

    async delete(ref) {
      const name = nameOf(ref);
      const how = options.forceDelete
        ? { ForceDeleteWithoutRecovery: true }
        : { RecoveryWindowInDays: options.recoveryWindowInDays };
      try {
        await sdk().send(new DeleteSecretCommand({ SecretId: name, ...how }));
        return true;
      } catch (error) {
        if (notFound(error)) return false;
        if (errorName(error) === "InvalidRequestException" && (await scheduledForDeletion(name, ref)))
          return false;
        throw wrapError(error, "delete", ref);
      }
    },

    async close() {
      if (owned) client?.destroy();
      client = undefined;
    },
  };

  async function describe(
    name: string,
    ref: SecretRef,
    operation: string,
  ): Promise<DescribeSecretResponse | undefined> {
    try {
      return await sdk().send(new DescribeSecretCommand({ SecretId: name }));
    } catch (error) {
      if (notFound(error)) return undefined;
      throw wrapError(error, operation, ref);
    }
  }

  async function scheduledForDeletion(name: string, ref: SecretRef): Promise<boolean> {
    return (await describe(name, ref, "delete"))?.DeletedDate !== undefined;
  }

  async function put(
    ref: SecretRef,
    input: SecretInput,
    putOptions: PutOptions = {},
  ): Promise<SecretMetadata> {
    const name = nameOf(ref);
    if (putOptions.expectedVersion !== undefined)
      throw new StrongboxError("UNSUPPORTED", "AWS Secrets Manager has no check-and-set (expectedVersion)", {
        backend: TYPE,
        operation: "put",
        ref,
      });
    if (putOptions.tags !== undefined) reserved(putOptions.tags, "put tags");
    const value = SecretValue.from(input);
    const masks = [value.reveal()];
    const payload = value.isBinary ? { SecretBinary: value.bytes() } : { SecretString: value.reveal() };
    const description = putOptions.description === undefined ? {} : { Description: putOptions.description };
    const wanted: Tags = { ...options.tags, ...putOptions.tags };
    const own = raw ? [] : refTags(ref);
    const fail = (error: unknown): never => {
      throw wrapError(error, "put", ref, masks);
    };

    try {
      const created = await sdk().send(
        new CreateSecretCommand({
          Name: name,
          ...payload,
          ...description,
          Tags: [...own, ...toTagList(wanted)],
        }),
      );
      return {
        tags: wanted,
        ...(created.VersionId && { version: created.VersionId }),
        ...(putOptions.description !== undefined && { description: putOptions.description }),
      };
    } catch (error) {
      const kind = errorName(error);
      if (kind !== "ResourceExistsException" && kind !== "InvalidRequestException") fail(error);
      const current = await describe(name, ref, "put");
      if (current === undefined) fail(error);
      const restore = current?.DeletedDate !== undefined;
      if (!restore && kind === "InvalidRequestException") fail(error);
      // A secret scheduled for deletion holds the name: bring it back, then write over it.
      if (restore)
        await sdk()
          .send(new RestoreSecretCommand({ SecretId: name }))
          .catch(fail);
      const updated = await sdk()
        .send(new UpdateSecretCommand({ SecretId: name, ...payload, ...description }))
        .catch(fail);
      const before = userTags(current?.Tags);
      // Given tags replace the old ones; a restored secret starts from the given (or default) tags only.
      const replace = putOptions.tags !== undefined || restore;
      const after = replace ? wanted : { ...before, ...options.tags };
      const stale = Object.keys(before).filter((key) => !(key in after));
      if (stale.length > 0)
        await sdk()
          .send(new UntagResourceCommand({ SecretId: name, TagKeys: stale }))
          .catch(fail);
      const changed = Object.entries(after).filter(([key, text]) => before[key] !== text);
      const missingOwn = own.filter(
        (tag) => !current?.Tags?.some((t) => t.Key === tag.Key && t.Value === tag.Value),
      );
      if (changed.length > 0 || missingOwn.length > 0)
        await sdk()
          .send(
            new TagResourceCommand({
              SecretId: name,
              Tags: [...missingOwn, ...toTagList(Object.fromEntries(changed))],
            }),
          )
          .catch(fail);
      const text = putOptions.description ?? current?.Description;
      return {
        tags: after,
        ...(updated.VersionId && { version: updated.VersionId }),
        ...(text !== undefined && { description: text }),
      };
    }
  }

  return backend;
}
