import { type FullItem, OnePasswordConnect, type OPConnect } from "@1password/connect";
import {
  type BackendContext,
  type Capabilities,
  cleanRef,
  matchesScope,
  matchesTags,
  nameCodec,
  namingRules,
  type SecretBackend,
  type SecretEntry,
  type SecretRef,
  SecretValue,
  StrongboxError,
  validateRef,
} from "@strongbox/core";
import {
  buildItem,
  classify,
  type ItemSummary,
  itemValue,
  metadataOf,
  storedRef,
  toStrongboxError,
} from "./client.ts";
import { fetchClient } from "./http.ts";
import { type OnePasswordOptions, resolveOptions } from "./options.ts";

// A raw title is the item's own title (made by a person, spaces included): only what breaks the
// SDK's `title eq "..."` filter (`"`, `\\`) and control characters are refused.
const refusedInRawTitle = (title: string): boolean =>
  [...title].some((char) => char === '"' || char === "\\" || char < " " || char === "\u007f");
const MAX_TITLE = 512;
/** The longest wait between two attempts, however many retries and whatever the first delay. */
const MAX_RETRY_DELAY_MS = 20_000;

const capabilities: Capabilities = {
  tags: true,
  tagFilter: "client",
  versions: false,
  binary: false,
  description: true,
  checkAndSet: false,
};

/**
 * A 1Password Connect backend (`type: 1password`): each secret is an item of one
 * vault, titled by the naming codec, its value in a concealed field, its tags as
 * `key=value` tags, its description in the notes, and its exact ref in a hidden field.
 *
 * @example
 * const backend = onePassword({ address: "http://localhost:8080", token: process.env.OP_CONNECT_TOKEN!, vaultId: "7vs66j55o6md5btwcph272mva4" });
 * await backend.put?.({ namespace: "billing", key: "DB_PASSWORD" }, "hunter2");
 */
