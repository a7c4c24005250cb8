import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  duration,
  type NamingMode,
  parseOptions,
  StrongboxError,
  type Tags,
  tagsSchema,
  z,
} from "@strongbox/core";

/** The configuration `type` of this backend. */
export const TYPE = "aws-secret-manager";

/** Options of {@link awsSecretsManager}. */
export interface AwsSecretsManagerOptions {
  /** AWS region, e.g. `"eu-west-1"`. @default the SDK's default chain (`AWS_REGION`, the shared config file) */
  region?: string;
  /** Access key id; give it with `secretKeyId` (or `secretAccessKey`). @default the SDK's default credential chain */
  accessKeyId?: string;
  /** Secret access key (the name used by the platform's configuration). @default the SDK's default credential chain */
  secretKeyId?: string;
  /** Alias of `secretKeyId`, as the AWS SDK names it. @default undefined */
  secretAccessKey?: string;
  /** Session token of temporary credentials. @default undefined */
  sessionToken?: string;
  /** Endpoint URL to use instead of AWS's, e.g. `"http://localhost:4566"` for LocalStack. @default AWS's regional endpoint */
  endpointOverride?: string;
  /** Starts every secret name, so several applications share one account without seeing each other. @default undefined */
  prefix?: string;
  /** Tags merged into the tags of every secret created or updated. @default {} */
  tags?: Tags;
  /** `scoped`: names are made from tenant, namespace and key; `raw`: the key is the AWS name (after the prefix). @default "scoped" */
  naming?: NamingMode;
  /** Days a deleted secret can still be restored (7 to 30). @default 30 */
  recoveryWindowInDays?: number;
  /** Delete at once, without a recovery window. @default false */
  forceDelete?: boolean;
  /** Attempts per call, the first included, before a throttled or failing call gives `UNAVAILABLE`. @default 3 */
  maxAttempts?: number;
  /** Base of the exponential backoff between attempts (with full jitter), in ms or as text (`"100ms"`). @default 100 */
  retryBaseDelay?: number | string;
  /** Time allowed for one HTTP request, in ms or as text (`"10s"`). @default 30_000 */
  requestTimeout?: number | string;
  /**
   * `get` also reads the secret's tags, description and dates with DescribeSecret (sent beside
   * GetSecretValue). `false`: one GetSecretValue per read (half the calls, and only
   * `secretsmanager:GetSecretValue` needed), but `get` returns no tags and no description, so the
   * backend declares `tags` and `description` unsupported (read-only tag filters and the manager's
   * default tags are then refused at start-up). @default true
   */
  readMetadata?: boolean;
  /** A configured client; then region, credentials, endpoint and retry options must not be given. @default a client built from these options */
  client?: SecretsManagerClient;
}

/** The options once validated. */
export interface ResolvedOptions {
  region: string | undefined;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined;
  endpoint: string | undefined;
  prefix: string | undefined;
  tags: Tags;
  naming: NamingMode;
  recoveryWindowInDays: number;
  forceDelete: boolean;
  maxAttempts: number;
  retryBaseDelay: number;
  requestTimeout: number;
  readMetadata: boolean;
  client: SecretsManagerClient | undefined;
}

const schema = z
  .strictObject({
    region: z.string().min(1).optional(),
    accessKeyId: z.string().min(1).optional(),
    secretKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    endpointOverride: z.url().optional(),
    prefix: z.string().optional(),
    tags: tagsSchema.optional(),
    naming: z.enum(["scoped", "raw"]).optional(),
    recoveryWindowInDays: z.number().int().min(7).max(30).optional(),
    forceDelete: z.boolean().optional(),
    maxAttempts: z.number().int().min(1).max(20).optional(),
    retryBaseDelay: duration.optional(),
    requestTimeout: duration.optional(),
    readMetadata: z.boolean().optional(),
    client: z
      .custom<SecretsManagerClient>((value) => typeof (value as { send?: unknown })?.send === "function")
      .optional(),
  })
  .refine((o) => o.secretKeyId === undefined || o.secretAccessKey === undefined, {
    message: "give secretKeyId or secretAccessKey, not both",
    path: ["secretAccessKey"],
  })
  .refine((o) => (o.accessKeyId === undefined) === ((o.secretKeyId ?? o.secretAccessKey) === undefined), {
    message: "accessKeyId and secretKeyId go together",
    path: ["accessKeyId"],
  })
  .refine((o) => o.sessionToken === undefined || o.accessKeyId !== undefined, {
    message: "sessionToken needs accessKeyId and secretKeyId",
    path: ["sessionToken"],
  })
  .refine((o) => o.forceDelete !== true || o.recoveryWindowInDays === undefined, {
    message: "give forceDelete or recoveryWindowInDays, not both",
    path: ["forceDelete"],
  });

const CONNECTION = [
  "region",
  "accessKeyId",
  "secretKeyId",
  "secretAccessKey",
  "sessionToken",
  "endpointOverride",
  "maxAttempts",
  "retryBaseDelay",
  "requestTimeout",
] as const;

/** Validates the options; a failure is `INVALID_OPTIONS` with the path of the field, never its value. */
export function resolveOptions(input: unknown, path = "secret.aws-secret-manager"): ResolvedOptions {
  const o = parseOptions(schema, input ?? {}, path, TYPE);
  if (o.client !== undefined) {
    const extra = CONNECTION.filter((name) => o[name] !== undefined);
    if (extra.length > 0) {
      throw new StrongboxError(
        "INVALID_OPTIONS",
        `invalid options: ${path}.client: a configured client was given, so ${extra.join(", ")} cannot be applied`,
        { backend: TYPE },
      );
    }
  }
  const secretAccessKey = o.secretKeyId ?? o.secretAccessKey;
  return {
    region: o.region,
    credentials:
      o.accessKeyId === undefined || secretAccessKey === undefined
        ? undefined
        : {
            accessKeyId: o.accessKeyId,
            secretAccessKey,
            ...(o.sessionToken === undefined ? {} : { sessionToken: o.sessionToken }),
          },
    endpoint: o.endpointOverride,
    prefix: o.prefix === "" ? undefined : o.prefix,
    tags: o.tags ?? {},
    naming: o.naming ?? "scoped",
    recoveryWindowInDays: o.recoveryWindowInDays ?? 30,
    forceDelete: o.forceDelete ?? false,
    maxAttempts: o.maxAttempts ?? 3,
    retryBaseDelay: o.retryBaseDelay ?? 100,
    requestTimeout: o.requestTimeout ?? 30_000,
    readMetadata: o.readMetadata ?? true,
    client: o.client,
  };
}
