import {
  type BackendContext,
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
  type SecretRef,
  SecretValue,
  StrongboxError,
  validateRef,
} from "@strongbox/core";
import { type CallContext, type ConjurResource, conjurClient } from "./client.ts";
import { type CyberArkOptions, resolveOptions } from "./options.ts";
import {
  annotationsOf,
  deletePolicy,
  metadataOf,
  storedRef,
  variablePolicy,
  wantedAnnotations,
} from "./policy.ts";

const capabilities: Capabilities = {
  tags: true,
  tagFilter: "client",
  versions: true,
  binary: false,
  description: true,
  checkAndSet: false,
};

const PAGE = 100;
const BATCH = 50;
/** Most reads in flight at once in `getMany`. */
const CONCURRENCY = 8;

/** Maps `items` with at most `limit` calls in flight, keeping their order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  map: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < items.length; index = next++) out[index] = await map(items[index] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
/** Ruby's `blank?`: Conjur refuses empty and whitespace-only values. */
const blank = (value: SecretValue): boolean => /^[\s\u00a0]*$/u.test(value.reveal());

/**
 * A CyberArk Conjur backend (`type: cyberark`): each secret is a variable, named by
 * the codec under a policy branch, with its versions (Conjur keeps 20), annotations
 * as tags, and the exact ref in the `strongbox/ref` annotation.
 *
 * @example
 * const backend = cyberark({ address: "https://conjur.example.com", account: "acme", username: "host/billing", apiKey: process.env.CONJUR_API_KEY! });
 * const secret = await backend.get({ namespace: "billing", key: "DB_PASSWORD" });
 */
