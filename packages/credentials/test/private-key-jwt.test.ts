import type { SecretManager } from "@strongbox/core";
import { watchForLeaks } from "@strongbox/testing";
import { startHttpEmulator } from "@strongbox/testing/emulators/http";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCredentials } from "../src/index.ts";
import { type AuthorizationServer, startAuthorizationServer } from "./support/authorization-server.ts";
import { keyPair, newManager } from "./support/fixtures.ts";

describe("private_key_jwt client authentication (RFC 7523 section 2.2)", () => {
  let server: AuthorizationServer;
  let manager: SecretManager;
  const pems = new Map<string, string>();
  const publics = new Map<string, object>();
  let privateJwk = "";

  beforeAll(async () => {
    server = await startAuthorizationServer();
    for (const algorithm of ["RS256", "ES256", "PS256"] as const) {
      const keys = await keyPair(algorithm);
      pems.set(algorithm, keys.pem);
      publics.set(algorithm, keys.publicJwk);
      server.addClient({
        client_id: `client-${algorithm}`,
        token_endpoint_auth_method: "private_key_jwt",
        token_endpoint_auth_signing_alg: algorithm,
        jwks: { keys: [{ ...keys.publicJwk, kid: `kid-${algorithm}` }] },
        scope: "read",
      });
    }
    const jwkPair = await generateKeyPair("ES256", { extractable: true });
    privateJwk = JSON.stringify(await exportJWK(jwkPair.privateKey));
    server.addClient({
      client_id: "client-jwk",
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [await exportJWK(jwkPair.publicKey)] },
    });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    manager = await newManager();
    for (const [algorithm, pem] of pems) await manager.put({ key: `PEM_${algorithm}` }, pem);
    await manager.put({ key: "JWK" }, privateJwk);
  });

  const config = (algorithm: string, extra: Record<string, unknown> = {}) => ({
    type: "private_key_jwt",
    tokenEndpoint: server.tokenEndpoint,
    clientId: `client-${algorithm}`,
    privateKey: `{{ secret('PEM_${algorithm}') }}`,
    algorithm,
    keyId: `kid-${algorithm}`,
    scope: "read",
    allowInsecureRequests: true,
    ...extra,
  });

  it.each(["RS256", "ES256", "PS256"])(
    "mints a client_credentials token, the client signing %s",
    async (algorithm) => {
      const credentials = createCredentials(manager, { my_client: config(algorithm) });

      const token = await credentials.token("my_client");

      expect(token.tokenType).toBe("Bearer");
      expect(token.scope).toBe("read");
    },
  );

  it("keeps the client assertion out of the error when the server echoes it in its description", async () => {
    let seen = "";
    const echo = await startHttpEmulator((request) => {
      seen = new URLSearchParams(request.body.toString("utf8")).get("client_assertion") ?? "";
      return {
        status: 400,
        body: { error: "invalid_client", error_description: `client_assertion ${seen} was not accepted` },
      };
    });
    try {
      const credentials = createCredentials(manager, {
        my_client: config("RS256", { tokenEndpoint: `${echo.url}/token` }),
      });

      const error = await credentials.token("my_client").catch((reason: unknown) => reason);

      const leaks = watchForLeaks([seen]);
      leaks.check(error, "the error");
      leaks.stop();
      expect(seen).toMatch(/^ey/);
      expect(error).toMatchObject({ code: "ACCESS_DENIED", cause: { error: "invalid_client" } });
      expect(String((error as Error).message)).toContain("client_assertion ****** was not accepted");
    } finally {
      await echo.close();
    }
  });

  it("accepts the issuer as the assertion's audience", async () => {
    const credentials = createCredentials(manager, {
      my_client: config("RS256", { audience: server.issuer }),
    });

    const token = await credentials.token("my_client");

    expect(token.tokenType).toBe("Bearer");
  });

  it("signs with a private key kept as a JWK", async () => {
    const credentials = createCredentials(manager, {
      my_client: config("ES256", {
        clientId: "client-jwk",
        privateKey: "{{ secret('JWK') }}",
        keyId: undefined,
        scope: undefined,
      }),
    });

    const token = await credentials.token("my_client");

    expect(token.tokenType).toBe("Bearer");
  });

  it("reports a key the server does not know as invalid_client", async () => {
    const credentials = createCredentials(manager, {
      my_client: config("RS256", { clientId: "client-PS256", algorithm: "PS256" }),
    });

    const error = await credentials.token("my_client").catch((reason: unknown) => reason);

    expect(error).toMatchObject({ code: "ACCESS_DENIED", cause: { error: "invalid_client", status: 401 } });
  });

  it("reports a client revoked at the server as invalid_client", async () => {
    server.addClient({
      client_id: "short-lived",
      token_endpoint_auth_method: "private_key_jwt",
      jwks: { keys: [{ ...publics.get("RS256"), kid: "kid-RS256" }] },
    });
    const credentials = createCredentials(manager, {
      my_client: config("RS256", { clientId: "short-lived", scope: undefined }),
    });
    await credentials.test("my_client");

    server.revokeClient("short-lived");

    await expect(credentials.test("my_client")).rejects.toMatchObject({
      code: "ACCESS_DENIED",
      cause: { error: "invalid_client" },
    });
  });
});
