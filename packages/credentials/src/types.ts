import type { SecretValue } from "@strongbox/core";

/** A duration: milliseconds, or text such as `"60s"`, `"5m"`, `"PT1M"`. */
export type Duration = number | string;

/** Fields every credential type accepts. */
export interface CommonCredentialOptions {
  /** Only callers of this tenant may use the credential; its secrets are rendered in it when the caller gives none. */
  tenant?: string;
  /** Only callers in this namespace or below may use it; the namespace its secrets are rendered in when the caller gives none. */
  namespace?: string;
  /** Keep minted tokens in memory until shortly before they expire. @default true */
  cache?: boolean;
  /** How long before its expiry a cached token is replaced (at most half its lifetime). @default "60s" */
  refreshBeforeExpiry?: Duration;
  /** Time limit of one call to the token endpoint. @default "10s" */
  timeout?: Duration;
  /** Accept `http://` endpoints: local development and tests only. @default false */
  allowInsecureRequests?: boolean;
}

/** Fields of the OAuth 2.0 credential types. */
export interface OAuthCredentialOptions extends CommonCredentialOptions {
  /** The authorization server's token endpoint. */
  tokenEndpoint: string;
  /** Scope requested when the caller gives none (space-separated text or a list). */
  scope?: string | string[];
  /** Extra form parameters of the token request (`audience`, `resource`...). @default {} */
  parameters?: Record<string, string>;
}

/** Fields of the types that sign a JWT with a private key. */
export interface SigningOptions {
  /** The private key (PEM: PKCS#8, PKCS#1 or SEC1; or a JWK as JSON), usually `{{ secret('PEM') }}`. Rendered at each mint, never kept. */
  privateKey: string;
  /** `kid` header of the signed JWT. */
  keyId?: string;
  /** Signature algorithm. @default "RS256" */
  algorithm?: "RS256" | "ES256" | "PS256";
}

/** How a client secret is sent to the token endpoint. */
export type ClientSecretMethod = "client_secret_basic" | "client_secret_post";

/** OAuth 2.0 `client_credentials` grant, authenticated with a client secret. */
export interface ClientCredentialsOptions extends OAuthCredentialOptions {
  type: "client_credentials";
  clientId: string;
  /** Usually `{{ secret('CLIENT_SECRET') }}`: rendered at each mint, never kept. */
  clientSecret: string;
  /** How the client secret is sent. @default "client_secret_basic" */
  authMethod?: ClientSecretMethod;
}

/** OAuth 2.0 JWT bearer grant (RFC 7523 section 2.1): a signed assertion is the grant. */
export interface JwtBearerOptions extends OAuthCredentialOptions, SigningOptions {
  type: "jwt_bearer";
  /** `iss` of the assertion. */
  issuer: string;
  /** `sub` of the assertion. @default the issuer */
  subject?: string;
  /** `aud` of the assertion. @default the token endpoint */
  audience?: string | string[];
  /** Additional claims of the assertion (`scope`, ...). @default {} */
  claims?: Record<string, unknown>;
  /** Lifetime of the assertion. @default "5m" */
  assertionLifetime?: Duration;
  /** Client id, when the server also identifies the client (optional in RFC 7523). */
  clientId?: string;
  /** Client secret, when the server also authenticates the client. */
  clientSecret?: string;
  /** How the client secret is sent, if any. @default "client_secret_basic" */
  authMethod?: ClientSecretMethod;
}

/** OAuth 2.0 `client_credentials` grant with `private_key_jwt` client authentication (RFC 7523 section 2.2). */
export interface PrivateKeyJwtOptions extends OAuthCredentialOptions, SigningOptions {
  type: "private_key_jwt";
  clientId: string;
  /** `aud` of the client assertion. @default the token endpoint */
  audience?: string;
}

/** GitHub App: an app JWT (RS256), exchanged for an installation access token. */
export interface GitHubAppOptions extends CommonCredentialOptions, SigningOptions {
  type: "github_app";
  /** The GitHub App's id (the `iss` of the app JWT). */
  appId: string | number;
  /** The installation whose access token is minted. */
  installationId: string | number;
  /** REST API root (GitHub Enterprise Server: `https://HOST/api/v3`). @default "https://api.github.com" */
  baseUrl?: string;
  /** Restrict the token to these repositories: names (`api`) or full names (`octo/api`, the owner is dropped: GitHub takes names). */
  repositories?: string[];
  /** Restrict the token to these permissions (`{ contents: "read" }`). */
  permissions?: Record<string, string>;
}

/** The configuration of one credential (camelCase keys). */
export type CredentialOptions =
  | ClientCredentialsOptions
  | JwtBearerOptions
  | PrivateKeyJwtOptions
  | GitHubAppOptions;

/** The credential types. */
export type CredentialType = CredentialOptions["type"];

/** A current access token. Its value prints as `******`. */
export interface AccessToken {
  readonly value: SecretValue;
  /** `Bearer`, `DPoP`, `token` (GitHub)... */
  readonly tokenType: string;
  readonly expiresAt?: Date;
  /** The scope granted, when the server says. */
  readonly scope?: string;
}

/** What `test` reports: everything about the minted token but its value. */
export interface CredentialTestResult {
  tokenType: string;
  expiresAt?: Date;
  scope?: string;
}

/** Where a caller runs: the scope its secrets are rendered in. */
export interface CredentialScope {
  tenant?: string;
  namespace?: string;
}

/** Options of `token`. */
export interface TokenOptions extends CredentialScope {
  /** Scope to request instead of the configured one. */
  scope?: string | string[];
}

/** The arguments of a template function: `credential('NAME', scope='a b')`. */
export interface TemplateArguments {
  positional: string[];
  named: Record<string, string>;
}

/** The part of the secret manager that credentials use. */
export interface CredentialsManager {
  render(template: string, scope?: CredentialScope): Promise<string>;
  registerTemplateFunction(
    name: string,
    fn: (args: TemplateArguments, scope: CredentialScope) => Promise<string>,
  ): void;
}
