import { AsyncLocalStorage } from "node:async_hooks";
import { type CachePolicy, tokenCache } from "./cache.ts";
import { type CredentialConfig, normalizeScope, parseCredentials } from "./config.ts";
import { credentialError, type FailureContext } from "./errors.ts";
import { mintToken } from "./minter.ts";
import type {
  AccessToken,
  CredentialScope,
  CredentialsManager,
  CredentialTestResult,
  TokenOptions,
} from "./types.ts";

/** Options of {@link createCredentials}. */
export interface CreateCredentialsOptions {
  /** Cache tokens in memory (each credential may still turn it off with `cache: false`). @default true */
  cache?: boolean;
}

/** Access tokens of the configured credentials, by name. */
export interface Credentials {
  /** The current access token of a credential: from the cache, or minted now. */
  token(name: string, options?: TokenOptions): Promise<AccessToken>;
  /** Mints a fresh token (bypassing the cache) to check the credential works; never returns the token. */
  test(name: string, options?: TokenOptions): Promise<CredentialTestResult>;
  /** The names of the configured credentials. */
  names(): string[];
  /** Drops the cached tokens of one credential (all when omitted), e.g. after an API rejected one. */
  forget(name?: string): void;
  /** Forgets every cached token; later calls fail. */
  close(): void;
}

const SEPARATOR = "\0";

function defaultScope(config: CredentialConfig): string | string[] | undefined {
  return config.type === "github_app" ? undefined : config.scope;
}

/**
 * Mints OAuth 2.0 and GitHub App access tokens from secrets. Each credential's
 * sensitive fields are templates (`{{ secret('CLIENT_SECRET') }}`) rendered by
 * the manager at mint time in the caller's tenant and namespace, and never kept;
 * tokens are kept in memory only, until `refreshBeforeExpiry` before they expire.
 * Also registers the `credential('NAME')` template function on the manager.
 * Nothing is fetched before the first `token`.
 *
 * @example
 * const credentials = createCredentials(manager, {
 *   my_oauth: {
 *     type: "client_credentials",
 *     tokenEndpoint: "https://auth.example.com/oauth/token",
 *     clientId: "etl",
 *     clientSecret: "{{ secret('CLIENT_SECRET') }}",
 *   },
 * });
 * const token = await credentials.token("my_oauth", { namespace: "company.team", scope: "read" });
 * fetch(url, { headers: { authorization: `${token.tokenType} ${token.value.reveal()}` } });
 */
export function createCredentials(
  manager: CredentialsManager,
  config: Record<string, unknown> | undefined,
  options: CreateCredentialsOptions = {},
): Credentials {
  const configs = parseCredentials(config);
  const cache = tokenCache();
  let closed = false;
  // The credentials being minted in this async context: a credential whose templates call
  // credential() on itself (directly or not) would otherwise wait for itself forever.
  const minting = new AsyncLocalStorage<ReadonlySet<string>>();

  const lookup = (name: string, scope: CredentialScope, operation: string) => {
    const context: FailureContext = { name, operation, ...scope };
    if (closed) throw credentialError("UNAVAILABLE", "credentials are closed", context);
    if (minting.getStore()?.has(name)) {
      const message = "its templates refer to the credential itself through credential()";
      throw credentialError("INVALID_OPTIONS", message, context);
    }
    const found = configs.get(name);
    if (found === undefined) throw credentialError("NOT_FOUND", "no such credential", context);
    if (found.tenant !== undefined && scope.tenant !== undefined && scope.tenant !== found.tenant) {
      throw credentialError("ACCESS_DENIED", "the credential belongs to another tenant", context);
    }
    const ns = found.namespace;
    if (
      ns !== undefined &&
      scope.namespace !== undefined &&
      scope.namespace !== ns &&
      !scope.namespace.startsWith(`${ns}.`)
    ) {
      throw credentialError(
        "ACCESS_DENIED",
        `the credential is visible in namespace ${ns} and below only`,
        context,
      );
    }
    const effective: CredentialScope = {};
    const tenant = scope.tenant ?? found.tenant;
    const namespace = scope.namespace ?? found.namespace;
    if (tenant !== undefined) effective.tenant = tenant;
    if (namespace !== undefined) effective.namespace = namespace;
    return { config: found, scope: effective, context: { name, operation, ...effective } };
  };

  const mintNow = (
    config: CredentialConfig,
    scope: CredentialScope,
    context: FailureContext,
    requested: string | undefined,
  ): Promise<AccessToken> => {
    const inner = new Set(minting.getStore()).add(context.name);
    return minting.run(inner, () => mintToken(manager, config, { scope, context, requested }));
  };

  const credentials: Credentials = {
    token(name, tokenOptions = {}) {
      try {
        const { config, scope, context } = lookup(name, tokenOptions, "token");
        const requested = normalizeScope(tokenOptions.scope ?? defaultScope(config));
        const policy: CachePolicy = {
          cache: options.cache !== false && config.cache,
          refreshBeforeExpiry: config.refreshBeforeExpiry,
        };
        const key = [name, scope.tenant ?? "", scope.namespace ?? "", requested ?? ""].join(SEPARATOR);
        return cache.get(key, () => mintNow(config, scope, context, requested), policy);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async test(name, tokenOptions = {}) {
      const { config, scope, context } = lookup(name, tokenOptions, "test");
      const token = await mintNow(
        config,
        scope,
        context,
        normalizeScope(tokenOptions.scope ?? defaultScope(config)),
      );
      const result: CredentialTestResult = { tokenType: token.tokenType };
      if (token.expiresAt !== undefined) result.expiresAt = token.expiresAt;
      if (token.scope !== undefined) result.scope = token.scope;
      return result;
    },
    names() {
      return [...configs.keys()];
    },
    forget(name) {
      cache.clear(name === undefined ? undefined : `${name}${SEPARATOR}`);
    },
    close() {
      closed = true;
      cache.clear();
    },
  };

  manager.registerTemplateFunction("credential", async ({ positional, named }, scope) => {
    const name = positional[0];
    if (name === undefined) {
      throw credentialError("INVALID_OPTIONS", "credential() needs a name", {
        name: "",
        operation: "render",
      });
    }
    const token = await credentials.token(name, {
      ...scope,
      ...(named.scope === undefined ? {} : { scope: named.scope }),
    });
    return token.value.reveal();
  });
  return credentials;
}
