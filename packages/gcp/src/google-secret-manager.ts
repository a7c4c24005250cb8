import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import {
  type BackendContext,
  type Capabilities,
  type NameCodec,
  nameCodec,
  namingRules,
  type SecretBackend,
  StrongboxError,
  validateRef,
} from "@strongbox/core";
import { buildClient, type CallContext, caller, toError } from "./client.ts";
import { type GoogleSecretManagerOptions, resolveOptions, TYPE } from "./options.ts";
import { listSecrets, readSecret } from "./read.ts";
import type { Store } from "./store.ts";
import { deleteSecret, writeSecret } from "./write.ts";

/**
 * Google Secret Manager (`type: google-secret-manager`). A secret is a Secret plus versions:
 * `put` adds a version (creating the secret when absent), `get` reads `latest` or a given
 * version, `delete` deletes the secret and its versions. Tags go to labels where they fit
 * Google's label rules and to an annotation otherwise; the exact ref is kept in an annotation.
 *
 * @example
 * const backend = googleSecretManager({ project: "my-project", prefix: "billing" });
 * await backend.put?.({ namespace: "company.team", key: "DB_PASSWORD" }, "hunter2");
 */
export function googleSecretManager(
  options: GoogleSecretManagerOptions = {},
  context: Partial<BackendContext> = {},
): SecretBackend {
  const path = context.path ?? `secret.${TYPE}`;
  const withPrefix = options.prefix === undefined && context.prefix !== undefined;
  const resolved = resolveOptions(withPrefix ? { ...options, prefix: context.prefix } : options, path);
  let codec: NameCodec;
  try {
    codec = nameCodec(namingRules.gcp, { prefix: resolved.prefix, mode: resolved.naming });
  } catch (error) {
    const message = `invalid options: ${path}.prefix: ${(error as Error).message}`;
    throw new StrongboxError("INVALID_OPTIONS", message, { backend: TYPE });
  }
  let client: SecretManagerServiceClient | undefined = resolved.client;
  let project: Promise<string> | undefined;
  const sdk = (): SecretManagerServiceClient => {
    client ??= buildClient(resolved);
    return client;
  };
  const parent = async (where: CallContext): Promise<string> => {
    project ??= (async () =>
      resolved.project ?? resolved.serviceAccount?.project_id ?? sdk().getProjectId())();
    try {
      return `projects/${await project}`;
    } catch (error) {
      project = undefined;
      throw toError(error, where, "set the project option");
    }
  };
  const store: Store = {
    call: caller(resolved),
    sdk,
    parent,
    async secretName(ref, operation) {
      validateRef(ref);
      return `${await parent({ operation, ref })}/secrets/${codec.encode(ref)}`;
    },
    codec,
    defaultTags: resolved.tags,
    readMetadata: resolved.readMetadata,
  };
  const capabilities: Capabilities = {
    tags: resolved.readMetadata,
    tagFilter: resolved.readMetadata ? "server" : "none",
    versions: true,
    binary: false,
    description: resolved.readMetadata,
    checkAndSet: false,
    maxValueBytes: 65_536,
  };

  return {
    type: TYPE,
    capabilities,
    get: (ref, getOptions) => readSecret(store, ref, getOptions),
    list: (query) => listSecrets(store, query),
    put: (ref, value, putOptions) => writeSecret(store, ref, value, putOptions),
    delete: (ref) => deleteSecret(store, ref),
    async close() {
      // A client the caller passed in is the caller's to close.
      if (client !== undefined && client !== resolved.client) await client.close();
      client = undefined;
    },
  };
}
