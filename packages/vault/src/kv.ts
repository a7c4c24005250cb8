import {
  cleanRef,
  type NameCodec,
  type SecretInput,
  type SecretRef,
  SecretValue,
  StrongboxError,
  type Tags,
} from "@strongbox/core";
import { encodePath } from "./auth.ts";
import { isRecord } from "./client.ts";

/** Data field that marks a base64-encoded binary value. */
export const ENCODING_FIELD = "strongbox-encoding";
/** custom_metadata key (KV v2) or data field (KV v1) holding the exact ref as JSON. */
export const REF_KEY = "strongbox-ref";
/** custom_metadata key (KV v2) or data field (KV v1) holding the description. */
export const DESCRIPTION_KEY = "strongbox-description";
/** KV v1 data field holding the tags as JSON. */
export const TAGS_FIELD = "strongbox-tags";
const RESERVED = "strongbox-";
const MAX_META_VALUE = 512;
const MAX_META_KEY = 128;
const MAX_META_KEYS = 64;

/** The paths of one secret in a mount. */
export interface KvPaths {
  data(name: string): string;
  metadata(name: string): string;
  /** The folder to list, relative to the mount: `""` or `a/b/`. */
  list(folder: string): string;
}

/** Builds the request paths of a mount and engine version; every segment URL-encoded. */
export function kvPaths(mount: string, version: 1 | 2): KvPaths {
  const root = encodePath(mount);
  const at = (section: string, name: string): string =>
    version === 2 ? `${root}/${section}/${encodePath(name)}` : `${root}/${encodePath(name)}`;
  return {
    data: (name) => at("data", name),
    metadata: (name) => at("metadata", name),
    list: (folder) =>
      version === 2
        ? `${root}/metadata/${encodePath(folder)}${folder === "" ? "" : "/"}`
        : `${root}/${encodePath(folder)}${folder === "" ? "" : "/"}`,
  };
}

/** The KV data of a value: `{ [field]: text }`, bytes as base64 with the encoding marker. */
export function encodeValue(value: SecretInput, field: string): Record<string, string> {
  const wrapped = SecretValue.from(value);
  if (!wrapped.isBinary) return { [field]: wrapped.reveal() };
  return { [field]: Buffer.from(wrapped.bytes()).toString("base64"), [ENCODING_FIELD]: "base64" };
}

/**
 * The value of KV data: the `field`, decoded when marked as base64. Data without
 * that field (a secret written by another tool, read in raw mode) reads as the
 * JSON of all its fields.
 */
export function decodeValue(data: Record<string, unknown>, field: string): SecretValue {
  const raw = data[field];
  if (typeof raw !== "string") {
    const foreign = Object.fromEntries(Object.entries(data).filter(([key]) => !key.startsWith(RESERVED)));
    return SecretValue.from(JSON.stringify(foreign));
  }
  return SecretValue.from(
    data[ENCODING_FIELD] === "base64" ? new Uint8Array(Buffer.from(raw, "base64")) : raw,
  );
}

/** Stored Strongbox fields: ref, description, tags (user tags are the keys without the `strongbox-` prefix). */
export interface StoredMeta {
  ref: SecretRef | undefined;
  description: string | undefined;
  tags: Tags;
}

/** Reads KV v2 custom_metadata. */
export function readCustomMetadata(custom: unknown): StoredMeta {
  const map = isRecord(custom) ? custom : {};
  const tags: Tags = {};
  for (const [key, value] of Object.entries(map)) {
    if (!key.startsWith(RESERVED) && typeof value === "string") tags[key] = value;
  }
  return { ref: parseRef(joinChunks(map, REF_KEY)), description: joinChunks(map, DESCRIPTION_KEY), tags };
}

/**
 * The custom_metadata to store: the current map with the ref set, and the tags
 * and description replaced when given. Values past 512 bytes are split into
 * `key`, `key.1`, `key.2`... (Vault's limit per value).
 */
export function nextCustomMetadata(
  current: unknown,
  ref: SecretRef,
  tags: Tags | undefined,
  description: string | undefined,
): Record<string, string> {
  const map: Record<string, string> = {};
  for (const [key, value] of Object.entries(isRecord(current) ? current : {})) {
    if (typeof value !== "string") continue;
    if (
      key.startsWith(RESERVED)
        ? ownedKey(key, DESCRIPTION_KEY) && description === undefined
        : tags === undefined
    )
      map[key] = value;
  }
  Object.assign(map, chunk(REF_KEY, JSON.stringify(cleanRef(ref))));
  if (description !== undefined) Object.assign(map, chunk(DESCRIPTION_KEY, description));
  if (tags !== undefined) Object.assign(map, tags);
  if (Object.keys(map).length > MAX_META_KEYS) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      `Vault keeps at most ${MAX_META_KEYS} custom_metadata entries (tags included)`,
    );
  }
  return map;
}

