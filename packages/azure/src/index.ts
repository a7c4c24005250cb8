import type { KeyVaultSecret, SecretClient } from "@azure/keyvault-secrets";
import {
  type BackendFromConfig,
  type Capabilities,
  cleanRef,
  matchesScope,
  matchesTags,
  nameCodec,
  namingRules,
  refId,
  type Secret,
  type SecretBackend,
  type SecretEntry,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
  StrongboxError,
} from "@strongbox/core";
import {
  buildClient,
  isBinary,
  isNotFound,
  MAX_TAGS,
  RESERVED_TAG_PREFIX,
  refFromTags,
  statusOf,
  TYPE,
  tagsToWrite,
  toStrongboxError,
  userTags,
} from "./client.ts";
import { type AzureKeyVaultOptions, resolveOptions } from "./options.ts";
import { softDeleteSteps } from "./soft-delete.ts";

export type { AzureKeyVaultOptions } from "./options.ts";

const capabilities: Capabilities = {
  tags: true,
  tagFilter: "client",
  versions: true,
  binary: true,
  description: true,
  checkAndSet: false,
  maxValueBytes: 25_000,
};

/**
 * Azure Key Vault secrets (`type: azure-key-vault`). Names come from the core
 * codec with Key Vault's alphabet; the exact ref is kept in the secret's tags;
 * the description is the secret's content type; deletes wait for the soft
 * delete to be recorded, and a put onto a soft-deleted name recovers (or purges) it.
 *
 * @example
 * const backend = azureKeyVault({ vaultName: "billing-prod", prefix: "billing" });
 * await backend.put?.({ namespace: "payments", key: "STRIPE_KEY" }, "sk_live_...");
 */
