export { type CachePolicy, refreshTime } from "./cache.ts";
export {
  type CreateCredentialsOptions,
  type Credentials,
  createCredentials,
} from "./credentials.ts";
export { TokenEndpointError } from "./errors.ts";
export type {
  AccessToken,
  ClientCredentialsOptions,
  ClientSecretMethod,
  CommonCredentialOptions,
  CredentialOptions,
  CredentialScope,
  CredentialsManager,
  CredentialTestResult,
  CredentialType,
  Duration,
  GitHubAppOptions,
  JwtBearerOptions,
  OAuthCredentialOptions,
  PrivateKeyJwtOptions,
  SigningOptions,
  TemplateArguments,
  TokenOptions,
} from "./types.ts";
