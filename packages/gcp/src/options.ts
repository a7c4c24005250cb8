import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
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
export const TYPE = "google-secret-manager";

/** Options of {@link googleSecretManager}. */
export interface GoogleSecretManagerOptions {
  /**
   * Google Cloud project id (or number) that holds the secrets.
   * @default the `project_id` of `serviceAccount`, else the project the SDK detects (credentials, `GOOGLE_CLOUD_PROJECT`, metadata server)
   */
  project?: string;
  /**
   * A service account JSON key, as a string. Without it, `GOOGLE_APPLICATION_CREDENTIALS`
   * or the application default credentials are used.
   * @default undefined
   */
  serviceAccount?: string;
  /**
   * Where the API is: `host[:port]` (TLS, with credentials), or `http://host:port` for an
   * emulator (plain-text gRPC, no credentials sent).
   * @default "secretmanager.googleapis.com"
   */
  endpoint?: string;
  /** Starts every secret id (`[A-Za-z0-9_-]`), so several applications share one project. @default undefined */
  prefix?: string;
  /** `scoped`: Strongbox owns the names; `raw`: the key is the secret id as it is (after the prefix). @default "scoped" */
  naming?: NamingMode;
  /** Tags merged into the tags of every secret written; tags given to `put` win. @default {} */
  tags?: Tags;
  /**
   * Whether `get` also reads the secret's metadata (tags, description, creation time) with
   * `GetSecret`, which needs `secretmanager.secrets.get`. Set `false` to read with
   * `roles/secretmanager.secretAccessor` alone: `get` then makes one `AccessSecretVersion`
   * call and returns no tags or description (and the backend declares no tags).
   * @default true
   */
  readMetadata?: boolean;
  /** Retries of a call answered UNAVAILABLE or RESOURCE_EXHAUSTED (or a dropped connection). @default 3 */
  retries?: number;
  /** First delay between retries (ms or `"100ms"`), doubled each time, with jitter. @default "100ms" */
  retryDelay?: number | string;
  /** Deadline of each call (ms or `"30s"`). @default "30s" */
  timeout?: number | string;
  /** A configured SDK client, used as it is (and not closed by `close()`); the test seam. @default undefined */
  client?: SecretManagerServiceClient;
}

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  project: string | undefined;
  serviceAccount: { client_email: string; private_key: string; project_id?: string } | undefined;
  endpoint: string | undefined;
  prefix: string | undefined;
  naming: NamingMode;
  tags: Tags;
  readMetadata: boolean;
  retries: number;
  retryDelay: number;
  timeout: number;
  client: SecretManagerServiceClient | undefined;
}

const schema = z
  .object({
    project: z
      .string()
      .regex(/^[^/\s]+$/)
      .optional(),
    serviceAccount: z.string().min(1).optional(),
    endpoint: z.string().min(1).optional(),
    prefix: z.string().min(1).optional(),
    naming: z.enum(["scoped", "raw"]).default("scoped"),
    tags: tagsSchema.default({}),
    readMetadata: z.boolean().default(true),
    retries: z.number().int().min(0).max(10).default(3),
    retryDelay: duration.default(100),
    timeout: duration.default(30_000),
    client: z
      .custom<SecretManagerServiceClient>(
        (value) => typeof value === "object" && value !== null && "accessSecretVersion" in value,
        { message: "expected a SecretManagerServiceClient" },
      )
      .optional(),
  })
  .strict();

/** Validates the options; a bad field fails with `INVALID_OPTIONS` and its path, never its value. */
export function resolveOptions(input: unknown, path: string): ResolvedOptions {
  const parsed = parseOptions(schema, input ?? {}, path, TYPE);
  if (parsed.endpoint?.startsWith("http://") && parsed.project === undefined && parsed.client === undefined) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `invalid options: ${path}.project: required with a plain-text (emulator) endpoint, which has no credentials to find it in`,
      { backend: TYPE },
    );
  }
  return {
    ...parsed,
    project: parsed.project,
    endpoint: parsed.endpoint,
    prefix: parsed.prefix,
    client: parsed.client,
    serviceAccount: parsed.serviceAccount === undefined ? undefined : parseKey(parsed.serviceAccount, path),
  };
}

function parseKey(text: string, path: string): ResolvedOptions["serviceAccount"] {
  let key: unknown;
  try {
    key = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, which holds a private key: never pass it on.
    key = undefined;
  }
  const record = (typeof key === "object" && key !== null ? key : {}) as Record<string, unknown>;
  if (typeof record.client_email !== "string" || typeof record.private_key !== "string") {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `invalid options: ${path}.serviceAccount: expected a service account JSON key (with client_email and private_key)`,
      { backend: TYPE },
    );
  }
  return {
    client_email: record.client_email,
    private_key: record.private_key,
    ...(typeof record.project_id === "string" && { project_id: record.project_id }),
  };
}
