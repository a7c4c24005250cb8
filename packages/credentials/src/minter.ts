import { isStrongboxError, SecretValue } from "@strongbox/core";
import { mintClientCredentials } from "./client-credentials.ts";
import type { CredentialConfig } from "./config.ts";
import { credentialError, type FailureContext, mintFailure, redact } from "./errors.ts";
import { mintGitHubApp } from "./github-app.ts";
import { mintJwtBearer } from "./jwt-bearer.ts";
import type { Minted, MintRequest } from "./mint.ts";
import { mintPrivateKeyJwt } from "./private-key-jwt.ts";
import type { AccessToken, CredentialScope, CredentialsManager } from "./types.ts";

function mintOf(config: CredentialConfig, request: MintRequest): Promise<Minted> {
  switch (config.type) {
    case "client_credentials":
      return mintClientCredentials(config, request);
    case "jwt_bearer":
      return mintJwtBearer(config, request);
    case "private_key_jwt":
      return mintPrivateKeyJwt(config, request);
    case "github_app":
      return mintGitHubApp(config, request);
  }
}

/** Where and what to mint. */
export interface MintTarget {
  /** The scope the credential's templates are rendered in. */
  scope: CredentialScope;
  context: FailureContext;
  /** The OAuth scope to request, normalized. */
  requested: string | undefined;
}

/**
 * Mints one token: renders the credential's fields through the manager (the
 * secrets live only for this call), calls the server, and wraps the result.
 * Every failure becomes a `StrongboxError` that holds none of the secrets.
 */
export async function mintToken(
  manager: CredentialsManager,
  config: CredentialConfig,
  target: MintTarget,
): Promise<AccessToken> {
  const { context } = target;
  // An empty scope lets the manager apply its own default scope.
  const scope =
    target.scope.tenant === undefined && target.scope.namespace === undefined ? undefined : target.scope;
  const secrets: string[] = [];
  const request: MintRequest = {
    scope: target.requested,
    secrets,
    context,
    async render(field, template, renderOptions) {
      let value: string;
      try {
        value = await manager.render(template, scope);
      } catch (error) {
        const code = isStrongboxError(error) ? error.code : "BACKEND";
        const reason = error instanceof Error ? error.message : String(error);
        throw credentialError(code, `cannot render ${field}: ${redact(reason, secrets)}`, context, error);
      }
      if (renderOptions?.sensitive === true) secrets.push(value);
      return value;
    },
  };
  try {
    const minted = await mintOf(config, request);
    const token: AccessToken = {
      value: SecretValue.from(minted.accessToken),
      tokenType: minted.tokenType,
      ...(minted.expiresAt === undefined ? {} : { expiresAt: minted.expiresAt }),
      ...(minted.scope === undefined ? {} : { scope: minted.scope }),
    };
    return Object.freeze(token);
  } catch (error) {
    throw await mintFailure(error, context, secrets);
  } finally {
    secrets.length = 0;
  }
}
