import { duration, type NamingMode, type Tags, tagsSchema, z } from "@strongbox/core";
import type { NodeVaultClient } from "./client.ts";

/** Options of {@link vault}. Exactly one way to authenticate: `token`, `userPass`, `appRole` or `kubernetes`. */
export interface VaultOptions {
  /** Address of the Vault server. @default process.env.VAULT_ADDR ?? "http://127.0.0.1:8200" */
  address?: string;
  /** Vault Enterprise namespace (`X-Vault-Namespace`), e.g. `team-a`. @default process.env.VAULT_NAMESPACE (none) */
  namespace?: string;
  /** Mount path of the KV secrets engine. @default "secret" */
  rootEngine?: string;
  /** KV engine version of the mount. @default 2 */
  engineVersion?: 1 | 2;
  /** A Vault token. @default process.env.VAULT_TOKEN, when no other method is given */
  token?: string;
  /** userpass login: `POST auth/<mountPath>/login/<username>`. @default undefined */
  userPass?: { username: string; password: string /** @default "userpass" */; mountPath?: string };
  /** AppRole login: `POST auth/<mountPath>/login`. @default undefined */
  appRole?: { roleId: string; secretId: string /** @default "approle" */; mountPath?: string };
  /** Kubernetes login with the pod's service-account token. @default undefined */
  kubernetes?: {
    role: string;
    /** @default "kubernetes" */
    mountPath?: string;
    /** File holding the service-account JWT, read at each login. @default "/var/run/secrets/kubernetes.io/serviceaccount/token" */
    tokenPath?: string;
  };
  /** Starts every path (a folder in the mount). @default undefined */
  prefix?: string;
  /** `scoped`: Strongbox owns the paths; `raw`: the key is the path (after the prefix). @default "scoped" */
  naming?: NamingMode;
  /** Field of the KV data that holds the value. @default "value" */
  field?: string;
  /** KV v2: `delete` soft-deletes the latest version (undeletable) instead of removing every version. @default false */
  softDelete?: boolean;
  /**
   * Renew the token before its lease runs out (a static token's TTL is read with
   * lookup-self first). When false, nothing is renewed and login methods log in
   * again instead. @default true
   */
  renewToken?: boolean;
  /** Retries of a 412, 429, 5xx or dropped connection before `UNAVAILABLE`. @default 3 */
  maxRetries?: number;
  /** First retry delay (ms or `"200ms"`); it doubles on each retry. @default 200 */
  retryDelay?: number | string;
  /** Timeout of each request (ms or `"30s"`). @default 30000 */
  timeout?: number | string;
  /** A node-vault client (or any object with its `request` method and `token`) to use instead of building one. @default undefined */
  client?: NodeVaultClient;
}

const mountPath = z.string().min(1).optional();

const shape = {
  address: z.url().optional(),
  namespace: z.string().min(1).optional(),
  rootEngine: z.string().min(1).optional(),
  engineVersion: z
    .union([z.literal(1), z.literal(2), z.enum(["1", "2"])])
    .transform((value) => Number(value) as 1 | 2)
    .optional(),
  token: z.string().min(1).optional(),
  userPass: z
    .strictObject({ username: z.string().min(1), password: z.string().min(1), mountPath })
    .optional(),
  appRole: z.strictObject({ roleId: z.string().min(1), secretId: z.string().min(1), mountPath }).optional(),
  kubernetes: z
    .strictObject({ role: z.string().min(1), mountPath, tokenPath: z.string().min(1).optional() })
    .optional(),
  prefix: z.string().min(1).optional(),
  naming: z.enum(["scoped", "raw"]).optional(),
  field: z
    .string()
    .min(1)
    .refine((text) => !text.startsWith("strongbox-"), "the prefix strongbox- is reserved")
    .optional(),
  softDelete: z.boolean().optional(),
  renewToken: z.boolean().optional(),
  maxRetries: z.number().int().min(0).max(10).optional(),
  retryDelay: duration.optional(),
  timeout: duration.optional(),
  client: z
    .custom<NodeVaultClient>(
      (value) =>
        typeof value === "object" && value !== null && typeof Reflect.get(value, "request") === "function",
      "expected a node-vault client",
    )
    .optional(),
};

const oneLogin = (options: Partial<Record<"token" | "userPass" | "appRole" | "kubernetes", unknown>>) =>
  [options.token, options.userPass, options.appRole, options.kubernetes].filter(Boolean).length <= 1;
const oneLoginMessage = { message: "give one of token, user-pass, app-role, kubernetes" };

/** The schema of {@link VaultOptions}. */
export const vaultOptionsSchema: z.ZodType<VaultOptions> = z
  .strictObject(shape)
  .refine(oneLogin, oneLoginMessage) as unknown as z.ZodType<VaultOptions>;

/**
 * The schema of the configuration block (camelCase keys): the options, plus the
 * block's default `tags`, which the manager merges into every write.
 */
export const vaultConfigSchema: z.ZodType<VaultOptions & { tags?: Tags }> = z
  .strictObject({ ...shape, tags: tagsSchema.optional() })
  .refine(oneLogin, oneLoginMessage) as unknown as z.ZodType<VaultOptions & { tags?: Tags }>;
