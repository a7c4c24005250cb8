import {
  type Capabilities,
  cleanRef,
  duration,
  matchesScope,
  nameCodec,
  namingRules,
  parseOptions,
  refId,
  type Secret,
  type SecretBackend,
  type SecretEntry,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
  StrongboxError,
  z,
} from "@strongbox/core";
import { type DopplerApi, type DopplerSecret, dopplerApi } from "./client.ts";

/** Options of {@link doppler}. */
export interface DopplerOptions {
  /** A service token (`dp.st.…`, bound to one config) or a personal or service-account token. */
  token: string;
  /** The project; may be left out with a service token, which names its own. @default the token's */
  project?: string;
  /** The config (environment branch) in the project; may be left out with a service token. @default the token's */
  config?: string;
  /**
   * Starts every secret name this backend reads or writes (uppercase letters, digits,
   * underscores; not starting with a digit). `prefix` is accepted as another spelling.
   * @default undefined
   */
  secretNamePrefix?: string;
  /** Same as `secretNamePrefix` (the configuration's shared `prefix`). @default undefined */
  prefix?: string;
  /** `scoped`: names are made from refs by the codec; `raw`: the key is the Doppler name. @default "scoped" */
  naming?: "scoped" | "raw";
  /**
   * Longest name the codec writes; a longer one is cut and ends with a hash, which
   * `get`, `put` and `delete` handle but `list` cannot decode, so it skips it.
   * Raise it only if your Doppler accepts longer names. @default 256
   */
  maxNameLength?: number;
  /** Drop tags given to `put` instead of failing (Doppler keeps no tags). @default false */
  ignoreTags?: boolean;
  /** Base URL of the API. @default "https://api.doppler.com" */
  baseUrl?: string;
  /** Retries of 429, 5xx and network failures before `UNAVAILABLE`. @default 3 */
  maxRetries?: number;
  /** Delay before the first retry (doubled each time) when Doppler sends no `Retry-After`. @default "250ms" */
  retryDelay?: number | string;
  /** Time allowed per request: milliseconds or a duration. @default "30s" */
  timeout?: number | string;
  /** The `fetch` to use (a test seam, or a proxy-aware fetch). @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
}

const TYPE = "doppler";
const legalPrefix = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "uppercase letters, digits and underscores");

const schema = z
  .object({
    token: z.string().min(1),
    project: z.string().min(1).optional(),
    config: z.string().min(1).optional(),
    secretNamePrefix: legalPrefix.optional(),
    prefix: legalPrefix.optional(),
    naming: z.enum(["scoped", "raw"]).default("scoped"),
    maxNameLength: z.number().int().min(32).max(4096).default(namingRules.doppler.maxLength),
    ignoreTags: z.boolean().default(false),
    baseUrl: z.url().default("https://api.doppler.com"),
    maxRetries: z.number().int().min(0).max(10).default(3),
    retryDelay: duration.default(250),
    timeout: duration.default(30_000),
    fetch: z
      .custom<typeof globalThis.fetch>((value) => typeof value === "function", "a fetch function")
      .optional(),
  })
  .strict()
  .refine((options) => (options.project === undefined) === (options.config === undefined), {
    message: "give both project and config, or neither (a service token names its own)",
    path: ["config"],
  })
  .refine(
    (options) =>
      options.prefix === undefined ||
      options.secretNamePrefix === undefined ||
      options.prefix === options.secretNamePrefix,
    { message: "prefix and secretNamePrefix differ; give one", path: ["secretNamePrefix"] },
  );

const capabilities: Capabilities = {
  tags: false,
  tagFilter: "none",
  versions: false,
  binary: false,
  description: true,
  checkAndSet: false,
};

function secretOf(ref: SecretRef, found: DopplerSecret): Secret {
  return {
    ref: cleanRef(ref),
    value: SecretValue.from(found.raw),
    tags: {},
    ...(found.note !== undefined && { description: found.note }),
  };
}

/**
 * Doppler as a secret store (`type: doppler`), through the API v3. Names are made
 * from refs by the core codec with Doppler's rules (`[A-Z_][A-Z0-9_]*`), reversibly,
 * so `list` decodes them back to exact refs. The description is the secret's note.
 * Doppler keeps no tags: a `put` with tags fails with `UNSUPPORTED` unless `ignoreTags`.
 *
 * @example
 * const backend = doppler({ token: process.env.DOPPLER_TOKEN!, project: "billing", config: "prd" });
 * await backend.put({ namespace: "db", key: "password" }, "hunter2", { description: "primary" });
 */
export function doppler(options: DopplerOptions): SecretBackend {
  return createBackend(options, TYPE);
}

/** Validates options (errors name `path`) and builds the backend. */
export function createBackend(input: unknown, path: string): SecretBackend {
  const options = parseOptions(schema, input, path, TYPE);
  const prefix = options.secretNamePrefix ?? options.prefix;
  const codec = nameCodec(
    { ...namingRules.doppler, maxLength: options.maxNameLength },
    {
      mode: options.naming,
      ...(prefix !== undefined && { prefix }),
    },
  );
  let api: DopplerApi | undefined;
  const client = (): DopplerApi =>
    (api ??= dopplerApi({
      token: options.token,
      project: options.project,
      config: options.config,
      baseUrl: options.baseUrl,
      maxRetries: options.maxRetries,
      retryDelay: options.retryDelay,
      timeout: options.timeout,
      fetch: options.fetch ?? globalThis.fetch,
    }));
  const unsupported = (operation: string, message: string, ref?: SecretRef) =>
    new StrongboxError("UNSUPPORTED", message, {
      backend: TYPE,
      operation,
      ...(ref !== undefined && { ref }),
    });

  return {
    type: TYPE,
    capabilities,

    async get(ref, getOptions = {}) {
      const name = codec.encode(ref);
      if (getOptions.version !== undefined) {
        throw unsupported("get", "Doppler keeps no per-secret versions: it cannot read one", ref);
      }
      const found = await client().getSecret(name, ref);
      return found === undefined ? undefined : secretOf(ref, found);
    },

    async getMany(refs) {
      const names = refs.map((ref) => codec.encode(ref));
      const found = await client().getSecrets(names);
      const out = new Map<string, Secret>();
      for (const [i, ref] of refs.entries()) {
        const secret = found.get(names[i] as string);
        if (secret !== undefined) out.set(refId(ref), secretOf(ref, secret));
      }
      return out;
    },

    async *list(query = {}) {
      if (query.tags !== undefined && Object.keys(query.tags).length > 0) {
        throw unsupported("list", "Doppler keeps no tags, so list cannot filter by them");
      }
      const start = codec.listPrefix(query);
      const names = (await client().listNames()).filter((name) => name.startsWith(start)).sort();
      for (const name of names) {
        // Names the codec did not make (foreign, hashed, another prefix) decode to nothing: skipped.
        const ref = codec.decode(name);
        if (ref === undefined || !matchesScope(ref, query)) continue;
        const entry: SecretEntry = { ref, tags: {} };
        yield entry;
      }
    },

    async put(ref, input, putOptions = {}): Promise<SecretMetadata> {
      const name = codec.encode(ref);
      if (putOptions.tags !== undefined && Object.keys(putOptions.tags).length > 0 && !options.ignoreTags) {
        throw unsupported("put", "Doppler keeps no tags; remove them, or set ignoreTags to drop them", ref);
      }
      if (putOptions.expectedVersion !== undefined) {
        throw unsupported("put", "Doppler has no check-and-set (expectedVersion)", ref);
      }
      const value = SecretValue.from(input);
      if (value.isBinary) {
        throw unsupported("put", "Doppler keeps text only; encode bytes (base64) before writing", ref);
      }
      await client().setSecret(name, value.reveal(), ref);
      if (putOptions.description !== undefined) await client().setNote(name, putOptions.description, ref);
      return {
        tags: {},
        ...(putOptions.description !== undefined && { description: putOptions.description }),
      };
    },

    async delete(ref) {
      return client().deleteSecret(codec.encode(ref), ref);
    },
  };
}
