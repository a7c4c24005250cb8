import type { Client } from "@elastic/elasticsearch";
import { duration, type EncryptionKey, parseOptions, type Tags, tagsSchema, z } from "@strongbox/core";

/** TLS settings for `https` nodes. */
export interface ElasticsearchTlsOptions {
  /** PEM certificate(s) of the authority that signed the cluster's certificate. @default Node's trusted roots */
  ca?: string | string[];
  /** PEM client certificate, for clusters that require one. @default undefined */
  cert?: string;
  /** PEM private key of the client certificate. @default undefined */
  key?: string;
  /** Verify the cluster's certificate. Turn off only for a local test cluster. @default true */
  rejectUnauthorized?: boolean;
}

/** Credentials: an API key, or a username and password. */
export type ElasticsearchAuth = { apiKey: string } | { username: string; password: string };

/** Options of {@link elasticsearch}. */
export interface ElasticsearchOptions {
  /** URL of a node, or of several. @default "http://localhost:9200" */
  node?: string | string[];
  /** Credentials; the API key is the base64 `id:api_key` that Kibana shows. @default undefined (anonymous) */
  auth?: ElasticsearchAuth;
  /** TLS settings for `https` nodes. @default Node's defaults */
  tls?: ElasticsearchTlsOptions;
  /** Index (or alias) that holds the secrets; created with its mapping when missing. @default "strongbox-secrets" */
  index?: string;
  /**
   * The encryption key: at least 32 characters (or base64 of 32 bytes). A list rotates
   * keys: the first encrypts, all decrypt. Entries may carry an id: `{ id, secret }`.
   */
  secret: string | readonly EncryptionKey[];
  /** Every secret this backend reads or writes carries it; other prefixes are invisible. @default undefined */
  prefix?: string;
  /** Merged into the tags of every secret written (tags given to `put` win). @default {} */
  tags?: Tags;
  /**
   * Refresh policy of writes: `"wait_for"` makes a write visible to the next `list`;
   * `false` is faster and `list` catches up within the index's refresh interval.
   * @default "wait_for"
   */
  refresh?: "wait_for" | boolean;
  /** Create the index when it does not exist (needs the `create_index` privilege). @default true */
  createIndex?: boolean;
  /** Documents fetched per `_search` call while listing. @default 100 */
  pageSize?: number;
  /** Retries on connection errors, 502/503/504 (by the client) and 429 (by the adapter). @default 3 */
  maxRetries?: number;
  /** Time allowed per request: milliseconds or a duration such as `"30s"`. @default "30s" */
  requestTimeout?: number | string;
  /** Delay before the first retry of a 429, doubled on each retry: milliseconds or a duration. @default "200ms" */
  retryDelay?: number | string;
  /** A configured client (the test seam); `node`, `auth`, `tls`, `maxRetries` and `requestTimeout` are then unused. */
  client?: Client;
}

/** The options once validated, with their defaults. */
export interface ResolvedOptions {
  node: string | string[];
  auth: ElasticsearchAuth | undefined;
  tls: ElasticsearchTlsOptions | undefined;
  index: string;
  keys: EncryptionKey[];
  prefix: string | undefined;
  tags: Tags;
  refresh: "wait_for" | boolean;
  createIndex: boolean;
  pageSize: number;
  maxRetries: number;
  requestTimeout: number;
  retryDelay: number;
  client: Client | undefined;
}

const secretKey = z.string().min(32);
const indexName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^(?![-_+])[^A-Z\\/*?"<>| ,#:]+$/, 'an index name: lowercase, no \\ / * ? " < > | , # : or space')
  .refine((name) => name !== "." && name !== "..", "an index name other than . and ..");

const schema = z
  .object({
    node: z.union([z.string().url(), z.array(z.string().url()).min(1)]).default("http://localhost:9200"),
    auth: z
      .union([
        z.object({ apiKey: z.string().min(1) }).strict(),
        z.object({ username: z.string().min(1), password: z.string() }).strict(),
      ])
      .optional(),
    tls: z
      .object({
        ca: z.union([z.string(), z.array(z.string())]).optional(),
        cert: z.string().optional(),
        key: z.string().optional(),
        rejectUnauthorized: z.boolean().optional(),
      })
      .strict()
      .optional(),
    index: indexName.default("strongbox-secrets"),
    secret: z.union([
      secretKey,
      z
        .array(z.union([secretKey, z.object({ id: z.string().optional(), secret: secretKey }).strict()]))
        .min(1),
    ]),
    prefix: z
      .string()
      .min(1)
      .refine((text) => text.isWellFormed(), "well-formed text")
      .optional(),
    tags: tagsSchema.default({}),
    refresh: z.union([z.literal("wait_for"), z.boolean()]).default("wait_for"),
    createIndex: z.boolean().default(true),
    pageSize: z.number().int().min(1).max(10_000).default(100),
    maxRetries: z.number().int().min(0).max(10).default(3),
    requestTimeout: duration.default(30_000),
    retryDelay: duration.default(200),
    // `naming` reaches every adapter from the configuration; refs are fields here, so only scoped applies.
    naming: z.literal("scoped").optional(),
    client: z
      .custom<Client>((value) => typeof value === "object" && value !== null, "an Elasticsearch Client")
      .optional(),
  })
  .strict();

/** Validates options; fails with `INVALID_OPTIONS` naming the field (`secret.elasticsearch.secret`). */
export function resolveOptions(input: unknown, path: string): ResolvedOptions {
  const parsed = parseOptions(schema, input, path, "elasticsearch");
  const keys: EncryptionKey[] = typeof parsed.secret === "string" ? [parsed.secret] : [...parsed.secret];
  return {
    node: parsed.node,
    auth: parsed.auth,
    tls: parsed.tls,
    index: parsed.index,
    keys,
    prefix: parsed.prefix,
    tags: parsed.tags,
    refresh: parsed.refresh,
    createIndex: parsed.createIndex,
    pageSize: parsed.pageSize,
    maxRetries: parsed.maxRetries,
    requestTimeout: parsed.requestTimeout,
    retryDelay: parsed.retryDelay,
    client: parsed.client,
  };
}
