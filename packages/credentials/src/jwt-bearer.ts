import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import * as oauth from "oauth4webapi";
import type { JwtBearerConfig } from "./config.ts";
import { credentialError } from "./errors.ts";
import { importPrivateKey } from "./keys.ts";
import { callTokenEndpoint, type Minted, type MintRequest, noClientAuth } from "./mint.ts";

const GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/**
 * OAuth 2.0 JWT bearer grant (RFC 7523 section 2.1): a JWT signed with the
 * private key is the grant. The client authenticates too when a client id
 * (and secret) is configured.
 */
export async function mintJwtBearer(config: JwtBearerConfig, request: MintRequest): Promise<Minted> {
  const pem = await request.render("privateKey", config.privateKey, { sensitive: true });
  const key = await importPrivateKey(pem, config.algorithm, request.context);
  const issuer = await request.render("issuer", config.issuer);
  const subject = config.subject === undefined ? issuer : await request.render("subject", config.subject);
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({ ...config.claims })
    .setProtectedHeader({
      alg: config.algorithm,
      typ: "JWT",
      ...(config.keyId === undefined ? {} : { kid: config.keyId }),
    })
    .setIssuer(issuer)
    .setSubject(subject)
    .setAudience(config.audience ?? config.tokenEndpoint)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.max(1, Math.floor(config.assertionLifetime / 1000)))
    .setJti(randomUUID())
    .sign(key);
  request.secrets.push(assertion);

  const clientId =
    config.clientId === undefined ? undefined : await request.render("clientId", config.clientId);
  let auth = noClientAuth;
  if (config.clientSecret !== undefined) {
    if (clientId === undefined) {
      throw credentialError("INVALID_OPTIONS", "clientSecret needs a clientId", request.context);
    }
    const secret = await request.render("clientSecret", config.clientSecret, { sensitive: true });
    auth =
      config.authMethod === "client_secret_post"
        ? oauth.ClientSecretPost(secret)
        : oauth.ClientSecretBasic(secret);
  } else if (clientId !== undefined) {
    auth = oauth.None();
  }
  return callTokenEndpoint(
    {
      tokenEndpoint: config.tokenEndpoint,
      timeout: config.timeout,
      allowInsecureRequests: config.allowInsecureRequests,
      // oauth4webapi needs an id even when none is sent; noClientAuth sends nothing.
      clientId: clientId ?? "jwt-bearer",
      auth,
      grantType: GRANT_TYPE,
      parameters: { ...config.parameters, assertion },
    },
    request,
  );
}
