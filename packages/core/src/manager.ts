import { backendBlock, backendPackages, parseConfig, type StrongboxConfig } from "./config.ts";
import { StrongboxError } from "./errors.ts";
import { type AuditHook, withAudit } from "./features/audit.ts";
import { withCache } from "./features/cache.ts";
import { withDefaultTags } from "./features/default-tags.ts";
import { withInheritance } from "./features/inheritance.ts";
import { isolated, namespacePolicy } from "./features/isolation.ts";
import { readOnly } from "./features/read-only.ts";
import { memoryFromConfig } from "./memory.ts";
import { validateRef } from "./naming.ts";
import { refId } from "./refs.ts";
import { parseTemplate, type TemplateArgs, type TemplateCall } from "./template.ts";
import type {
  BackendFromConfig,
  GetOptions,
  ListQuery,
  PutOptions,
  Secret,
  SecretBackend,
  SecretEntry,
  SecretMetadata,
  SecretRef,
} from "./types.ts";
import type { SecretInput } from "./value.ts";

/** The tenant and namespace a call runs in. */
export interface Scope {
  tenant?: string;
  namespace?: string;
}

/** A function callable from templates, such as `credential('name')`. */
export type TemplateFunction = (args: TemplateArgs, scope: Scope) => Promise<string>;

/** Options of {@link createSecretManager}. */
export interface ManagerOptions {
  /** Who this process is, for isolation and audit (`"worker"`, `"executor"`). */
  service?: string;
  /** Default tenant and namespace of string refs and templates. */
  scope?: Scope;
  /** Receives every access (never the value). */
  audit?: AuditHook;
  /** Use this store instead of loading the configured type (tests, custom stores). */
  backend?: SecretBackend;
}

/** One interface over every store, with the configured features around it. */
export interface SecretManager {
  /** The configured backend type. */
  readonly type: string;
  /** The parsed configuration. */
  readonly config: StrongboxConfig;
  /** The service this manager runs as. */
  readonly service: string | undefined;
  /** The store itself, without features (for store-specific operations such as `rotate()`). */
  readonly adapter: SecretBackend;
  /** The store with every configured feature around it. */
  readonly backend: SecretBackend;
  /** The secret, or `undefined`; with inheritance, `secret.ref` says where it was found. */
  get(ref: SecretRef | string, options?: GetOptions): Promise<Secret | undefined>;
  /** The secret, or a `NOT_FOUND` error. */
  getOrThrow(ref: SecretRef | string, options?: GetOptions): Promise<Secret>;
  /** The value as text, unwrapped on purpose, or `undefined`. */
  getValue(ref: SecretRef | string, options?: GetOptions): Promise<string | undefined>;
  /** The value parsed as JSON, or `undefined`. */
  getJson<T = unknown>(ref: SecretRef | string, options?: GetOptions): Promise<T | undefined>;
  put(ref: SecretRef | string, value: SecretInput, options?: PutOptions): Promise<SecretMetadata>;
  delete(ref: SecretRef | string): Promise<boolean>;
  list(query?: ListQuery): AsyncIterable<SecretEntry>;
  /** Replaces `{{ secret('NAME') }}` (and registered functions) in a string. */
  render(template: string, scope?: Scope): Promise<string>;
  /** Renders every string in a nested object or array; distinct secrets are fetched once each, concurrently. */
  resolve<T>(value: T, scope?: Scope): Promise<T>;
  /** Makes `{{ name(...) }}` callable in templates. */
  registerTemplateFunction(name: string, fn: TemplateFunction): void;
  close(): Promise<void>;
}

/**
 * Builds the manager from a configuration (kebab-case or camelCase): loads the
 * adapter of `secret.type` (and only that one) and wraps it in the configured
 * features, in this order from the caller inwards: audit, isolation, namespace
 * inheritance, read-only, cache, default tags, the store.
 *
 * @example
 * const manager = await createSecretManager(await loadConfig(), { service: "worker" });
 * const password = await manager.getValue({ namespace: "company.team", key: "DB_PASSWORD" });
 */
