import * as oauth from "oauth4webapi";
import type { PrivateKeyJwtConfig } from "./config.ts";
import { importPrivateKey } from "./keys.ts";
import { callTokenEndpoint, type Minted, type MintRequest } from "./mint.ts";

/**
 * OAuth 2.0 `client_credentials` grant where the client authenticates with a
 * JWT signed by its private key (`private_key_jwt`, RFC 7523 section 2.2).
 */
export async function mintPrivateKeyJwt(config: PrivateKeyJwtConfig, request: MintRequest): Promise<Minted> {
  const clientId = await request.render("clientId", config.clientId);
  const pem = await request.render("privateKey", config.privateKey, { sensitive: true });
  const key = await importPrivateKey(pem, config.algorithm, request.context);
  const auth = oauth.PrivateKeyJwt(config.keyId === undefined ? { key } : { key, kid: config.keyId });
  return callTokenEndpoint(
    {
      ...config,
      audience: config.audience ?? config.tokenEndpoint,
      clientId,
      auth,
      grantType: "client_credentials",
      parameters: config.parameters,
    },
    request,
  );
}
