export { z } from "zod";
export { type CipherOptions, createCipher, type EncryptionKey, type SecretCipher } from "./crypto.ts";
export {
  describeCause,
  formatRef,
  isStrongboxError,
  StrongboxError,
  type StrongboxErrorCode,
  type StrongboxErrorContext,
} from "./errors.ts";
export { type ReadOnlyOptions, readOnly } from "./features/read-only.ts";
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
