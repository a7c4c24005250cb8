import { type BackendFromConfig, StrongboxError } from "@strongbox/core";
import { createBackend } from "./elasticsearch.ts";
import { resolveOptions } from "./options.ts";

export { documentId } from "./documents.ts";
export { type ElasticsearchBackend, elasticsearch } from "./elasticsearch.ts";
export { MAPPING } from "./mapping.ts";
export type { ElasticsearchAuth, ElasticsearchOptions, ElasticsearchTlsOptions } from "./options.ts";
export type { RotationReport } from "./rotate.ts";

/**
 * The entry point of `createSecretManager` for `type: elasticsearch`: validates the
 * `secret.elasticsearch` block (camelCase keys) and returns the backend.
 */
export const fromConfig: BackendFromConfig = (block, context) => {
  if ("client" in block) {
    throw new StrongboxError("INVALID_OPTIONS", `${context.path}.client cannot come from a configuration`, {
      backend: "elasticsearch",
    });
  }
  const input =
    context.prefix !== undefined && block.prefix === undefined ? { ...block, prefix: context.prefix } : block;
  return createBackend(resolveOptions(input, context.path));
};
