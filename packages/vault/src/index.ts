export type { NodeVaultClient, NodeVaultRequestOptions } from "./client.ts";
export type { VaultOptions } from "./options.ts";
export { fromConfig, type VaultBackend, vault } from "./vault.ts";
