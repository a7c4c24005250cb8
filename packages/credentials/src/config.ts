import { duration, parseOptions, z } from "@strongbox/core";
import type {
  ClientCredentialsOptions,
  GitHubAppOptions,
  JwtBearerOptions,
  PrivateKeyJwtOptions,
} from "./types.ts";

type Defaulted<T, K extends keyof T> = Omit<
  T,
  K | "refreshBeforeExpiry" | "timeout" | "assertionLifetime" | "appId" | "installationId"
> &
  Required<Pick<T, K>> & { refreshBeforeExpiry: number; timeout: number };

/** Validated configurations: defaults applied, durations in milliseconds. */
export type ClientCredentialsConfig = Defaulted<
  ClientCredentialsOptions,
  Common | "parameters" | "authMethod"
>;
export type JwtBearerConfig = Defaulted<
  JwtBearerOptions,
  Common | Signing | "parameters" | "authMethod" | "claims"
> & {
  assertionLifetime: number;
};
export type PrivateKeyJwtConfig = Defaulted<PrivateKeyJwtOptions, Common | Signing | "parameters">;
export type GitHubAppConfig = Defaulted<GitHubAppOptions, Common | Signing | "baseUrl"> & {
  appId: string;
  installationId: string;
};
export type CredentialConfig =
  | ClientCredentialsConfig
  | JwtBearerConfig
  | PrivateKeyJwtConfig
  | GitHubAppConfig;
type Common = "cache" | "allowInsecureRequests";
type Signing = "algorithm";

const algorithm = z.enum(["RS256", "ES256", "PS256"]);
const scopeInput = z.union([z.string(), z.array(z.string())]);
const id = z.union([z.string().min(1), z.number().int().nonnegative()]).transform(String);

// The documentation of each field is on the option interfaces in types.ts.
const common = {
  tenant: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  cache: z.boolean().default(true),
  refreshBeforeExpiry: duration.default(60_000),
  timeout: duration.default(10_000),
  allowInsecureRequests: z.boolean().default(false),
};

const oauth = {
  ...common,
  tokenEndpoint: z.url(),
  scope: scopeInput.optional(),
  parameters: z.record(z.string(), z.string()).default({}),
};

const authMethod = z.enum(["client_secret_basic", "client_secret_post"]).default("client_secret_basic");

const signing = {
  privateKey: z.string().min(1),
  keyId: z.string().min(1).optional(),
  algorithm: algorithm.default("RS256"),
};

const clientCredentials: z.ZodType<ClientCredentialsConfig> = z.strictObject({
  type: z.literal("client_credentials"),
  ...oauth,
  authMethod,
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
});

const jwtBearer: z.ZodType<JwtBearerConfig> = z.strictObject({
  type: z.literal("jwt_bearer"),
  ...oauth,
  ...signing,
  authMethod,
  issuer: z.string().min(1),
  subject: z.string().min(1).optional(),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  claims: z.record(z.string(), z.unknown()).default({}),
  assertionLifetime: duration.default(300_000),
  clientId: z.string().min(1).optional(),
  clientSecret: z.string().min(1).optional(),
});

const privateKeyJwt: z.ZodType<PrivateKeyJwtConfig> = z.strictObject({
  type: z.literal("private_key_jwt"),
  ...oauth,
  ...signing,
  clientId: z.string().min(1),
  audience: z.string().min(1).optional(),
});

const githubApp: z.ZodType<GitHubAppConfig> = z.strictObject({
  type: z.literal("github_app"),
  ...common,
  ...signing,
  algorithm: z.literal("RS256").default("RS256"),
  appId: id,
  installationId: id,
  baseUrl: z.url().default("https://api.github.com"),
  repositories: z.array(z.string().min(1)).optional(),
  permissions: z.record(z.string(), z.string()).optional(),
});

const schemas: Record<string, z.ZodType<CredentialConfig>> = {
  client_credentials: clientCredentials,
  jwt_bearer: jwtBearer,
  private_key_jwt: privateKeyJwt,
  github_app: githubApp,
};
const typeSchema = z.object({
  type: z.enum(["client_credentials", "jwt_bearer", "private_key_jwt", "github_app"]),
});

/** Validates the `credentials` block; a bad field fails with `INVALID_OPTIONS` and its path. */
export function parseCredentials(input: unknown): Map<string, CredentialConfig> {
  const block = parseOptions(
    z.record(z.string().min(1), z.record(z.string(), z.unknown())).default({}),
    input ?? {},
    "credentials",
    "credentials",
  );
  const out = new Map<string, CredentialConfig>();
  for (const [name, options] of Object.entries(block)) {
    const path = `credentials.${name}`;
    // The type first, so that a wrong type reads as one error rather than one per branch.
    const { type } = parseOptions(typeSchema, options, path, "credentials");
    out.set(name, parseOptions(schemas[type] as z.ZodType<CredentialConfig>, options, path, "credentials"));
  }
  return out;
}

/** Space-separated scope, sorted and de-duplicated (the cache key), or `undefined` when empty. */
export function normalizeScope(scope: string | readonly string[] | undefined): string | undefined {
  if (scope === undefined) return undefined;
  const parts = (
    typeof scope === "string" ? scope.split(" ") : scope.flatMap((part) => part.split(" "))
  ).filter((part) => part !== "");
  return parts.length === 0 ? undefined : [...new Set(parts)].sort().join(" ");
}
