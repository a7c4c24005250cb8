import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { StrongboxError } from "./errors.ts";
import { duration, parseOptions, tagsSchema } from "./options.ts";

/** The backend types the manager knows, and the package each one lives in. */
export const backendPackages: Readonly<Record<string, string>> = {
  "aws-secret-manager": "@strongbox/aws",
  "azure-key-vault": "@strongbox/azure",
  "google-secret-manager": "@strongbox/gcp",
  vault: "@strongbox/vault",
  jdbc: "@strongbox/jdbc",
  elasticsearch: "@strongbox/elasticsearch",
  doppler: "@strongbox/doppler",
  "1password": "@strongbox/onepassword",
  cyberark: "@strongbox/cyberark",
  memory: "@strongbox/core",
};

const backendTypes = Object.keys(backendPackages) as [string, ...string[]];

/** The `cache` block. */
export interface CacheConfig {
  enabled: boolean;
  maximumSize: number;
  /** In ms (accepts `60s`, `5m`, `PT1M`). */
  expireAfterWrite: number;
  maximumBytes?: number;
  staleIfError: boolean | number;
  negativeTtl?: number;
}

/** The `isolation` block. */
export interface IsolationConfig {
  enabled: boolean;
  deniedServices: string[];
  allowedServices: string[];
  namespaces?: { allow: string[]; deny: string[]; default: "allow" | "deny" };
}

/** The `secret` block of the parsed configuration. The block named after `type` (camelCase) holds the adapter's options. */
export interface SecretConfig {
  type: string;
  prefix?: string;
  tags?: Record<string, string>;
  naming?: "scoped" | "raw";
  readOnly?: { enabled: boolean; tags?: Record<string, string> };
  cache?: CacheConfig;
  isolation?: IsolationConfig;
  inheritance?: { enabled: boolean };
  [block: string]: unknown;
}

/** The parsed configuration. */
export interface StrongboxConfig {
  secret: SecretConfig;
  credentials?: Record<string, Record<string, unknown>>;
}

