import {
  type BackendFromConfig,
  type Capabilities,
  type ListQuery,
  matchesScope,
  matchesTags,
  nameCodec,
  namingRules,
  parseOptions,
  type SecretBackend,
  type SecretEntry,
  StrongboxError,
} from "@strongbox/core";
import { type VaultAuth, vaultSession } from "./auth.ts";
import { buildNodeVault, vaultHttp } from "./client.ts";
import { type Operations, vaultOperations } from "./operations.ts";
import { type VaultOptions, vaultConfigSchema, vaultOptionsSchema } from "./options.ts";

const TYPE = "vault";
const KUBERNETES_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** A Vault backend: every optional method of the contract is there. */
export interface VaultBackend extends SecretBackend {
  put: NonNullable<SecretBackend["put"]>;
  delete: NonNullable<SecretBackend["delete"]>;
  list: NonNullable<SecretBackend["list"]>;
  close: NonNullable<SecretBackend["close"]>;
}

/**
 * A HashiCorp Vault KV backend (`type: vault`): KV v2 (default) or v1, at a mount
 * (`rootEngine`), in an Enterprise `namespace`, with token, userpass, AppRole or
 * Kubernetes auth. The value is the `value` field of the KV data; tags, the
 * description and the exact ref go to `custom_metadata` (KV v2). No network call
 * happens before the first operation.
 *
 * @example
 * const backend = vault({ address: "https://vault.internal:8200", appRole: { roleId, secretId } });
 * await backend.put({ namespace: "billing", key: "DB_PASSWORD" }, "hunter2", { tags: { team: "ops" } });
 */
export function vault(options: VaultOptions = {}): VaultBackend {
  const parsed = parseOptions(vaultOptionsSchema, options, TYPE, TYPE);
  const version = parsed.engineVersion ?? 2;
  const codec = nameCodec(namingRules.vault, {
    ...(parsed.prefix !== undefined && { prefix: parsed.prefix }),
    mode: parsed.naming ?? "scoped",
  });
  const auth = authOf(parsed);
  if (auth.method === "token" && auth.token === undefined && parsed.client?.token === undefined) {
    throw new StrongboxError(
      "INVALID_OPTIONS",
      "invalid options: vault: give one of token, user-pass, app-role, kubernetes (or set VAULT_TOKEN)",
      { backend: TYPE },
    );
  }
  const capabilities: Capabilities = {
    tags: true,
    tagFilter: "client",
    versions: version === 2,
    binary: true,
    description: true,
    checkAndSet: version === 2,
    // Raft entries top out near 1 MiB; base64 makes bytes a third bigger.
    maxValueBytes: 512 * 1024,
  };

  let ops: Operations | undefined;
  const operations = (): Operations => {
    if (ops !== undefined) return ops;
    const client =
      parsed.client ??
      buildNodeVault(
        parsed.address ?? process.env.VAULT_ADDR ?? "http://127.0.0.1:8200",
        parsed.namespace ?? process.env.VAULT_NAMESPACE,
      );
    const http = vaultHttp({
      client,
      maxRetries: parsed.maxRetries ?? 3,
      retryDelay: Number(parsed.retryDelay ?? 200),
      timeout: Number(parsed.timeout ?? 30_000),
    });
    const session = vaultSession(http, { auth, renew: parsed.renewToken ?? true, backend: TYPE });
    ops = vaultOperations({
      http,
      session,
      codec,
      version,
      mount: parsed.rootEngine ?? "secret",
      field: parsed.field ?? "value",
      softDelete: parsed.softDelete ?? false,
    });
    return ops;
  };

  return {
    type: TYPE,
    capabilities,
    get: (ref, getOptions) => operations().get(ref, getOptions),
    put: (ref, value, putOptions) => operations().put(ref, value, putOptions),
    delete: (ref) => operations().delete(ref),
    list: (query?: ListQuery): AsyncIterable<SecretEntry> => filtered(() => operations().list(query), query),
    async close() {
      ops = undefined;
    },
  };
}

async function* filtered(
  source: () => AsyncIterable<SecretEntry>,
  query: ListQuery | undefined,
): AsyncIterable<SecretEntry> {
  for await (const entry of source()) {
    if (matchesScope(entry.ref, query) && matchesTags(entry.tags, query?.tags)) yield entry;
  }
}

function authOf(options: VaultOptions): VaultAuth {
  if (options.userPass !== undefined) {
    const { username, password, mountPath } = options.userPass;
    return { method: "userpass", username, password, mountPath: mountPath ?? "userpass" };
  }
  if (options.appRole !== undefined) {
    const { roleId, secretId, mountPath } = options.appRole;
    return { method: "approle", roleId, secretId, mountPath: mountPath ?? "approle" };
  }
  if (options.kubernetes !== undefined) {
    return {
      method: "kubernetes",
      mountPath: options.kubernetes.mountPath ?? "kubernetes",
      tokenPath: options.kubernetes.tokenPath ?? KUBERNETES_TOKEN,
      role: options.kubernetes.role,
    };
  }
  const token = options.token ?? (options.client === undefined ? process.env.VAULT_TOKEN : undefined);
  return { method: "token", token: token === "" ? undefined : token };
}

/**
 * The configuration entry point (`type: vault`): the `vault` block with camelCase
 * keys, validated, with the configuration's prefix.
 */
export const fromConfig: BackendFromConfig = (options, context) => {
  // The block's default tags are the manager's to merge (withDefaultTags), not the adapter's.
  const { tags: _defaultTags, ...parsed } = parseOptions(vaultConfigSchema, options, context.path, TYPE);
  return vault({
    ...parsed,
    ...(parsed.prefix === undefined && context.prefix !== undefined && { prefix: context.prefix }),
  });
};
