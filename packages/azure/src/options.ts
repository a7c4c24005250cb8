import type { TokenCredential } from "@azure/identity";
import type { SecretClient } from "@azure/keyvault-secrets";
import { duration, type NamingMode, parseOptions, type Tags, tagsSchema, z } from "@strongbox/core";
import { RESERVED_TAG_PREFIX, TYPE } from "./client.ts";

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
  /** Most reads in flight at once in `getMany` (Key Vault has no batch read, and throttles bursts). @default 8 */
  concurrency?: number;
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
    concurrency: z.number().int().min(1).max(64).optional(),
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

/** The options after validation: durations in milliseconds. */
export type ResolvedOptions = Omit<
  AzureKeyVaultOptions,
  "retryDelay" | "maxRetryDelay" | "pollInterval" | "softDeleteTimeout"
> & { retryDelay?: number; maxRetryDelay?: number; pollInterval?: number; softDeleteTimeout?: number };

/** Validates options; a bad one fails with INVALID_OPTIONS naming `<path>.<field>`, never echoing a value. */
export function resolveOptions(input: unknown, path: string): ResolvedOptions {
  return parseOptions(schema, input, path, TYPE) as ResolvedOptions;
}