export function cyberark(options: CyberArkOptions, context?: BackendContext): SecretBackend {
  const parsed = resolveOptions(options, context?.path ?? "cyberark");
  const codec = nameCodec(namingRules.conjur, {
    prefix: parsed.prefix ?? context?.prefix,
    mode: parsed.naming ?? "scoped",
  });
  const branch = parsed.policyBranch ?? "root";
  const head = branch === "root" ? "" : `${branch}/`;
  const manage = parsed.manageVariables ?? true;
  const defaultTags = parsed.tags ?? {};
  const client = conjurClient({
    address: parsed.address,
    account: parsed.account,
    username: parsed.username,
    ...(parsed.password === undefined ? {} : { password: parsed.password }),
    ...(parsed.apiKey === undefined ? {} : { apiKey: parsed.apiKey }),
    retries: parsed.retries ?? 2,
    retryDelay: parsed.retryDelay ?? 100,
    timeout: parsed.timeout ?? 30_000,
    fetch: parsed.fetch ?? ((input, init) => fetch(input, init)),
  });
  const idOf = (ref: SecretRef): string => head + codec.encode(ref);
  const fail = (code: "NOT_FOUND" | "UNSUPPORTED" | "BACKEND", message: string, ctx: CallContext) =>
    new StrongboxError(code, message, { backend: "cyberark", ...ctx });

  async function read(ctx: CallContext, ref: SecretRef, version?: string): Promise<Secret | undefined> {
    const id = idOf(ref);
    const resource = await client.resource(ctx, id);
    const kept = resource?.secrets ?? [];
    if (resource === undefined || kept.length === 0) return undefined;
    const wanted = version === undefined ? kept.at(-1)?.version : Number(version);
    if (wanted === undefined || !kept.some((secret) => secret.version === wanted)) return undefined;
    const value = await client.secret(ctx, id, wanted);
    if (value === undefined) return undefined;
    return {
      ref: cleanRef(ref),
      value: SecretValue.from(value.toString("utf8")),
      ...metadataOf(resource, wanted),
    };
  }

  /** The ref of a listed variable, or `undefined` when it is not one of ours. */
  function refOf(resource: ConjurResource): SecretRef | undefined {
    const full = resource.id.split(":").slice(2).join(":");
    if (!full.startsWith(head)) return undefined;
    const name = full.slice(head.length);
    const decoded = codec.decode(name);
    if (decoded !== undefined || codec.mode === "raw") return decoded;
    // A hashed (over-long) name: the exact ref is in the annotation.
    const stored = storedRef(annotationsOf(resource));
    if (stored === undefined) return undefined;
    try {
      return codec.encode(stored) === name ? stored : undefined;
    } catch (error) {
      // An annotation that names no legal ref (edited by hand): not one of ours.
      if (error instanceof StrongboxError) return undefined;
      throw error;
    }
  }

  const backend: SecretBackend = {
    type: "cyberark",
    capabilities,
    async get(ref, getOptions = {}) {
      validateRef(ref);
      return read({ operation: "get", ref }, ref, getOptions.version);
    },
    async getMany(refs) {
      for (const ref of refs) validateRef(ref);
      const unique = [...new Map(refs.map((ref) => [refId(ref), ref])).values()];
      const found = new Map<string, Secret>();
      const ctx: CallContext = { operation: "getMany" };
      for (let start = 0; start < unique.length; start += BATCH) {
        const chunk = unique.slice(start, start + BATCH);
        const values = await client.secrets(ctx, chunk.map(idOf));
        // Conjur fails the whole batch when one variable is missing: read those one by one.
        // The per-variable reads go CONCURRENCY at a time, not a burst of 50.
        const secrets = await mapLimit(chunk, CONCURRENCY, async (ref): Promise<Secret | undefined> => {
          if (values === undefined) return read({ operation: "getMany", ref }, ref);
          const value = values.get(idOf(ref));
          const resource = await client.resource({ operation: "getMany", ref }, idOf(ref));
          if (value === undefined || resource === undefined) return undefined;
          return {
            ref: cleanRef(ref),
            value: SecretValue.from(value.toString("utf8")),
            ...metadataOf(resource),
          };
        });
        for (const secret of secrets) if (secret !== undefined) found.set(refId(secret.ref), secret);
      }
      return found;
    },
    async put(ref, value, putOptions = {}) {
      validateRef(ref);
      const ctx: CallContext = { operation: "put", ref };
      if (putOptions.expectedVersion !== undefined)
        throw fail("UNSUPPORTED", "Conjur has no check-and-set", ctx);
      const secret = SecretValue.from(value);
      if (secret.isBinary)
        throw fail("UNSUPPORTED", "Conjur keeps text only; encode bytes (base64) before writing", ctx);
      if (blank(secret)) throw fail("BACKEND", "Conjur refuses an empty or whitespace-only value", ctx);
      const id = idOf(ref);
      const tags =
        putOptions.tags === undefined && Object.keys(defaultTags).length === 0
          ? undefined
          : { ...defaultTags, ...putOptions.tags };
      const wanted = wantedAnnotations(
        codec.mode === "scoped" ? ref : undefined,
        {
          ...(putOptions.description === undefined ? {} : { description: putOptions.description }),
          ...(tags === undefined ? {} : { tags }),
        },
        ctx,
      );
      const resource = await client.resource(ctx, id);
      if (resource === undefined) {
        if (!manage) {
          throw fail(
            "NOT_FOUND",
            `variable "${id}" does not exist, and manageVariables is false: declare it in a policy first`,
            ctx,
          );
        }
        await client.loadPolicy(ctx, "POST", branch, variablePolicy(codec.encode(ref), wanted));
      } else {
        const current = annotationsOf(resource);
        const changed = Object.fromEntries(
          Object.entries(wanted).filter(([name, text]) => current.get(name) !== text),
        );
        if (Object.keys(changed).length > 0) {
          if (!manage) {
            throw fail(
              "UNSUPPORTED",
              `changing annotations (${Object.keys(changed).join(", ")}) needs a policy load, and manageVariables is false`,
              ctx,
            );
          }
          await client.loadPolicy(ctx, "PATCH", branch, variablePolicy(codec.encode(ref), changed));
        }
      }
      await client.setSecret(ctx, id, secret.bytes());
      const version = (resource?.secrets?.at(-1)?.version ?? 0) + 1;
      const annotations = [...annotationsOf(resource ?? { id }), ...Object.entries(wanted)];
      return metadataOf(
        {
          id,
          annotations: [...new Map(annotations)].map(([name, text]) => ({ name, value: text })),
          ...(resource?.created_at === undefined ? {} : { created_at: resource.created_at }),
        },
        version,
      );
    },
    async *list(query = {}) {
      const ctx: CallContext = { operation: "list" };
      for (let offset = 0; ; offset += PAGE) {
        const page = await client.resources(ctx, { limit: PAGE, offset });
        for (const resource of page) {
          const ref = refOf(resource);
          if (ref === undefined || (resource.secrets ?? []).length === 0 || !matchesScope(ref, query))
            continue;
          const metadata = metadataOf(resource);
          if (!matchesTags(metadata.tags, query.tags)) continue;
          const entry: SecretEntry = { ref, ...metadata };
          yield entry;
        }
        if (page.length < PAGE) return;
      }
    },
  };
  if (manage) {
    backend.delete = async (ref) => {
      validateRef(ref);
      const ctx: CallContext = { operation: "delete", ref };
      if ((await client.resource(ctx, idOf(ref))) === undefined) return false;
      await client.loadPolicy(ctx, "PATCH", branch, deletePolicy(codec.encode(ref)));
      return true;
    };
  }
  return backend;
}
