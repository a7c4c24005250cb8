import type { protos } from "@google-cloud/secret-manager";
import {
  cleanRef,
  type NameCodec,
  type SecretEntry,
  type SecretRef,
  SecretValue,
  type Tags,
} from "@strongbox/core";

/** A Secret as the SDK returns it. */
export type GcpSecret = protos.google.cloud.secretmanager.v1.ISecret;

/** Annotation keys Strongbox writes (annotation keys allow `[A-Za-z0-9._-]`, not `/`). */
export const ANNOTATIONS = {
  ref: "strongbox-ref",
  tags: "strongbox-tags",
  description: "strongbox-description",
} as const;

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MAX_LABELS = 64;
const bytes = (text: string): number => Buffer.byteLength(text, "utf8");

/** True when a tag can be a label: Google's label rules (lower case, at most 63 characters and 128 bytes). */
export function fitsLabel(key: string, value: string): boolean {
  return LABEL_KEY.test(key) && LABEL_VALUE.test(value) && bytes(key) <= 128 && bytes(value) <= 128;
}

/** Splits tags into labels (those that fit, at most 64, in key order) and the rest, which go to an annotation. */
export function splitTags(tags: Tags): { labels: Record<string, string>; rest: Tags } {
  const labels: Record<string, string> = {};
  const rest: Tags = {};
  let count = 0;
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key] as string;
    if (count < MAX_LABELS && fitsLabel(key, value)) {
      labels[key] = value;
      count += 1;
    } else rest[key] = value;
  }
  return { labels, rest };
}

/** The secret's labels and annotations for these tags, ref and description; foreign annotations are kept. */
export function metadataFields(
  ref: SecretRef,
  tags: Tags,
  description: string | undefined,
  existing: Record<string, string> = {},
): { labels: Record<string, string>; annotations: Record<string, string> } {
  const { labels, rest } = splitTags(tags);
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(existing))
    if (!key.startsWith("strongbox-")) annotations[key] = value;
  annotations[ANNOTATIONS.ref] = JSON.stringify(cleanRef(ref));
  if (Object.keys(rest).length > 0) annotations[ANNOTATIONS.tags] = JSON.stringify(rest);
  if (description !== undefined) annotations[ANNOTATIONS.description] = description;
  return { labels, annotations };
}

/** Tags (labels plus the tags annotation) and description of a secret. */
export function readMetadata(secret: GcpSecret): { tags: Tags; description?: string } {
  const annotations = secret.annotations ?? {};
  const tags: Tags = { ...(secret.labels ?? {}), ...parseTags(annotations[ANNOTATIONS.tags]) };
  const description = annotations[ANNOTATIONS.description];
  return description === undefined ? { tags } : { tags, description };
}

function parseTags(text: string | undefined): Tags {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Written by hand or by someone else: not tags of ours.
    return {};
  }
  if (typeof parsed !== "object" || parsed === null) return {};
  return Object.fromEntries(Object.entries(parsed).filter(([, value]) => typeof value === "string"));
}

/** The secret id at the end of `projects/P/secrets/ID[/versions/N]`. */
export function idOf(name: string | null | undefined): string {
  const match = /\/secrets\/([^/]+)/.exec(name ?? "");
  return match?.[1] ?? "";
}

/**
 * The exact ref of a listed secret: the ref annotation when it names this very secret id
 * (hashed, over-long names cannot be decoded), else the decoded id; `undefined` for a
 * secret that is not one of this codec's (another prefix, a foreign name).
 */
export function refOf(secret: GcpSecret, codec: NameCodec): SecretRef | undefined {
  const id = idOf(secret.name);
  const annotated = parseRef(secret.annotations?.[ANNOTATIONS.ref]);
  if (annotated !== undefined && codec.mode === "scoped") {
    try {
      if (codec.encode(annotated) === id) return annotated;
    } catch {
      // An annotation that is not a valid ref: fall back to the name.
    }
  }
  return codec.decode(id);
}

function parseRef(text: string | undefined): SecretRef | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const { tenant, namespace, key } = parsed;
    if (typeof key !== "string") return undefined;
    if (tenant !== undefined && typeof tenant !== "string") return undefined;
    if (namespace !== undefined && typeof namespace !== "string") return undefined;
    return cleanRef({ key, tenant, namespace } as SecretRef);
  } catch {
    return undefined;
  }
}

/** A server-side filter for the labels among these tags, and the name prefix (`name:` is a substring match). */
export function listFilter(tags: Tags | undefined, namePrefix: string): string {
  const terms: string[] = [];
  if (namePrefix !== "") terms.push(`name:${quote(namePrefix)}`);
  for (const [key, value] of Object.entries(tags ?? {}))
    if (value !== "" && fitsLabel(key, value)) terms.push(`labels.${key}=${quote(value)}`);
  return terms.join(" AND ");
}

const quote = (text: string): string => `"${text.replace(/["\\]/g, "\\$&")}"`;

/** A date from a protobuf Timestamp. */
export function toDate(
  time: { seconds?: unknown; nanos?: number | null } | null | undefined,
): Date | undefined {
  if (time?.seconds === undefined || time.seconds === null) return undefined;
  return new Date(Number(time.seconds) * 1000 + Math.floor((time.nanos ?? 0) / 1e6));
}

/** CRC32C (Castagnoli), which Secret Manager uses to check payloads. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The payload as a value: text when it is UTF-8, bytes otherwise. */
export function toValue(data: Uint8Array | string): SecretValue {
  if (typeof data === "string") return SecretValue.from(data);
  try {
    return SecretValue.from(utf8.decode(data));
  } catch {
    return SecretValue.from(new Uint8Array(data));
  }
}

/** A listed secret as an entry (no value), or `undefined` when it is not one of this codec's. */
export function entryOf(secret: GcpSecret, codec: NameCodec): SecretEntry | undefined {
  const ref = refOf(secret, codec);
  if (ref === undefined) return undefined;
  const createdAt = toDate(secret.createTime);
  return { ref, ...readMetadata(secret), ...(createdAt && { createdAt }) };
}

/** The version at the end of `.../versions/N`. */
export function versionOf(name: string | null | undefined): string | undefined {
  return /\/versions\/([^/]+)$/.exec(name ?? "")?.[1];
}

/** Payload bytes (the REST transport gives base64 text). */
export function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? Buffer.from(data, "base64") : data;
}

/** True when two string maps hold the same entries. */
export function sameMap(a: Record<string, string>, b: Record<string, string> | null | undefined): boolean {
  const other = b ?? {};
  const keys = Object.keys(a);
  return keys.length === Object.keys(other).length && keys.every((key) => other[key] === a[key]);
}