/** Rejects tags Vault would refuse or that clash with Strongbox's own keys. */
export function checkTags(tags: Tags | undefined): void {
  for (const [key, value] of Object.entries(tags ?? {})) {
    if (key.startsWith(RESERVED))
      throw new StrongboxError("INVALID_OPTIONS", `tag "${key}": the prefix "${RESERVED}" is reserved`);
    if (key === "" || Buffer.byteLength(key) > MAX_META_KEY)
      throw new StrongboxError(
        "INVALID_OPTIONS",
        `tag "${key.slice(0, 40)}": names are 1 to ${MAX_META_KEY} bytes`,
      );
    if (Buffer.byteLength(value) > MAX_META_VALUE)
      throw new StrongboxError("INVALID_OPTIONS", `tag "${key}": values are at most ${MAX_META_VALUE} bytes`);
  }
}

/** KV v1 keeps everything in the data: the value, then the Strongbox fields. */
export function kv1Data(
  value: SecretInput,
  field: string,
  ref: SecretRef,
  tags: Tags,
  description: string | undefined,
): Record<string, string> {
  return {
    ...encodeValue(value, field),
    [REF_KEY]: JSON.stringify(cleanRef(ref)),
    [TAGS_FIELD]: JSON.stringify(tags),
    ...(description !== undefined && { [DESCRIPTION_KEY]: description }),
  };
}

/** Reads the Strongbox fields of KV v1 data. */
export function readKv1Meta(data: Record<string, unknown>): StoredMeta {
  let tags: Tags = {};
  try {
    const parsed: unknown = JSON.parse(String(data[TAGS_FIELD] ?? "{}"));
    if (isRecord(parsed)) tags = Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  } catch {
    tags = {}; // not written by Strongbox: no tags
  }
  const description = data[DESCRIPTION_KEY];
  return {
    ref: parseRef(typeof data[REF_KEY] === "string" ? data[REF_KEY] : undefined),
    description: typeof description === "string" ? description : undefined,
    tags,
  };
}

/**
 * The ref of a stored name: the one written beside it when it encodes to this very name, else
 * the codec's reading of the name. A ref that names another path is not this codec's (a manager
 * with the prefix `billing/eu` writes its own refs under `billing/`): the name decides, and a
 * name the codec cannot read is left out.
 */
export function refOf(codec: NameCodec, name: string, stored: SecretRef | undefined): SecretRef | undefined {
  if (stored !== undefined && codec.mode === "scoped" && namesThis(codec, stored, name)) return stored;
  return codec.decode(name);
}

/** True when `ref` encodes to `name`; a stored ref that names no legal ref (edited by hand) names nothing. */
function namesThis(codec: NameCodec, ref: SecretRef, name: string): boolean {
  try {
    return codec.encode(ref) === name;
  } catch (error) {
    if (error instanceof StrongboxError) return false;
    throw error;
  }
}

function ownedKey(key: string, base: string): boolean {
  return key === base || key.startsWith(`${base}.`);
}

function chunk(base: string, text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let part = "";
  let index = 0;
  const flush = (): void => {
    out[index === 0 ? base : `${base}.${index}`] = part;
    index += 1;
    part = "";
  };
  for (const char of text) {
    if (Buffer.byteLength(part + char) > MAX_META_VALUE) flush();
    part += char;
  }
  flush();
  return out;
}

function joinChunks(map: Record<string, unknown>, base: string): string | undefined {
  const first = map[base];
  if (typeof first !== "string") return undefined;
  let text = first;
  for (let index = 1; typeof map[`${base}.${index}`] === "string"; index++) text += map[`${base}.${index}`];
  return text;
}

function parseRef(text: string | undefined): SecretRef | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isRecord(parsed) || typeof parsed.key !== "string") return undefined;
    const ref: SecretRef = { key: parsed.key };
    if (typeof parsed.tenant === "string") ref.tenant = parsed.tenant;
    if (typeof parsed.namespace === "string") ref.namespace = parsed.namespace;
    return ref;
  } catch {
    return undefined; // not ours: fall back to the name
  }
}

/** `{ [key]: date }` for an RFC 3339 timestamp, `{}` for none. */
export function dateOf<K extends "createdAt" | "updatedAt">(key: K, text: unknown): Partial<Record<K, Date>> {
  if (typeof text !== "string" || text === "") return {};
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? {} : ({ [key]: date } as Partial<Record<K, Date>>);
}