export async function createSecretManager(
  input: unknown,
  options: ManagerOptions = {},
): Promise<SecretManager> {
  const config = parseConfig(input);
  const secret = config.secret;
  const block = backendBlock(config);
  const adapter = options.backend ?? (await loadAdapter(config, block));

  const tags = { ...(block.tags as Record<string, string> | undefined), ...secret.tags };
  // A read-only manager writes nothing, so it has no use for default tags.
  let backend = secret.readOnly?.enabled ? adapter : withDefaultTags(adapter, tags);
  if (secret.cache?.enabled) {
    const { enabled: _enabled, ...cache } = secret.cache;
    backend = withCache(backend, cache);
  }
  if (secret.readOnly?.enabled)
    backend = readOnly(backend, { ...(secret.readOnly.tags && { tags: secret.readOnly.tags }) });
  if (secret.inheritance?.enabled ?? true) {
    // Isolation checks the namespace asked for; the levels inheritance falls back to are checked here.
    const visible = secret.isolation?.enabled ? namespacePolicy(secret.isolation) : undefined;
    backend = withInheritance(backend, visible === undefined ? {} : { visible });
  }
  if (secret.isolation?.enabled) backend = isolated(backend, secret.isolation, options.service);
  if (options.audit) backend = withAudit(backend, options.audit, options.service);

  const composed = backend;
  const defaultScope = options.scope ?? {};
  const functions = new Map<string, TemplateFunction>();

  const toRef = (ref: SecretRef | string): SecretRef => {
    if (typeof ref !== "string") return ref;
    const out: SecretRef = { key: ref };
    if (defaultScope.tenant !== undefined) out.tenant = defaultScope.tenant;
    if (defaultScope.namespace !== undefined) out.namespace = defaultScope.namespace;
    return out;
  };
  const unsupported = (operation: string, ref?: SecretRef): StrongboxError =>
    new StrongboxError("UNSUPPORTED", `the ${composed.type} store cannot ${operation}`, {
      backend: composed.type,
      operation,
      ref,
    });

  const getOrThrow = async (ref: SecretRef | string, getOptions?: GetOptions): Promise<Secret> => {
    const wanted = toRef(ref);
    const found = await composed.get(wanted, getOptions);
    if (found === undefined) {
      throw new StrongboxError("NOT_FOUND", "no such secret", {
        backend: composed.type,
        operation: "get",
        ref: wanted,
      });
    }
    return found;
  };

  /** Fetches distinct refs once each: one batch where the store has one, otherwise concurrently. */
  const fetchAll = async (refs: SecretRef[]): Promise<Map<string, Secret>> => {
    const distinct = [...new Map(refs.map((ref) => [refId(ref), ref])).values()];
    if (distinct.length > 1 && composed.getMany !== undefined) return composed.getMany(distinct);
    const found = new Map<string, Secret>();
    await Promise.all(
      distinct.map(async (ref) => {
        const secret = await composed.get(ref);
        if (secret !== undefined) found.set(refId(ref), secret);
      }),
    );
    return found;
  };

  const secretRefOf = (call: TemplateCall, scope: Scope): SecretRef => {
    const key = call.args.positional[0];
    if (key === undefined || call.args.positional.length > 1) {
      throw new StrongboxError("INVALID_OPTIONS", "template secret(...) takes one name: secret('NAME')");
    }
    const tenant = call.args.named.tenant ?? scope.tenant;
    const namespace = call.args.named.namespace ?? scope.namespace;
    const ref: SecretRef = { key };
    if (tenant !== undefined) ref.tenant = tenant;
    if (namespace !== undefined) ref.namespace = namespace;
    validateRef(ref);
    return ref;
  };

  const renderAll = async (templates: string[], scope: Scope): Promise<string[]> => {
    const parsed = templates.map((template) => ({ template, calls: parseTemplate(template) }));
    const secretCalls = parsed.flatMap(({ calls }) => calls.filter((call) => call.name === "secret"));
    const found = await fetchAll(secretCalls.map((call) => secretRefOf(call, scope)));
    const evaluate = async (call: TemplateCall): Promise<string> => {
      if (call.name !== "secret") {
        const fn = functions.get(call.name);
        if (fn === undefined)
          throw new StrongboxError("INVALID_OPTIONS", `template: unknown function ${call.name}()`);
        return fn(call.args, scope);
      }
      const ref = secretRefOf(call, scope);
      const secret = found.get(refId(ref));
      if (secret === undefined) {
        throw new StrongboxError("NOT_FOUND", "a template names a secret that does not exist", {
          backend: composed.type,
          operation: "render",
          ref,
        });
      }
      const subkey = call.args.named.subkey;
      return subkey === undefined ? secret.value.reveal() : fieldOf(secret, subkey, composed.type);
    };
    return Promise.all(
      parsed.map(async ({ template, calls }) => {
        if (calls.length === 0) return template;
        const values = await Promise.all(calls.map(evaluate));
        let out = "";
        let at = 0;
        calls.forEach((call, index) => {
          out += template.slice(at, call.start) + values[index];
          at = call.end;
        });
        return out + template.slice(at);
      }),
    );
  };

  return {
    type: secret.type,
    config,
    service: options.service,
    adapter,
    backend: composed,
    get: (ref, getOptions) => composed.get(toRef(ref), getOptions),
    getOrThrow,
    async getValue(ref, getOptions) {
      return (await composed.get(toRef(ref), getOptions))?.value.reveal();
    },
    async getJson<T>(ref: SecretRef | string, getOptions?: GetOptions): Promise<T | undefined> {
      const found = await composed.get(toRef(ref), getOptions);
      return found === undefined ? undefined : (parseJson(found, composed.type) as T);
    },
    put(ref, value, putOptions) {
      const wanted = toRef(ref);
      return composed.put
        ? composed.put(wanted, value, putOptions)
        : Promise.reject(unsupported("put", wanted));
    },
    delete(ref) {
      const wanted = toRef(ref);
      return composed.delete ? composed.delete(wanted) : Promise.reject(unsupported("delete", wanted));
    },
    list(query) {
      const list = composed.list;
      if (list === undefined) throw unsupported("list");
      return list.call(composed, query);
    },
    async render(template, scope = defaultScope) {
      return (await renderAll([template], scope))[0] as string;
    },
    async resolve<T>(value: T, scope: Scope = defaultScope): Promise<T> {
      const strings: string[] = [];
      collectStrings(value, strings);
      const rendered = await renderAll(strings, scope);
      let index = 0;
      return replaceStrings(value, () => rendered[index++] as string) as T;
    },
    registerTemplateFunction(name, fn) {
      if (name === "secret")
        throw new StrongboxError("INVALID_OPTIONS", "template function secret() is built in");
      functions.set(name, fn);
    },
    close: async () => {
      await composed.close?.();
    },
  };
}

