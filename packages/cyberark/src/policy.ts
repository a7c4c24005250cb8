import { cleanRef, type SecretMetadata, type SecretRef, StrongboxError, type Tags } from "@strongbox/core";
import type { ConjurResource } from "./client.ts";

/** Annotation that keeps the exact ref of a variable Strongbox made. */
export const REF_ANNOTATION = "strongbox/ref";
/** Annotation that lists the names of the annotations that are tags (so a dropped tag is known as dropped). */
export const TAGS_ANNOTATION = "strongbox/tags";
/** Annotation that holds the description. */
export const DESCRIPTION_ANNOTATION = "description";

/** True for annotation names that are not tags: Strongbox's and Conjur's own, and the description. */
const reserved = (name: string): boolean =>
  name === DESCRIPTION_ANNOTATION || name.startsWith("strongbox/") || name.startsWith("conjur/");

/** A YAML double-quoted scalar (JSON's escapes are a subset of YAML's). */
const quote = (text: string): string => JSON.stringify(text);

/** `- !variable` with its annotations, for a POST (add) or PATCH (update) load. */
export function variablePolicy(id: string, annotations: Record<string, string>): string {
  const lines = ["- !variable", `  id: ${quote(id)}`];
  const entries = Object.entries(annotations);
  if (entries.length > 0) {
    lines.push("  annotations:");
    for (const [name, value] of entries) lines.push(`    ${quote(name)}: ${quote(value)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** `- !delete` of a variable, for a PATCH load. */
export function deletePolicy(id: string): string {
  return `- !delete\n  record: !variable ${quote(id)}\n`;
}

/** The annotations a write asks for. Throws `INVALID_NAME` for a tag whose name is reserved. */
export function wantedAnnotations(
  ref: SecretRef | undefined,
  options: { description?: string; tags?: Tags },
  context: { operation: string; ref?: SecretRef },
): Record<string, string> {
  const out: Record<string, string> = {};
  if (ref !== undefined) out[REF_ANNOTATION] = JSON.stringify(cleanRef(ref));
  if (options.description !== undefined) out[DESCRIPTION_ANNOTATION] = options.description;
  if (options.tags !== undefined) {
    for (const [name, value] of Object.entries(options.tags)) {
      if (reserved(name)) {
        throw new StrongboxError(
          "INVALID_NAME",
          `tag "${name}" is reserved (description, strongbox/*, conjur/*)`,
          {
            backend: "cyberark",
            ...context,
          },
        );
      }
      out[name] = value;
    }
    out[TAGS_ANNOTATION] = JSON.stringify(Object.keys(options.tags).sort());
  }
  return out;
}

/** The annotations of a resource, as a map. */
export function annotationsOf(resource: ConjurResource): Map<string, string> {
  return new Map((resource.annotations ?? []).map((annotation) => [annotation.name, annotation.value]));
}

/** The exact ref kept in the annotations, if any. */
export function storedRef(annotations: Map<string, string>): SecretRef | undefined {
  const text = annotations.get(REF_ANNOTATION);
  if (text === undefined) return undefined;
  try {
    const ref = JSON.parse(text) as SecretRef;
    return typeof ref?.key === "string" ? cleanRef(ref) : undefined;
  } catch {
    return undefined;
  }
}

/** The metadata of a variable: tags from annotations, the last kept version, the description. */
export function metadataOf(resource: ConjurResource, version?: number): SecretMetadata {
  const annotations = annotationsOf(resource);
  let names: string[];
  try {
    const listed = annotations.get(TAGS_ANNOTATION);
    names =
      listed === undefined ? [...annotations.keys()].filter((name) => !reserved(name)) : JSON.parse(listed);
  } catch {
    names = [];
  }
  const tags: Tags = {};
  for (const name of names) {
    const value = annotations.get(name);
    if (value !== undefined) tags[name] = value;
  }
  const last = version ?? resource.secrets?.at(-1)?.version;
  const description = annotations.get(DESCRIPTION_ANNOTATION);
  return {
    tags,
    ...(last === undefined ? {} : { version: String(last) }),
    ...(description === undefined ? {} : { description }),
    ...(resource.created_at === undefined ? {} : { createdAt: new Date(resource.created_at) }),
  };
}
