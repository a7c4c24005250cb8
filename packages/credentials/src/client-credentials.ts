import * as oauth from "oauth4webapi";
import type { ClientCredentialsConfig } from "./config.ts";
import { callTokenEndpoint, type Minted, type MintRequest } from "./mint.ts";

/** OAuth 2.0 `client_credentials` grant with the client secret in Basic auth or in the body. */
export async function mintClientCredentials(
  config: ClientCredentialsConfig,
  request: MintRequest,
): Promise<Minted> {
  const clientId = await request.render("clientId", config.clientId);
  const secret = await request.render("clientSecret", config.clientSecret, { sensitive: true });
  const auth =
    config.authMethod === "client_secret_post"
      ? oauth.ClientSecretPost(secret)
      : oauth.ClientSecretBasic(secret);
  return callTokenEndpoint(
    { ...config, clientId, auth, grantType: "client_credentials", parameters: config.parameters },
    request,
  );
}
