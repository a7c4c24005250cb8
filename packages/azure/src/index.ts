import type { TokenCredential } from "@azure/identity";
import type { KeyVaultSecret, SecretClient } from "@azure/keyvault-secrets";
import {
  type BackendFromConfig,
  type Capabilities,
  cleanRef,
  duration,
  matchesScope,
  matchesTags,
  type NamingMode,
  nameCodec,
  namingRules,
  parseOptions,
  type Secret,
  type SecretBackend,
  type SecretEntry,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
  StrongboxError,
  type Tags,
  tagsSchema,
  z,
} from "@strongbox/core";
import {
  buildClient,
  isBinary,
  isNotFound,
  MAX_TAGS,
  RESERVED_TAG_PREFIX,
  refFromTags,
  sleep,
  statusOf,
  TYPE,
  tagsToWrite,
  toStrongboxError,
  userTags,
} from "./client.ts";

/** Options of {@link azureKeyVault}. Give one of `vaultName`, `keyVaultUri` or `client`. */
export interface AzureKeyVaultOptions {
  /** Name of the vault; its URL is `https://<vaultName>.vault.azure.net`. @default undefined */
  vaultName?: string;
  /** URL of the vault, e.g. `https://my-vault.vault.azure.net` (sovereign clouds, emulators). @default undefined */
  keyVaultUri?: string;
  /** Directory (tenant) id of a service principal; with `clientId` and `clientSecret`. @default undefined */
  tenantId?: string;
  /** Application (client) id of a service principal. @default undefined */
  clientId?: string;
  /** Client secret of the service principal. @default undefined */
  clientSecret?: string;
  /** Any `TokenCredential` (managed identity, workload identity, a test stub). @default DefaultAzureCredential, or a ClientSecretCredential when tenantId, clientId and clientSecret are given */
  credential?: TokenCredential;
  /** A configured `SecretClient`; its own retry options then apply. @default one built from the options above */
  client?: SecretClient;
  /** Starts every secret name (letters, digits, dashes). @default undefined */
  prefix?: string;
  /** Tags merged into every secret written; tags given to `put` win. @default {} */
  tags?: Tags;
  /** `scoped`: names made by Strongbox from tenant, namespace and key; `raw`: the key is the Key Vault name. @default "scoped" */
  naming?: NamingMode;
  /** After a delete, purge the soft-deleted secret so its name and versions are gone at once (needs the purge permission). @default false */
  purgeOnDelete?: boolean;
  /** What a `put` onto a soft-deleted name does: recover it (its old versions come back) or purge it first. @default "recover" */
  onSoftDeleted?: "recover" | "purge";
  /** Retries of a request that was throttled (429), failed with 5xx or lost its connection. @default 3 */
  retries?: number;
  /** First delay between retries (ms or text such as "800ms"); it doubles each time. @default 800 */
  retryDelay?: number | string;
  /** Longest delay between retries, also the cap on a server's Retry-After. @default 10000 */
  maxRetryDelay?: number | string;
  /** Interval between checks while a deletion, recovery or purge completes. @default 1000 */
  pollInterval?: number | string;
  /** How long to wait for a deletion, recovery or purge to complete before failing with UNAVAILABLE. @default 60000 */
  softDeleteTimeout?: number | string;
  /** PEM certificate(s) to trust instead of Node's defaults, for an emulator or a TLS-intercepting proxy. @default undefined (Node's trusted CAs) */
  ca?: string;
  /** Test only: allow an `http://` vault URL (an emulator on localhost). @default false */
  allowInsecureConnection?: boolean;
  /** Test only: accept a 401 challenge whose resource is not the vault's domain. @default false */
  disableChallengeResourceVerification?: boolean;
}

const objectWith = (method: string) =>
  z.custom<object>((value) => typeof value === "object" && value !== null && method in value, {
    message: `expected an object with ${method}()`,
  });

