import type { BackendFromConfig } from "@strongbox/core";
import { cyberark } from "./cyberark.ts";
import type { CyberArkOptions } from "./options.ts";

/**
 * Builds the backend from its configuration block (`secret.cyberark`, camelCase keys):
 * `address`, `account`, `username`, `password` or `apiKey`, `policyBranch`, `prefix`,
 * `naming`, `tags`, `manageVariables`, `retries`, `retryDelay`, `timeout`.
 */
export const fromConfig: BackendFromConfig = (options, context) =>
  cyberark(options as unknown as CyberArkOptions, context);

export { type CyberArkOptions, cyberark };
