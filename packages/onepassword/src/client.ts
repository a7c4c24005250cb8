import { FieldPurpose, FieldType, type FullItem, ItemCategory } from "@1password/connect";
import {
  cleanRef,
  type SecretMetadata,
  type SecretRef,
  StrongboxError,
  type StrongboxErrorCode,
  type Tags,
} from "@strongbox/core";

/** Label of the hidden field that keeps the exact ref of a Strongbox item. */
export const REF_LABEL = "strongbox.ref";
const SECTION_ID = "strongbox";
const VALUE_ID = "password";
const NOTES_ID = "notesPlain";

/** The item summary fields `list` reads (a summary carries no fields). */
export interface ItemSummary {
  id?: string;
  title?: string;
  tags?: string[];
  version?: number;
  createdAt?: Date;
  updatedAt?: Date;
}

/** Tags are strings in 1Password: `key=value`, with `%` and `=` escaped in the key. */
export function encodeTags(tags: Tags): string[] {
  return Object.entries(tags).map(
    ([key, value]) => `${key.replaceAll("%", "%25").replaceAll("=", "%3D")}=${value}`,
  );
}

/** The inverse of {@link encodeTags}; a tag without `=` (made by a person) reads as `{ tag: "" }`. */
export function decodeTags(tags: readonly string[] | undefined): Tags {
  const out: Tags = {};
  for (const tag of tags ?? []) {
    const at = tag.indexOf("=");
    const key = at < 0 ? tag : tag.slice(0, at);
    out[key.replaceAll("%3D", "=").replaceAll("%25", "%")] = at < 0 ? "" : tag.slice(at + 1);
  }
  return out;
}

/** The metadata of an item (summary or full). */
export function metadataOf(item: ItemSummary & Pick<FullItem, "fields">): SecretMetadata {
  const notes = item.fields?.find((field) => field.purpose === FieldPurpose.Notes)?.value;
  return {
    tags: decodeTags(item.tags),
    ...(item.version === undefined ? {} : { version: String(item.version) }),
    ...(item.createdAt === undefined ? {} : { createdAt: new Date(item.createdAt) }),
    ...(item.updatedAt === undefined ? {} : { updatedAt: new Date(item.updatedAt) }),
    ...(notes === undefined || notes === "" ? {} : { description: notes }),
  };
}

/** The value of an item: its PASSWORD-purpose field, else its first concealed field. */
export function itemValue(item: FullItem): string | undefined {
  const fields = item.fields ?? [];
  const field =
    fields.find((candidate) => candidate.purpose === FieldPurpose.Password) ??
    fields.find((candidate) => candidate.type === FieldType.Concealed);
  return field === undefined ? undefined : (field.value ?? "");
}

/** The exact ref kept in the item's hidden field, if it has one. */
export function storedRef(item: FullItem): SecretRef | undefined {
  const text = item.fields?.find((field) => field.label === REF_LABEL)?.value;
  if (text === undefined) return undefined;
  try {
    const ref = JSON.parse(text) as SecretRef;
    return typeof ref?.key === "string" ? cleanRef(ref) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The item to write: a new PASSWORD item, or the existing one with its value,
 * notes, tags and ref field replaced (other fields, made by people, are kept).
 */
export function buildItem(
  existing: FullItem | undefined,
  vaultId: string,
  title: string,
  ref: SecretRef | undefined,
  value: string,
  options: { description?: string; tags?: Tags },
): FullItem {
  const item = (existing === undefined
    ? { title, vault: { id: vaultId }, category: ItemCategory.Password, fields: [], sections: [] }
    : structuredClone(existing)) as unknown as FullItem;
  const fields = [...(item.fields ?? [])];
  const upsert = (
    match: (field: (typeof fields)[number]) => boolean,
    field: (typeof fields)[number],
  ): void => {
    const at = fields.findIndex(match);
    if (at < 0) fields.push(field);
    else fields[at] = { ...fields[at], ...field };
  };
  const valueField =
    fields.find((field) => field.purpose === FieldPurpose.Password) ??
    fields.find((field) => field.type === FieldType.Concealed);
  upsert((field) => field === valueField, {
    id: valueField?.id ?? VALUE_ID,
    type: FieldType.Concealed,
    ...(valueField === undefined ? { purpose: FieldPurpose.Password } : {}),
    label: valueField?.label ?? "password",
    value,
  });
  if (options.description !== undefined) {
    upsert((field) => field.purpose === FieldPurpose.Notes, {
      id: NOTES_ID,
      type: FieldType.String,
      purpose: FieldPurpose.Notes,
      label: "notesPlain",
      value: options.description,
    });
  }
  if (ref !== undefined) {
    const sections = item.sections ?? [];
    if (!sections.some((section) => section.id === SECTION_ID))
      sections.push({ id: SECTION_ID, label: "Strongbox" });
    item.sections = sections;
    upsert((field) => field.label === REF_LABEL, {
      id: "strongbox-ref",
      type: FieldType.String,
      label: REF_LABEL,
      value: JSON.stringify(cleanRef(ref)),
      section: { id: SECTION_ID },
    });
  }
  item.fields = fields;
  if (options.tags !== undefined) item.tags = encodeTags(options.tags);
  return item;
}

/** What went wrong in a call to Connect, without the request (which carries the token and the item). */
export interface Failure {
  status?: number;
  message: string;
  retryable: boolean;
}

/** Classifies what the SDK rejected with: a plain `{status, message}` object, or an axios/network error. */
export function classify(error: unknown): Failure {
  if (typeof error === "object" && error !== null) {
    const record = error as Record<string, unknown>;
    const response = record.response as { status?: unknown } | undefined;
    const status =
      typeof record.status === "number"
        ? record.status
        : typeof response?.status === "number"
          ? response.status
          : undefined;
    const message = typeof record.message === "string" ? record.message : "request failed";
    if (status !== undefined) return { status, message, retryable: status >= 500 || status === 429 };
    const code = typeof record.code === "string" ? record.code : undefined;
    // Network errors (ECONNRESET, ECONNREFUSED, ETIMEDOUT, ECONNABORTED...) have a code and no status.
    return { message: code ?? message, retryable: code !== undefined };
  }
  // The SDK rejects with the response body when it is not JSON (a proxy's error page...).
  return { message: `unexpected answer: ${String(error).slice(0, 200)}`, retryable: false };
}

/** The error for a failure: the code its status means, and a cause holding only status and message. */
export function toStrongboxError(
  failure: Failure,
  context: { operation: string; ref?: SecretRef; attempts: number },
): StrongboxError {
  const code: StrongboxErrorCode =
    failure.status === 401 || failure.status === 403
      ? "ACCESS_DENIED"
      : failure.status === 409
        ? "CONFLICT"
        : failure.retryable
          ? "UNAVAILABLE"
          : "BACKEND";
  const status = failure.status === undefined ? "" : `${failure.status} `;
  const tries = failure.retryable && context.attempts > 1 ? ` (after ${context.attempts} attempts)` : "";
  const cause = Object.assign(
    new Error(failure.message),
    failure.status === undefined ? {} : { status: failure.status },
  );
  return new StrongboxError(code, `${status}${failure.message}${tries}`, {
    backend: "1password",
    operation: context.operation,
    ...(context.ref === undefined ? {} : { ref: context.ref }),
    cause,
  });
}
