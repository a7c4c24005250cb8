import type { BackendFromConfig } from "@strongbox/core";
import { onePassword } from "./onepassword.ts";
import type { OnePasswordOptions } from "./options.ts";

/**
 * Builds the backend from its configuration block (`secret.1password`, camelCase keys):
 * `address`, `token`, `vaultId`, `prefix`, `naming`, `tags`, `retries`, `retryDelay`, `timeout`.
 */
export const fromConfig: BackendFromConfig = (options, context) =>
  onePassword(options as unknown as OnePasswordOptions, context);

export { type OnePasswordOptions, onePassword };
