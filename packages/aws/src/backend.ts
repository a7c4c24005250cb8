import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  type Filter,
  GetSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import {
  type Capabilities,
  cleanRef,
  type GetOptions,
  type ListQuery,
  matchesScope,
  matchesTags,
  type Secret,
  type SecretBackend,
  type SecretEntry,
  type SecretRef,
} from "@strongbox/core";
import { getMany } from "./batch.ts";
import { errorName, userTags, wrapError } from "./client.ts";
import {
  createContext,
  describe,
  listSecrets,
  notFound,
  scheduledForDeletion,
  secretOf,
  valueOnly,
} from "./context.ts";
import { type ResolvedOptions, TYPE } from "./options.ts";
import { putSecret } from "./put.ts";

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
// readMetadata: false: get returns neither tags nor description.
const valueOnlyCapabilities: Capabilities = {
  ...capabilities,
  tags: false,
  tagFilter: "none",
  description: false,
};
// What a ListSecrets filter value may hold (the documented pattern), without a leading "!" (negation).
const FILTER_VALUE = /^[a-zA-Z0-9 :_@/+=.-][a-zA-Z0-9 :_@/+=.\-!]{0,511}$/;
// A version id is 32 to 64 characters; anything else is read as a staging label (AWSPREVIOUS...).
const VERSION_ID = /^[A-Za-z0-9-]{32,64}$/;

/** The backend over validated options. */
export function createBackend(options: ResolvedOptions): SecretBackend {
  const context = createContext(options);
  const { sdk, nameOf } = context;

  async function get(ref: SecretRef, getOptions: GetOptions = {}): Promise<Secret | undefined> {
    const name = nameOf(ref);
    const { version } = getOptions;
    const which =
      version === undefined
        ? {}
        : VERSION_ID.test(version)
          ? { VersionId: version }
          : { VersionStage: version };
    if (!options.readMetadata) {
      try {
        return valueOnly(ref, await sdk().send(new GetSecretValueCommand({ SecretId: name, ...which })));
      } catch (error) {
        if (notFound(error) || scheduledForDeletion(error)) return undefined;
        throw wrapError(error, "get", ref);
      }
    }
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

  async function* list(query: ListQuery = {}): AsyncGenerator<SecretEntry> {
    const filters: Filter[] = [];
    const start = context.codec.listPrefix(query);
    if (start !== "") filters.push({ Key: "name", Values: [start] });
    // One tag goes to the server (tag-key AND tag-value narrow the pages); every tag is checked here.
    const sent = Object.entries(query.tags ?? {}).find(
      ([key, value]) => FILTER_VALUE.test(key) && FILTER_VALUE.test(value),
    );
    if (sent !== undefined)
      filters.push({ Key: "tag-key", Values: [sent[0]] }, { Key: "tag-value", Values: [sent[1]] });
    for await (const entry of listSecrets(context, filters, "list")) {
      const ref = entry.Name === undefined ? undefined : context.refOf(entry.Name, entry.Tags);
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
  }

  async function remove(ref: SecretRef): Promise<boolean> {
    const name = nameOf(ref);
    const how = options.forceDelete
      ? { ForceDeleteWithoutRecovery: true }
      : { RecoveryWindowInDays: options.recoveryWindowInDays };
    try {
      await sdk().send(new DeleteSecretCommand({ SecretId: name, ...how }));
      return true;
    } catch (error) {
      if (notFound(error)) return false;
      // Already scheduled for deletion: there was nothing left to delete.
      if (
        errorName(error) === "InvalidRequestException" &&
        (await describe(context, name, ref, "delete"))?.DeletedDate !== undefined
      )
        return false;
      throw wrapError(error, "delete", ref);
    }
  }

  return {
    type: TYPE,
    capabilities: options.readMetadata ? capabilities : valueOnlyCapabilities,
    get,
    getMany: (refs) => getMany(context, refs, (ref) => get(ref)),
    list,
    put: (ref, value, putOptions) => putSecret(context, ref, value, putOptions),
    delete: remove,
    async close() {
      context.release();
    },
  };
}
