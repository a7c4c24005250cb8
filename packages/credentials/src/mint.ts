import * as oauth from "oauth4webapi";
import type { FailureContext } from "./errors.ts";

/** What a mint returns: the token and what the server said about it. */
export interface Minted {
  accessToken: string;
  tokenType: string;
  /** Absolute expiry, when the server gave one. */
  expiresAt?: Date;
  scope?: string;
}

/** What a credential type's mint function receives. */
export interface MintRequest {
  /** Scope to request (normalized), if any. */
  scope: string | undefined;
  /** Renders a field of the configuration (`{{ secret('X') }}`) in the caller's scope. */
  render(field: string, template: string, options?: { sensitive?: boolean }): Promise<string>;
  /** Values to keep out of any error: rendered secrets, assertions. */
  secrets: string[];
  context: FailureContext;
}

/** Transport settings shared by every type. */
export interface Transport {
  timeout: number;
  allowInsecureRequests: boolean;
}

/** Fetch options of oauth4webapi: time limit and, for local servers, `http://`. */
export function httpOptions(transport: Transport): {
  signal: AbortSignal;
  [oauth.allowInsecureRequests]: boolean;
} {
  return {
    signal: AbortSignal.timeout(transport.timeout),
    [oauth.allowInsecureRequests]: transport.allowInsecureRequests,
  };
}

/** A client authentication that adds nothing (JWT bearer grant without client authentication). */
export const noClientAuth: oauth.ClientAuth = () => {};

/** Settings of one call to a token endpoint. */
export interface TokenCall extends Transport {
  tokenEndpoint: string;
  /** `aud` of client assertions (oauth4webapi uses the issuer). @default the token endpoint */
  audience?: string;
  clientId: string;
  auth: oauth.ClientAuth;
  grantType: string;
  parameters: Record<string, string>;
}

/** Calls a token endpoint through oauth4webapi and checks its answer. */
export async function callTokenEndpoint(call: TokenCall, request: MintRequest): Promise<Minted> {
  const as: oauth.AuthorizationServer = {
    issuer: call.audience ?? call.tokenEndpoint,
    token_endpoint: call.tokenEndpoint,
  };
  const client: oauth.Client = { client_id: call.clientId };
  const parameters = new URLSearchParams(call.parameters);
  if (request.scope !== undefined) parameters.set("scope", request.scope);
  const startedAt = Date.now();
  let result: oauth.TokenEndpointResponse;
  if (call.grantType === "client_credentials") {
    const response = await oauth.clientCredentialsGrantRequest(
      as,
      client,
      call.auth,
      parameters,
      httpOptions(call),
    );
    result = await oauth.processClientCredentialsResponse(as, client, response);
  } else {
    const response = await oauth.genericTokenEndpointRequest(
      as,
      client,
      call.auth,
      call.grantType,
      parameters,
      httpOptions(call),
    );
    result = await oauth.processGenericTokenEndpointResponse(as, client, response);
  }
  return {
    accessToken: result.access_token,
    // oauth4webapi lowercases the type; `Bearer` is how the header spells it.
    tokenType:
      result.token_type === "bearer" ? "Bearer" : result.token_type === "dpop" ? "DPoP" : result.token_type,
    ...(result.expires_in === undefined ? {} : { expiresAt: new Date(startedAt + result.expires_in * 1000) }),
    ...(result.scope === undefined ? {} : { scope: result.scope }),
  };
}