export function azureKeyVault(options: AzureKeyVaultOptions): SecretBackend {
  const parsed = resolveOptions(options, "");
  const codec = nameCodec(namingRules.azure, {
    ...(parsed.prefix !== undefined && { prefix: parsed.prefix }),
    mode: parsed.naming ?? "scoped",
  });
  const defaultTags = parsed.tags ?? {};
  const pollMs = parsed.pollInterval ?? 1000;
  const timeoutMs = parsed.softDeleteTimeout ?? 60_000;
  const onSoftDeleted = parsed.onSoftDeleted ?? "recover";
  const concurrency = parsed.concurrency ?? 8;
  const secretsOfOptions = parsed.clientSecret === undefined ? [] : [parsed.clientSecret];
  let client = options.client;
  const sdk = (): SecretClient => {
    client ??= buildClient({
      vaultUrl: parsed.keyVaultUri ?? `https://${parsed.vaultName}.vault.azure.net`,
      credential: options.credential,
      tenantId: parsed.tenantId,
      clientId: parsed.clientId,
      clientSecret: parsed.clientSecret,
      retries: parsed.retries ?? 3,
      retryDelayMs: parsed.retryDelay ?? 800,
      maxRetryDelayMs: parsed.maxRetryDelay ?? 10_000,
      allowInsecureConnection: parsed.allowInsecureConnection ?? false,
      disableChallengeResourceVerification: parsed.disableChallengeResourceVerification ?? false,
      ca: parsed.ca,
    });
    return client;
  };

  /** Runs one SDK call; absent (SecretNotFound) is `undefined`, every other failure a StrongboxError. */
  async function call<T>(
    operation: string,
    ref: SecretRef | undefined,
    run: (sdk: SecretClient) => Promise<T>,
    secrets: readonly string[] = [],
  ): Promise<T | undefined> {
    try {
      return await run(sdk());
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toStrongboxError(error, operation, ref, [...secretsOfOptions, ...secrets]);
    }
  }

  const metadataOf = (secret: KeyVaultSecret): SecretMetadata => {
    const { properties } = secret;
    return {
      tags: userTags(properties.tags),
      ...(properties.contentType !== undefined && { description: properties.contentType }),
      ...(properties.version !== undefined && { version: properties.version }),
      ...(properties.createdOn !== undefined && { createdAt: properties.createdOn }),
      ...(properties.updatedOn !== undefined && { updatedAt: properties.updatedOn }),
    };
  };

  /** True when a ref read from tags encodes to this name; a tag that names no legal ref names nothing. */
  const namesThis = (ref: SecretRef, name: string): boolean => {
    try {
      return codec.encode(ref).toLowerCase() === name.toLowerCase();
    } catch (error) {
      if (error instanceof StrongboxError) return false;
      throw error;
    }
  };

  const steps = softDeleteSteps({ sdk, call, pollMs, timeoutMs, onSoftDeleted, secrets: secretsOfOptions });

  const backend: SecretBackend = {
    type: TYPE,
    capabilities,

    async get(ref, getOptions = {}): Promise<Secret | undefined> {
      const name = codec.encode(ref);
      const found = await call("get", ref, (c) =>
        c.getSecret(name, getOptions.version === undefined ? {} : { version: getOptions.version }),
      );
      if (found === undefined) return undefined;
      const text = found.value ?? "";
      const value = isBinary(found)
        ? SecretValue.from(new Uint8Array(Buffer.from(text, "base64")))
        : SecretValue.from(text);
      return { ref: cleanRef(ref), value, ...metadataOf(found) };
    },

    async getMany(refs): Promise<Map<string, Secret>> {
      const found = new Map<string, Secret>();
      const queue = [...new Map(refs.map((ref) => [refId(ref), ref])).values()];
      const worker = async (): Promise<void> => {
        for (let ref = queue.shift(); ref !== undefined; ref = queue.shift()) {
          const secret = await backend.get(ref);
          if (secret !== undefined) found.set(refId(ref), secret);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, worker));
      return found;
    },

    async *list(query = {}): AsyncIterable<SecretEntry> {
      const start = codec.listPrefix(query).toLowerCase();
      try {
        for await (const properties of sdk().listPropertiesOfSecrets()) {
          const name = properties.name;
          if (!name.toLowerCase().startsWith(start)) continue;
          const tagged = codec.mode === "scoped" ? refFromTags(properties.tags) : undefined;
          // A ref tag copied onto another secret does not name it: only trust one that encodes to this name.
          const ref = tagged !== undefined && namesThis(tagged, name) ? tagged : codec.decode(name);
          if (ref === undefined || !matchesScope(ref, query)) continue;
          const tags = userTags(properties.tags);
          if (!matchesTags(tags, query.tags)) continue;
          yield {
            ref,
            tags,
            ...(properties.contentType !== undefined && { description: properties.contentType }),
            ...(properties.version !== undefined && { version: properties.version }),
            ...(properties.createdOn !== undefined && { createdAt: properties.createdOn }),
            ...(properties.updatedOn !== undefined && { updatedAt: properties.updatedOn }),
          };
        }
      } catch (error) {
        throw toStrongboxError(error, "list", undefined, secretsOfOptions);
      }
    },

    async put(ref, input, putOptions = {}): Promise<SecretMetadata> {
      const name = codec.encode(ref);
      if (putOptions.expectedVersion !== undefined) {
        throw new StrongboxError("UNSUPPORTED", "Key Vault has no check-and-set (expectedVersion)", {
          backend: TYPE,
          operation: "put",
          ref: cleanRef(ref),
        });
      }
      const value = SecretValue.from(input);
      const text = value.isBinary ? Buffer.from(value.bytes()).toString("base64") : value.reveal();
      let { tags, description } = putOptions;
      if (tags === undefined || description === undefined) {
        // Key Vault keeps tags and content type per version: carry the current ones over unless replaced.
        const previous = await call("put", ref, (c) => c.getSecret(name), [text]);
        tags ??= previous && userTags(previous.properties.tags);
        description ??= previous?.properties.contentType;
      }
      const merged = { ...defaultTags, ...tags };
      const invalid = (message: string) =>
        new StrongboxError("INVALID_OPTIONS", message, {
          backend: TYPE,
          operation: "put",
          ref: cleanRef(ref),
        });
      const reserved = Object.keys(merged).find((tag) => tag.startsWith(RESERVED_TAG_PREFIX));
      if (reserved !== undefined)
        throw invalid(`tag "${reserved}" is reserved (prefix ${RESERVED_TAG_PREFIX})`);
      const written = tagsToWrite(ref, merged, value.isBinary);
      if (Object.keys(written).length > MAX_TAGS) {
        throw invalid(
          `Key Vault keeps ${MAX_TAGS} tags; ${Object.keys(written).length - Object.keys(merged).length} are taken by the ref and encoding, ${Object.keys(merged).length} were given`,
        );
      }
      if (description !== undefined && description.length > 255) {
        throw invalid("the description is Key Vault's content type: at most 255 characters");
      }
      const write = () =>
        sdk().setSecret(name, text, {
          tags: written,
          ...(description !== undefined && { contentType: description }),
        });
      try {
        let secret: KeyVaultSecret;
        try {
          secret = await write();
        } catch (error) {
          if (statusOf(error).status !== 409) throw error;
          secret = await steps.reclaim(ref, name, write);
        }
        return metadataOf(secret);
      } catch (error) {
        throw toStrongboxError(error, "put", ref, [...secretsOfOptions, text]);
      }
    },

    async delete(ref): Promise<boolean> {
      const name = codec.encode(ref);
      const poller = await call("delete", ref, (c) => c.beginDeleteSecret(name, { intervalInMs: pollMs }));
      if (poller === undefined) return false;
      await steps.settle("delete", ref, "the deletion", poller);
      if (parsed.purgeOnDelete) await steps.purge("delete", ref, name);
      return true;
    },
  };
  return backend;
}

/** Builds the backend from its configuration block (`secret.azure-key-vault`, camelCase keys). */
export const fromConfig: BackendFromConfig = (options, context) => {
  const withPrefix =
    options.prefix === undefined && context.prefix !== undefined
      ? { ...options, prefix: context.prefix }
      : options;
  return azureKeyVault(resolveOptions(withPrefix, context.path) as AzureKeyVaultOptions);
};