async function loadAdapter(config: StrongboxConfig, block: Record<string, unknown>): Promise<SecretBackend> {
  const type = config.secret.type;
  const path = `secret.${type}`;
  if (type === "memory") return memoryFromConfig(block, { path });
  const specifier = backendPackages[type] as string;
  let module: { fromConfig?: BackendFromConfig };
  try {
    module = (await import(specifier)) as { fromConfig?: BackendFromConfig };
  } catch (error) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `secret.type "${type}" needs the package ${specifier}: npm install ${specifier}`,
      {
        cause: error,
      },
    );
  }
  if (typeof module.fromConfig !== "function") {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `${specifier} does not export fromConfig, so it cannot serve secret.type "${type}"`,
    );
  }
  const prefix = (block.prefix as string | undefined) ?? config.secret.prefix;
  const options: Record<string, unknown> = {
    ...block,
    ...(config.secret.naming && block.naming === undefined ? { naming: config.secret.naming } : {}),
  };
  if (prefix !== undefined) options.prefix = prefix;
  return module.fromConfig(options, { path, ...(prefix !== undefined && { prefix }) });
}

function parseJson(secret: Secret, backend: string): unknown {
  try {
    return JSON.parse(secret.value.reveal());
  } catch {
    // JSON.parse's message quotes the text: never pass it on.
    throw new StrongboxError("BACKEND", "the value is not JSON", {
      backend,
      operation: "getJson",
      ref: secret.ref,
    });
  }
}

function fieldOf(secret: Secret, subkey: string, backend: string): string {
  const parsed = parseJson(secret, backend);
  const field =
    typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>)[subkey] : undefined;
  if (field === undefined || field === null) {
    throw new StrongboxError("NOT_FOUND", `the JSON value has no field "${subkey}"`, {
      backend,
      operation: "render",
      ref: secret.ref,
    });
  }
  return typeof field === "string" ? field : JSON.stringify(field);
}

function collectStrings(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (isPlain(value)) for (const item of Object.values(value)) collectStrings(item, out);
}

function replaceStrings(value: unknown, next: () => string): unknown {
  if (typeof value === "string") return next();
  if (Array.isArray(value)) return value.map((item) => replaceStrings(item, next));
  if (isPlain(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replaceStrings(item, next)]));
  return value;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
