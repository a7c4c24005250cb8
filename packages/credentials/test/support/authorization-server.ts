import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  jwtVerify,
} from "jose";
import Provider, { type Adapter, type AdapterPayload, type ClientMetadata, errors } from "oidc-provider";

export const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/** A trusted issuer of JWT bearer assertions and the key it signs with. */
export interface AssertionIssuer {
  issuer: string;
  publicKey: CryptoKey;
  /** Subjects it may assert. */
  subjects: string[];
}

/** oidc-provider on 127.0.0.1, with clients kept in memory so that tests add and revoke them. */
export interface AuthorizationServer {
  issuer: string;
  tokenEndpoint: string;
  /** Token requests received so far. */
  tokenRequests(): number;
  addClient(metadata: ClientMetadata): void;
  revokeClient(clientId: string): void;
  /** Trusts an assertion issuer for the JWT bearer grant. */
  trust(issuer: AssertionIssuer): void;
  /** The last JWT bearer assertion accepted. */
  lastAssertion(): { header: JWTHeaderParameters; payload: JWTPayload } | undefined;
  close(): Promise<void>;
}

/** Starts the server: `client_credentials` with client secrets and `private_key_jwt`, plus the JWT bearer grant. */
export async function startAuthorizationServer(): Promise<AuthorizationServer> {
  const stores = new Map<string, Map<string, AdapterPayload>>();
  const storeOf = (name: string) => {
    const store = stores.get(name) ?? new Map<string, AdapterPayload>();
    stores.set(name, store);
    return store;
  };
  const adapter = (name: string): Adapter => {
    const store = storeOf(name);
    return {
      async upsert(id, payload) {
        store.set(id, payload);
      },
      async find(id) {
        return store.get(id);
      },
      async findByUserCode() {
        return undefined;
      },
      async findByUid() {
        return undefined;
      },
      async consume(id) {
        const found = store.get(id);
        if (found !== undefined) found.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        store.delete(id);
      },
      async revokeByGrantId() {},
    };
  };

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tokenEndpoint = `${issuer}/token`;
  const signing = await generateKeyPair("RS256", { extractable: true });
  const provider = new Provider(issuer, {
    adapter,
    jwks: {
      keys: [{ ...(await exportJWK(signing.privateKey)), alg: "RS256", use: "sig", kid: "server" } as JWK],
    },
    cookies: { keys: ["not-a-secret-test-cookie-key"] },
    features: { clientCredentials: { enabled: true }, devInteractions: { enabled: false } },
    clientAuthMethods: ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
    enabledJWA: { clientAuthSigningAlgValues: ["RS256", "ES256", "PS256"] },
    scopes: ["read", "write", "admin"],
    ttl: { ClientCredentials: 3600 },
  });

  const issuers = new Map<string, AssertionIssuer>();
  let last: { header: JWTHeaderParameters; payload: JWTPayload } | undefined;
  provider.registerGrantType<{ assertion?: string }>(
    JWT_BEARER,
    async (ctx) => {
      const { assertion, scope } = ctx.oidc.params;
      if (typeof assertion !== "string") throw new errors.InvalidRequest("missing assertion");
      let verified: { header: JWTHeaderParameters; payload: JWTPayload };
      try {
        const [, body] = assertion.split(".");
        const claimed = JSON.parse(Buffer.from(body ?? "", "base64url").toString("utf8")) as JWTPayload;
        const trusted = issuers.get(String(claimed.iss));
        if (trusted === undefined) throw new Error("unknown issuer");
        const result = await jwtVerify(assertion, trusted.publicKey, {
          issuer: trusted.issuer,
          audience: [tokenEndpoint, issuer],
          requiredClaims: ["exp", "sub", "jti"],
        });
        if (!trusted.subjects.includes(String(result.payload.sub))) throw new Error("subject not allowed");
        verified = { header: result.protectedHeader, payload: result.payload };
      } catch (cause) {
        throw new errors.InvalidGrant(`invalid assertion: ${(cause as Error).message}`);
      }
      last = verified;
      const token = new provider.ClientCredentials({ client: ctx.oidc.client, scope: scope ?? undefined });
      const value = await token.save();
      ctx.body = {
        access_token: value,
        token_type: "Bearer",
        expires_in: token.expiration,
        scope: token.scope,
      };
    },
    ["assertion", "scope"],
  );

  let requests = 0;
  const callback = provider.callback();
  server.on("request", (req, res) => {
    if (req.method === "POST" && req.url?.startsWith("/token")) requests += 1;
    callback(req, res);
  });

  return {
    issuer,
    tokenEndpoint,
    tokenRequests: () => requests,
    addClient(metadata) {
      storeOf("Client").set(metadata.client_id, {
        redirect_uris: [],
        response_types: [],
        grant_types: ["client_credentials"],
        ...metadata,
      } as AdapterPayload);
    },
    revokeClient(clientId) {
      storeOf("Client").delete(clientId);
    },
    trust(trusted) {
      issuers.set(trusted.issuer, trusted);
    },
    lastAssertion: () => last,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
