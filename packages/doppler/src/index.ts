import type { BackendFromConfig } from "@strongbox/core";
import { createBackend } from "./doppler.ts";

export { type DopplerOptions, doppler } from "./doppler.ts";

/**
 * The entry point of `createSecretManager` for `type: doppler`: validates the
 * `secret.doppler` block (camelCase keys) and returns the backend.
 */
export const fromConfig: BackendFromConfig = (block, context) =>
  createBackend(
    context.prefix !== undefined && block.prefix === undefined && block.secretNamePrefix === undefined
      ? { ...block, prefix: context.prefix }
      : block,
    context.path,
  );