export function onePassword(options: OnePasswordOptions, context?: BackendContext): SecretBackend {
  const parsed = resolveOptions(options, context?.path ?? "1password");
  const prefix = parsed.prefix ?? context?.prefix;
  const codec = nameCodec(namingRules.onepassword, { prefix, mode: parsed.naming ?? "scoped" });
  const head = codec.prefix === undefined ? "" : `${codec.prefix}/`;
  /** The item title of a ref: the codec's in scoped mode; in raw mode the key as it is, after the prefix. */
  const titleOf = (ref: SecretRef): string => {
    validateRef(ref);
    if (codec.mode === "scoped") return codec.encode(ref);
    const title = head + ref.key;
    if (refusedInRawTitle(title) || title.length > MAX_TITLE) {
      throw new StrongboxError(
        "INVALID_NAME",
        `"${ref.key}" is not a title raw naming can look up (no quote, backslash or control character; at most ${MAX_TITLE})`,
        { backend: "1password", ref },
      );
    }
    return title;
  };
  const retries = parsed.retries ?? 2;
  const retryDelay = parsed.retryDelay ?? 100;
  const vaultId = parsed.vaultId;
  const defaultTags = parsed.tags ?? {};
  let client = parsed.client;
  const connect = (): OPConnect =>
    (client ??= OnePasswordConnect({
      serverURL: parsed.address as string,
      token: parsed.token as string,
      // Its own client (not the SDK's axios one), so that every failure keeps its HTTP status.
      httpClient: fetchClient(parsed.timeout ?? 15_000),
    }));

  /** True when a ref read from an item encodes to this title; a field that names no legal ref names nothing. */
  const namesThis = (ref: SecretRef, title: string): boolean => {
    try {
      return codec.encode(ref) === title;
    } catch (error) {
      if (error instanceof StrongboxError) return false;
      throw error;
    }
  };

  /** Runs one SDK call with bounded retries; `undefined` on 404 when `absentOn404`. */
  async function call<T>(
    operation: string,
    ref: SecretRef | undefined,
    run: (sdk: OPConnect) => Promise<T>,
    absentOn404 = false,
  ): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run(connect());
      } catch (error) {
        if (error instanceof StrongboxError) throw error;
        const failure = classify(error);
        if (failure.status === 404 && absentOn404) return undefined;
        if (!failure.retryable || attempt > retries) {
          throw toStrongboxError(failure, { operation, ...(ref ? { ref } : {}), attempts: attempt });
        }
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(MAX_RETRY_DELAY_MS, retryDelay * 2 ** (attempt - 1))),
        );
      }
    }
  }

  /** The one item titled exactly `title`, in full. */
  async function findItem(operation: string, ref: SecretRef, title: string): Promise<FullItem | undefined> {
    // The SDK puts the title into the query string as it is: `+ # & %` would break the
    // filter, so it gets the title percent-encoded (the codec keeps `"` and `\` out of titles).
    const found = await call(
      operation,
      ref,
      (sdk) => sdk.listItemsByTitle(vaultId, encodeURIComponent(title)),
      true,
    );
    if (found === undefined) {
      // A 404 here means the vault is gone, or an item went away between the filter and
      // its read: only the second is an absent secret.
      const vault = await call(operation, ref, (sdk) => sdk.getVaultById(vaultId), true);
      if (vault === undefined) {
        throw new StrongboxError("BACKEND", `vault ${vaultId} not found, or the token cannot see it`, {
          backend: "1password",
          operation,
          ref,
        });
      }
      return undefined;
    }
    const exact = found.filter((item) => item.title === title);
    if (exact.length > 1) {
      throw new StrongboxError("CONFLICT", `${exact.length} items are titled "${title}" in the vault`, {
        backend: "1password",
        operation,
        ref,
      });
    }
    return exact[0];
  }

  return {
    type: "1password",
    capabilities,
    async get(ref, getOptions = {}) {
      const item = await findItem("get", ref, titleOf(ref));
      if (item === undefined) return undefined;
      const value = itemValue(item);
      // The item is there but holds nothing to read (a secure note made by a person):
      // saying so, rather than reading as a missing secret.
      if (value === undefined) {
        throw new StrongboxError(
          "BACKEND",
          `item "${item.title ?? ""}" has no password or concealed field to read the value from`,
          { backend: "1password", operation: "get", ref },
        );
      }
      const metadata = metadataOf(item);
      if (getOptions.version !== undefined && getOptions.version !== metadata.version) {
        throw new StrongboxError("UNSUPPORTED", "1Password Connect cannot read an older version of an item", {
          backend: "1password",
          operation: "get",
          ref,
        });
      }
      return { ref: cleanRef(ref), value: SecretValue.from(value), ...metadata };
    },
    async put(ref, value, putOptions = {}) {
      const title = titleOf(ref);
      if (putOptions.expectedVersion !== undefined) {
        throw new StrongboxError("UNSUPPORTED", "1Password Connect has no check-and-set", {
          backend: "1password",
          operation: "put",
          ref,
        });
      }
      const tags =
        putOptions.tags === undefined && Object.keys(defaultTags).length === 0
          ? undefined
          : { ...defaultTags, ...putOptions.tags };
      const wrapped = SecretValue.from(value);
      if (wrapped.isBinary) {
        throw new StrongboxError(
          "UNSUPPORTED",
          "1Password keeps text only; encode bytes (base64) before writing",
          {
            backend: "1password",
            operation: "put",
            ref,
          },
        );
      }
      const text = wrapped.reveal();
      // Find-then-write is retried as a whole, so a create whose answer was lost becomes an update.
      const written = await call("put", ref, async () => {
        const existing = await findItem("put", ref, title);
        const item = buildItem(existing, vaultId, title, codec.mode === "scoped" ? ref : undefined, text, {
          ...(putOptions.description === undefined ? {} : { description: putOptions.description }),
          ...(tags === undefined ? {} : { tags }),
        });
        return existing === undefined
          ? connect().createItem(vaultId, item)
          : connect().updateItem(vaultId, item);
      });
      return metadataOf(written as FullItem);
    },
    async delete(ref) {
      const item = await findItem("delete", ref, titleOf(ref));
      if (item?.id === undefined) return false;
      const id = item.id;
      const gone = await call("delete", ref, (sdk) => sdk.deleteItemById(vaultId, id).then(() => true), true);
      return gone === true;
    },
    async *list(query = {}) {
      const head = codec.listPrefix(query);
      const summaries = ((await call("list", undefined, (sdk) => sdk.listItems(vaultId))) ??
        []) as ItemSummary[];
      for (const summary of summaries) {
        const title = summary.title ?? "";
        if (!title.startsWith(head) || summary.id === undefined) continue;
        let ref = codec.decode(title);
        let full: FullItem | undefined;
        if (ref === undefined && codec.mode === "scoped") {
          // A hashed (over-long) title: the exact ref is in the item's hidden field.
          const id = summary.id;
          full = await call("list", undefined, (sdk) => sdk.getItemById(vaultId, id), true);
          ref = full === undefined ? undefined : storedRef(full);
          if (ref !== undefined && !namesThis(ref, title)) ref = undefined;
        }
        if (ref === undefined || !matchesScope(ref, query)) continue;
        const metadata = metadataOf(full ?? summary);
        if (!matchesTags(metadata.tags, query.tags)) continue;
        const entry: SecretEntry = { ref, ...metadata };
        yield entry;
      }
    },
  };
}