const schema = z
  .object({
    vaultName: z
      .string()
      .regex(/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/, "expected 3-24 letters, digits or dashes")
      .optional(),
    keyVaultUri: z.url({ protocol: /^https?$/ }).optional(),
    tenantId: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    credential: objectWith("getToken").optional(),
    client: objectWith("getSecret").optional(),
    prefix: z.string().min(1).optional(),
    tags: tagsSchema.optional(),
    naming: z.enum(["scoped", "raw"]).optional(),
    purgeOnDelete: z.boolean().optional(),
    onSoftDeleted: z.enum(["recover", "purge"]).optional(),
    retries: z.number().int().min(0).max(10).optional(),
    retryDelay: duration.optional(),
    maxRetryDelay: duration.optional(),
    pollInterval: duration.optional(),
    softDeleteTimeout: duration.optional(),
    ca: z.string().min(1).optional(),
    allowInsecureConnection: z.boolean().optional(),
    disableChallengeResourceVerification: z.boolean().optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    const targets = [options.vaultName, options.keyVaultUri, options.client].filter((v) => v !== undefined);
    if (targets.length !== 1) {
      ctx.addIssue({
        code: "custom",
        path: ["vaultName"],
        message: "give exactly one of vaultName, keyVaultUri or client",
      });
    }
    const principal = [options.tenantId, options.clientId, options.clientSecret].filter(
      (v) => v !== undefined,
    );
    if (principal.length !== 0 && principal.length !== 3) {
      ctx.addIssue({
        code: "custom",
        path: ["clientSecret"],
        message: "tenantId, clientId and clientSecret go together",
      });
    }
    if (principal.length === 3 && options.credential !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["credential"],
        message: "give a credential or a client secret, not both",
      });
    }
    for (const name of Object.keys(options.tags ?? {})) {
      if (name.startsWith(RESERVED_TAG_PREFIX)) {
        ctx.addIssue({
          code: "custom",
          path: ["tags", name],
          message: `tag names starting with ${RESERVED_TAG_PREFIX} are reserved`,
        });
      }
    }
  });

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
  const parsed = parseOptions(schema, options, "", TYPE);
  const codec = nameCodec(namingRules.azure, {
    ...(parsed.prefix !== undefined && { prefix: parsed.prefix }),
    mode: parsed.naming ?? "scoped",
  });
  const defaultTags = parsed.tags ?? {};
  const pollMs = parsed.pollInterval ?? 1000;
  const timeoutMs = parsed.softDeleteTimeout ?? 60_000;
  const onSoftDeleted = parsed.onSoftDeleted ?? "recover";
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

  /** Polls until `done` holds or the soft-delete timeout passes. */
  async function waitUntil(operation: string, ref: SecretRef, what: string, done: () => Promise<boolean>) {
    const deadline = Date.now() + timeoutMs;
    while (!(await done())) {
      if (Date.now() > deadline) {
        throw new StrongboxError("UNAVAILABLE", `${what} did not complete within ${timeoutMs} ms`, {
          backend: TYPE,
          operation,
          ref: cleanRef(ref),
        });
      }
      await sleep(pollMs);
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

  /** Purges a soft-deleted name, waiting while it is still "being deleted"; true when there was something to purge. */
  async function purge(operation: string, ref: SecretRef, name: string): Promise<void> {
    await waitUntil(operation, ref, "the purge", async () => {
      try {
        await sdk().purgeDeletedSecret(name);
        return true;
      } catch (error) {
        if (isNotFound(error)) return true;
        if (statusOf(error).status === 409) return false;
        throw toStrongboxError(error, operation, ref, secretsOfOptions);
      }
    });
  }

  /** Makes a soft-deleted name writable again (recover or purge), then writes; a name still being deleted is waited for. */
  async function reclaim(
    ref: SecretRef,
    name: string,
    write: () => Promise<KeyVaultSecret>,
  ): Promise<KeyVaultSecret> {
    let written: KeyVaultSecret | undefined;
    await waitUntil("put", ref, "the soft-deleted secret's recovery", async () => {
      const deleted = await call("put", ref, (c) => c.getDeletedSecret(name));
      if (deleted !== undefined && onSoftDeleted === "purge") await purge("put", ref, name);
      else if (deleted !== undefined) {
        const poller = await call("put", ref, (c) =>
          c.beginRecoverDeletedSecret(name, { intervalInMs: pollMs }),
        );
        if (poller !== undefined) {
          await waitUntil("put", ref, "the recovery", async () => {
            if (poller.isDone()) return true;
            await call("put", ref, () => poller.poll());
            return poller.isDone();
          });
        }
      }
      try {
        written = await write();
        return true;
      } catch (error) {
        if (statusOf(error).status === 409) return false;
        throw error;
      }
    });
    return written as KeyVaultSecret;
  }

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

    async *list(query = {}): AsyncIterable<SecretEntry> {
      const start = codec.listPrefix(query).toLowerCase();
      try {
        for await (const properties of sdk().listPropertiesOfSecrets()) {
          const name = properties.name;
          if (!name.toLowerCase().startsWith(start)) continue;
          const tagged = codec.mode === "scoped" ? refFromTags(properties.tags) : undefined;
          // A ref tag copied onto another secret does not name it: only trust one that encodes to this name.
          const ref =
            tagged !== undefined && codec.encode(tagged).toLowerCase() === name.toLowerCase()
              ? tagged
              : codec.decode(name);
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
          secret = await reclaim(ref, name, write);
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
      await waitUntil("delete", ref, "the deletion", async () => {
        if (poller.isDone()) return true;
        await call("delete", ref, () => poller.poll());
        return poller.isDone();
      });
      if (parsed.purgeOnDelete) await purge("delete", ref, name);
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
  const parsed = parseOptions(schema, withPrefix, context.path, TYPE);
  return azureKeyVault(parsed as AzureKeyVaultOptions);
};
