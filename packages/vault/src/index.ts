export type { NodeVaultClient } from "./client.ts";
export type { VaultOptions } from "./options.ts";
export { fromConfig, vault } from "./vault.ts";
