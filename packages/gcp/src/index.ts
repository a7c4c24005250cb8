import type { BackendFromConfig } from "@strongbox/core";
import { googleSecretManager } from "./google-secret-manager.ts";
import type { GoogleSecretManagerOptions } from "./options.ts";

/**
 * Builds the backend from its configuration block (`secret.google-secret-manager`, camelCase keys):
 * `project`, `serviceAccount`, `endpoint`, `prefix`, `naming`, `tags`, `readMetadata`, `retries`,
 * `retryDelay`, `timeout`. Validates it (`INVALID_OPTIONS` with the field path); no network call.
 */
export const fromConfig: BackendFromConfig = (options, context) =>
  googleSecretManager(options as GoogleSecretManagerOptions, context);

export { type GoogleSecretManagerOptions, googleSecretManager };
