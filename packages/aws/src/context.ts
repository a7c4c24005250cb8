import {
  DescribeSecretCommand,
  type DescribeSecretResponse,
  type Filter,
  type GetSecretValueResponse,
  ListSecretsCommand,
  type SecretListEntry,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import {
  cleanRef,
  type NameCodec,
  nameCodec,
  namingRules,
  type Secret,
  type SecretRef,
  SecretValue,
  StrongboxError,
  type Tags,
  validateRef,
} from "@strongbox/core";
import { buildClient, errorName, REF_TAG, refFromTags, userTags, wrapError } from "./client.ts";
import { type ResolvedOptions, TYPE } from "./options.ts";

/** What the operations of one backend share: options, names, and the lazily built client. */
export interface Context {
  readonly options: ResolvedOptions;
  readonly codec: NameCodec;
  readonly raw: boolean;
  /** The SDK client, built on first use. */
  sdk(): SecretsManagerClient;
  /** Destroys the client if this backend built it. */
  release(): void;
  /** The AWS name of a ref; `INVALID_NAME` for a malformed ref. */
  nameOf(ref: SecretRef): string;
  /** The exact ref of a listed name: from its tags when they name it, else decoded from the name. */
  refOf(name: string, tags: SecretListEntry["Tags"]): SecretRef | undefined;
  /** Throws `INVALID_OPTIONS` for tags under a reserved prefix. */
  checkTags(tags: Tags, where: string): void;
}

/** Builds the shared context; validates the default tags and the prefix, makes no call. */
export function createContext(options: ResolvedOptions): Context {
  const codec = nameCodec(namingRules.aws, { prefix: options.prefix, mode: options.naming });
  const raw = options.naming === "raw";
  let client = options.client;
  const owned = client === undefined;
  const checkTags = (tags: Tags, where: string): void => {
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
  checkTags(options.tags, "tags");
  return {
    options,
    codec,
    raw,
    checkTags,
    sdk() {
      client ??= buildClient(options);
      return client;
    },
    release() {
      if (owned) client?.destroy();
      client = owned ? undefined : client;
    },
    nameOf(ref) {
      validateRef(ref);
      if (raw && (ref.tenant !== undefined || ref.namespace !== undefined))
        throw new StrongboxError("INVALID_NAME", "raw naming has no tenants or namespaces", {
          backend: TYPE,
          ref,
        });
      return codec.encode(ref);
    },
    refOf(name, tags) {
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
    },
  };
}

/** True for AWS's "no such secret (or version)". */
export const notFound = (error: unknown): boolean => errorName(error) === "ResourceNotFoundException";

/**
 * True for GetSecretValue's refusal of a secret scheduled for deletion: absent for its readers.
 * Told by AWS's message, for a caller that may not run DescribeSecret to check `DeletedDate`.
 */
export const scheduledForDeletion = (error: unknown): boolean =>
  errorName(error) === "InvalidRequestException" &&
  /marked for deletion|scheduled for deletion/i.test(String((error as { message?: unknown }).message ?? ""));

/** A secret from a value response alone (`readMetadata: false`): no tags, no description; the version's date as `updatedAt`. */
export function valueOnly(ref: SecretRef, value: GetSecretValueResponse): Secret {
  return {
    ref: cleanRef(ref),
    value: SecretValue.from(value.SecretBinary ?? value.SecretString ?? ""),
    tags: {},
    ...(value.VersionId === undefined ? {} : { version: value.VersionId }),
    ...(value.CreatedDate === undefined ? {} : { updatedAt: value.CreatedDate }),
  };
}

/** A secret from a value response and the secret's metadata (DescribeSecret or a ListSecrets entry). */
export function secretOf(
  ref: SecretRef,
  value: GetSecretValueResponse,
  meta: DescribeSecretResponse | SecretListEntry,
): Secret {
  return {
    ref: cleanRef(ref),
    value: SecretValue.from(value.SecretBinary ?? value.SecretString ?? ""),
    tags: userTags(meta.Tags),
    ...(value.VersionId === undefined ? {} : { version: value.VersionId }),
    ...(meta.Description === undefined ? {} : { description: meta.Description }),
    ...(meta.CreatedDate === undefined ? {} : { createdAt: meta.CreatedDate }),
    ...(meta.LastChangedDate === undefined ? {} : { updatedAt: meta.LastChangedDate }),
  };
}

/** DescribeSecret, `undefined` when there is no such secret. */
export async function describe(
  context: Context,
  name: string,
  ref: SecretRef,
  operation: string,
): Promise<DescribeSecretResponse | undefined> {
  try {
    return await context.sdk().send(new DescribeSecretCommand({ SecretId: name }));
  } catch (error) {
    if (notFound(error)) return undefined;
    throw wrapError(error, operation, ref);
  }
}

/** Every ListSecrets entry matching the filters, page after page. */
export async function* listSecrets(
  context: Context,
  Filters: Filter[],
  operation: string,
): AsyncGenerator<SecretListEntry> {
  let NextToken: string | undefined;
  do {
    const input = {
      MaxResults: 100,
      ...(Filters.length > 0 && { Filters }),
      ...(NextToken && { NextToken }),
    };
    const page = await context
      .sdk()
      .send(new ListSecretsCommand(input))
      .catch((error: unknown) => {
        throw wrapError(error, operation);
      });
    yield* page.SecretList ?? [];
    NextToken = page.NextToken;
  } while (NextToken !== undefined);
}
