export { z } from "zod";
export {
  backendBlock,
  backendPackages,
  configFromEnv,
  type LoadConfigOptions,
  loadConfig,
  mergeDeep,
  normalizeKeys,
  parseConfig,
  parseYamlConfig,
  type SecretConfig,
  type StrongboxConfig,
} from "./config.ts";
export { type CipherOptions, createCipher, type EncryptionKey, type SecretCipher } from "./crypto.ts";
export {
  describeCause,
  formatRef,
  isStrongboxError,
  StrongboxError,
  type StrongboxErrorCode,
  type StrongboxErrorContext,
} from "./errors.ts";
export { type AuditEvent, type AuditHook, withAudit } from "./features/audit.ts";
export { type CacheOptions, withCache } from "./features/cache.ts";
export { withDefaultTags } from "./features/default-tags.ts";
export { namespaceChain, withInheritance } from "./features/inheritance.ts";
export { type IsolationPolicy, isolated } from "./features/isolation.ts";
export { type ReadOnlyOptions, readOnly } from "./features/read-only.ts";
export {
  createSecretManager,
  type ManagerOptions,
  type Scope,
  type SecretManager,
  type TemplateFunction,
} from "./manager.ts";
export { type MemoryOptions, memory } from "./memory.ts";
export {
  type NameCodec,
  type NameCodecOptions,
  type NamingMode,
  type NamingRules,
  nameCodec,
  namingRules,
  validateRef,
} from "./naming.ts";
export { duration, parseOptions, tagsSchema } from "./options.ts";
export { cleanRef, matchesScope, matchesTags, refId } from "./refs.ts";
export { parseTemplate, type TemplateArgs, type TemplateCall } from "./template.ts";
export type {
  BackendContext,
  BackendFromConfig,
  Capabilities,
  GetOptions,
  ListQuery,
  PutOptions,
  Secret,
  SecretBackend,
  SecretEntry,
  SecretMetadata,
  SecretRef,
  Tags,
} from "./types.ts";
export { type SecretInput, SecretValue } from "./value.ts";
