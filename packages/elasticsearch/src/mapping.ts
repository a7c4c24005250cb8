import type { Client, estypes } from "@elastic/elasticsearch";
import { StrongboxError } from "@strongbox/core";
import { responseInfo, toStrongboxError } from "./client.ts";

/** The mapping of the secrets index. */
export const MAPPING: estypes.MappingTypeMapping = {
  dynamic: "strict",
  _meta: { created_by: "strongbox", version: 1 },
  properties: {
    // Lucene refuses terms over 32766 bytes: 8191 characters always fit.
    prefix: { type: "keyword", ignore_above: 8191 },
    tenant: { type: "keyword", ignore_above: 8191 },
    namespace: { type: "keyword", ignore_above: 8191 },
    key: { type: "keyword", ignore_above: 8191 },
    doc_id: { type: "keyword" },
    description: { type: "text", index: false },
    tags: { type: "flattened" },
    envelope: { type: "keyword", index: false, doc_values: false },
    created_at: { type: "date" },
    updated_at: { type: "date" },
  },
};

/** The field types a compatible index must have. */
const REQUIRED_TYPES: Record<string, string> = {
  prefix: "keyword",
  tenant: "keyword",
  namespace: "keyword",
  key: "keyword",
  doc_id: "keyword",
  tags: "flattened",
  envelope: "keyword",
  created_at: "date",
  updated_at: "date",
};

type FieldMapping = { type?: string; index?: boolean };

/** What is wrong with an existing index's mapping for Strongbox (empty when it fits). */
export function mappingProblems(mapping: unknown): string[] {
  const properties =
    (mapping as { properties?: Record<string, FieldMapping | undefined> } | undefined)?.properties ?? {};
  const problems: string[] = [];
  for (const [field, type] of Object.entries(REQUIRED_TYPES)) {
    const found = properties[field];
    if (found === undefined) problems.push(`field "${field}" is missing`);
    else if ((found.type ?? "object") !== type)
      problems.push(`field "${field}" is "${found.type ?? "object"}", expected "${type}"`);
  }
  if (properties.envelope !== undefined && properties.envelope.index !== false) {
    problems.push('field "envelope" is indexed; it must be mapped with "index": false');
  }
  return problems;
}

/**
 * Makes sure the index exists with a usable mapping: creates it when missing (unless
 * `createIndex` is false), and checks an existing one (or one another process created
 * first) field by field, failing with `INVALID_OPTIONS` when it does not fit.
 */
export async function ensureIndex(
  es: Client,
  index: string,
  createIndex: boolean,
  operation: string,
): Promise<void> {
  const context = { backend: "elasticsearch", operation };
  try {
    if (!(await es.indices.exists({ index }))) {
      if (!createIndex) {
        throw new StrongboxError(
          "BACKEND",
          `index "${index}" does not exist and createIndex is false`,
          context,
        );
      }
      try {
        await es.indices.create({ index, mappings: MAPPING });
        return;
      } catch (error) {
        if (responseInfo(error)?.type !== "resource_already_exists_exception") throw error;
      }
    }
    const found = await es.indices.getMapping({ index });
    // An alias may stand for several indices: each must fit.
    for (const [name, { mappings }] of Object.entries(found)) {
      const problems = mappingProblems(mappings);
      if (problems.length > 0) {
        throw new StrongboxError(
          "INVALID_OPTIONS",
          `index "${name}" exists with a mapping Strongbox cannot use (${problems.join("; ")}); point "index" at another index or delete this one`,
          context,
        );
      }
    }
  } catch (error) {
    throw toStrongboxError(error, operation, undefined);
  }
}