const secretSchema = z
  .object({
    type: z.enum(backendTypes),
    prefix: z.string().min(1).optional(),
    tags: tagsSchema.optional(),
    naming: z.enum(["scoped", "raw"]).optional(),
    readOnly: z
      .object({ enabled: z.boolean().default(false), tags: tagsSchema.optional() })
      .strict()
      .optional(),
    cache: z
      .object({
        enabled: z.boolean().default(false),
        maximumSize: z.number().int().positive().default(1000),
        expireAfterWrite: duration.default(60_000),
        maximumBytes: z.number().int().positive().optional(),
        staleIfError: z.union([z.boolean(), duration]).default(false),
        negativeTtl: duration.optional(),
      })
      .strict()
      .optional(),
    isolation: z
      .object({
        enabled: z.boolean().default(false),
        deniedServices: z.array(z.string()).default([]),
        allowedServices: z.array(z.string()).default([]),
        namespaces: z
          .object({
            allow: z.array(z.string()).default([]),
            deny: z.array(z.string()).default([]),
            default: z.enum(["allow", "deny"]).default("allow"),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    inheritance: z
      .object({ enabled: z.boolean().default(true) })
      .strict()
      .optional(),
  })
  // The block of the chosen type (e.g. `awsSecretManager`) is checked by its adapter.
  .catchall(z.record(z.string(), z.unknown()));

const secretOptionNames: ReadonlySet<string> = new Set(Object.keys(secretSchema.shape));

const configSchema: z.ZodType<StrongboxConfig> = z
  .object({
    secret: secretSchema,
    credentials: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  })
  .strict() as z.ZodType<StrongboxConfig>;

/**
 * Validates a configuration object (kebab-case or camelCase keys) and returns it
 * in camelCase. A bad field fails with `INVALID_OPTIONS` and its path.
 */
export function parseConfig(input: unknown): StrongboxConfig {
  const normalized = normalizeKeys(input, []);
  const config = parseOptions(configSchema, normalized, "");
  const block = camelCase(config.secret.type);
  for (const key of Object.keys(config.secret)) {
    if (!secretOptionNames.has(key) && key !== block) {
      throw new StrongboxError(
        "INVALID_OPTIONS",
        `invalid options: secret.${kebabCase(key)}: a block for another type than "${config.secret.type}" (or a misspelt option)`,
      );
    }
  }
  return config;
}

/** The options block of the configured type, camelCase (`{}` when absent). */
export function backendBlock(config: StrongboxConfig): Record<string, unknown> {
  return (config.secret[camelCase(config.secret.type)] as Record<string, unknown> | undefined) ?? {};
}

// Maps whose keys are data (tag names, credential names, claims), never renamed.
const DATA_MAPS = new Set([
  "tags",
  "labels",
  "annotations",
  "claims",
  "additionalClaims",
  "headers",
  "credentials",
]);

/** Turns kebab-case keys into camelCase, except the keys of data maps such as tags. */
export function normalizeKeys(value: unknown, path: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => normalizeKeys(item, path));
  if (typeof value !== "object" || value === null || value instanceof UnsetVariable) return value;
  const parent = path.at(-1);
  const keysAreData = parent !== undefined && DATA_MAPS.has(parent);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const name = keysAreData ? key : camelCase(key);
    // Tag maps' values are data too; a credentials map's values are configuration again.
    out[name] = keysAreData && parent !== "credentials" ? child : normalizeKeys(child, [...path, name]);
  }
  return out;
}

function camelCase(key: string): string {
  return key.replace(/-([a-z0-9])/g, (_match, char: string) => char.toUpperCase());
}

function kebabCase(key: string): string {
  return key.replace(/[A-Z]/g, (char) => `-${char.toLowerCase()}`);
}

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** A YAML (or JSON) file. Without one: `./strongbox.yaml`, then `~/.config/strongbox/config.yaml`, when they exist. */
  file?: string;
  /** Environment for `${VAR}` expansion and `STRONGBOX_*` variables. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Skip the default file locations (only `file` and the environment count). @default false */
  noDefaultFiles?: boolean;
  /**
   * Configuration that wins over the file and the environment (a command's flags), with keys in
   * either case. A file field it replaces needs none of its `${VAR}`s set.
   */
  overrides?: Record<string, unknown>;
}

/**
 * Reads the configuration: a YAML file with `${VAR}` (and `${VAR:-default}`)
 * expanded, then `STRONGBOX_*` environment variables on top (`__` nests:
 * `STRONGBOX_SECRET__CACHE__MAXIMUM_SIZE=100`). Returns the raw object for
 * `createSecretManager` or `parseConfig`.
 *
 * @example
 * const manager = await createSecretManager(await loadConfig({ file: "strongbox.yaml" }));
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<Record<string, unknown>> {
  const env = options.env ?? process.env;
  const candidates = options.file
    ? [resolve(options.file)]
    : options.noDefaultFiles
      ? []
      : [resolve("strongbox.yaml"), join(homedir(), ".config", "strongbox", "config.yaml")];
  let fromFile: Record<string, unknown> = {};
  for (const [index, file] of candidates.entries()) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" && (options.file === undefined || index > 0))
        continue;
      throw new StrongboxError("INVALID_OPTIONS", `cannot read the configuration file ${file}`, {
        cause: error,
      });
    }
    fromFile = readYamlConfig(text, file, env);
    break;
  }
  const merged = mergeDeep(
    mergeDeep(
      normalizeKeys(fromFile, []) as Record<string, unknown>,
      normalizeKeys(configFromEnv(env), []) as Record<string, unknown>,
    ),
    normalizeKeys(options.overrides ?? {}, []) as Record<string, unknown>,
  );
  // A `${VAR}` that is not set fails only where its field survived the sources above the file.
  failOnUnset(merged);
  return merged;
}

/** A file field whose `${VAR}` is not set, kept until the sources above the file have had their say. */
class UnsetVariable {
  readonly message: string;
  constructor(source: string, path: readonly string[], name: string) {
    this.message = `${source}: ${path.join(".")} uses \${${name}}, which is not set`;
  }
}

function failOnUnset(value: unknown): void {
  if (value instanceof UnsetVariable) throw new StrongboxError("INVALID_OPTIONS", value.message);
  if (Array.isArray(value)) for (const item of value) failOnUnset(item);
  else if (isPlainObject(value)) for (const child of Object.values(value)) failOnUnset(child);
}

/** Parses YAML text with `${VAR}` expansion (in values only; a missing variable without default is an error). */
export function parseYamlConfig(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, unknown> {
  const config = readYamlConfig(text, source, env);
  failOnUnset(config);
  return config;
}

/** {@link parseYamlConfig}, with an unset variable left in its field as an {@link UnsetVariable}. */
function readYamlConfig(text: string, source: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    // The parser's message quotes the offending line, which may hold a secret: say only where.
    const where = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `${source} is not valid YAML${where ? ` (line ${where.line}, column ${where.col})` : ""}`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new StrongboxError("INVALID_OPTIONS", `${source} must hold a mapping at its top level`);
  }
  return expandEnv(parsed, env, source, []) as Record<string, unknown>;
}

function expandEnv(value: unknown, env: NodeJS.ProcessEnv, source: string, path: string[]): unknown {
  if (typeof value === "string") {
    let unset: UnsetVariable | undefined;
    const expanded = value.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (_match, name: string, fallback?: string) => {
        const found = env[name];
        if (found !== undefined && found !== "") return found;
        if (fallback !== undefined) return fallback;
        unset ??= new UnsetVariable(source, path, name);
        return "";
      },
    );
    return unset ?? expanded;
  }
  if (Array.isArray(value))
    return value.map((item, index) => expandEnv(item, env, source, [...path, String(index)]));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => [key, expandEnv(child, env, source, [...path, key])]),
    );
  }
  return value;
}

/** `STRONGBOX_SECRET__JDBC__URL=...` -> `{ secret: { jdbc: { url: ... } } }` (kebab-case keys, YAML scalars). */
export function configFromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("STRONGBOX_") || raw === undefined || !name.includes("__")) continue;
    const path = name
      .slice("STRONGBOX_".length)
      .split("__")
      .map((part) => part.toLowerCase().replace(/_/g, "-"));
    if (path.some((part) => part === "")) continue;
    let target = out;
    for (const part of path.slice(0, -1)) {
      const next = target[part];
      target[part] = typeof next === "object" && next !== null ? next : {};
      target = target[part] as Record<string, unknown>;
    }
    target[path.at(-1) as string] = scalar(raw);
  }
  return out;
}

function scalar(raw: string): unknown {
  if (raw === "true" || raw === "false") return raw === "true";
  if (/^-?\d+(\.\d+)?$/.test(raw) && raw.length < 16) return Number(raw);
  if (raw.startsWith("[") || raw.startsWith("{")) {
    try {
      return parseYaml(raw);
    } catch {
      return raw;
    }
  }
  return raw;
}

/** Merges `over` into `base`: objects merge, everything else replaces. */
export function mergeDeep(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeDeep(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof UnsetVariable)
  );
}
