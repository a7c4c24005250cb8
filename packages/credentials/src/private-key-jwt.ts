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
  const sign = oauth.PrivateKeyJwt(config.keyId === undefined ? { key } : { key, kid: config.keyId });
  // The client assertion oauth4webapi signs is a credential too (replayable until it expires):
  // kept out of errors like the other secrets, should the server echo it in a description.
  const auth: oauth.ClientAuth = async (as, client, body, headers) => {
    await sign(as, client, body, headers);
    const assertion = body.get("client_assertion");
    if (assertion !== null) request.secrets.push(assertion);
  };
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
