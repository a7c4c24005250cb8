import { generateKeyPairSync } from "node:crypto";
import type { SecretManager } from "@strongbox/core";
import { watchForLeaks } from "@strongbox/testing";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCredentials } from "../src/index.ts";
import {
  type AuthorizationServer,
  JWT_BEARER,
  startAuthorizationServer,
} from "./support/authorization-server.ts";
import { keyPair, newManager } from "./support/fixtures.ts";

const ISSUER = "etl-service@example.com";

describe("jwt_bearer (RFC 7523 section 2.1)", () => {
  let server: AuthorizationServer;
  let manager: SecretManager;
  const pems = new Map<string, string>();

  beforeAll(async () => {
    server = await startAuthorizationServer();
    server.addClient({
      client_id: "jwt-public",
      token_endpoint_auth_method: "none",
      grant_types: [JWT_BEARER],
      scope: "read write",
    });
    server.addClient({
      client_id: "jwt-confidential",
      client_secret: "jwt-client-secret",
      grant_types: [JWT_BEARER],
    });
    for (const algorithm of ["RS256", "ES256", "PS256"] as const) {
      const keys = await keyPair(algorithm);
      pems.set(algorithm, keys.pem);
      server.trust({
        issuer: `${algorithm}-${ISSUER}`,
        publicKey: keys.publicKey,
        subjects: ["robot", `${algorithm}-${ISSUER}`],
      });
    }
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    manager = await newManager();
    for (const [algorithm, pem] of pems)
      await manager.put({ namespace: "company", key: `PEM_${algorithm}` }, pem);
    await manager.put({ key: "JWT_CLIENT_SECRET" }, "jwt-client-secret");
  });

  const config = (algorithm: string, extra: Record<string, unknown> = {}) => ({
    type: "jwt_bearer",
    tokenEndpoint: server.tokenEndpoint,
    issuer: `${algorithm}-${ISSUER}`,
    subject: "robot",
    privateKey: `{{ secret('PEM_${algorithm}', namespace='company') }}`,
    algorithm,
    keyId: `key-${algorithm}`,
    claims: { scope: "read" },
    clientId: "jwt-public",
    allowInsecureRequests: true,
    ...extra,
  });

  it.each(["RS256", "ES256", "PS256"])("mints a token with an assertion signed %s", async (algorithm) => {
    const credentials = createCredentials(manager, { my_jwt: config(algorithm) });

    const token = await credentials.token("my_jwt", { namespace: "company.team", scope: "write" });

    const assertion = server.lastAssertion();
    expect(token.tokenType).toBe("Bearer");
    expect(token.scope).toBe("write");
    expect(assertion?.header).toMatchObject({ alg: algorithm, kid: `key-${algorithm}`, typ: "JWT" });
    expect(assertion?.payload).toMatchObject({
      iss: `${algorithm}-${ISSUER}`,
      sub: "robot",
      aud: server.tokenEndpoint,
      scope: "read",
    });
    expect((assertion?.payload.exp ?? 0) - (assertion?.payload.iat ?? 0)).toBe(300);
  });

  it("authenticates the client with its secret when one is configured", async () => {
    const credentials = createCredentials(manager, {
      my_jwt: config("RS256", {
        clientId: "jwt-confidential",
        clientSecret: "{{ secret('JWT_CLIENT_SECRET') }}",
      }),
    });

    const token = await credentials.token("my_jwt");

    expect(token.tokenType).toBe("Bearer");
  });

  it("defaults the subject to the issuer and honours assertionLifetime", async () => {
    const credentials = createCredentials(manager, {
      my_jwt: config("ES256", { subject: undefined, assertionLifetime: "2m" }),
    });

    await credentials.token("my_jwt");

    const payload = server.lastAssertion()?.payload;
    expect(payload?.sub).toBe(`ES256-${ISSUER}`);
    expect((payload?.exp ?? 0) - (payload?.iat ?? 0)).toBe(120);
  });

  it("reports an assertion the server does not trust as invalid_grant, without the key", async () => {
    const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const pem = stranger.privateKey.export({ format: "pem", type: "pkcs8" }).toString();
    await manager.put({ namespace: "company", key: "PEM_RS256" }, pem);
    const credentials = createCredentials(manager, { my_jwt: config("RS256") });
    const leaks = watchForLeaks([pem, pem.split("\n")[1] ?? pem]);

    const error = await credentials.token("my_jwt").catch((reason: unknown) => reason);

    leaks.check(error);
    leaks.stop();
    expect(error).toMatchObject({ code: "ACCESS_DENIED", cause: { error: "invalid_grant", status: 400 } });
  });

  it("fails with INVALID_OPTIONS, quoting none of it, when the secret is not a private key", async () => {
    await manager.put({ namespace: "company", key: "PEM_RS256" }, '{"not": "a key, but secret-ish text"}');
    const credentials = createCredentials(manager, { my_jwt: config("RS256") });
    const before = server.tokenRequests();
    const leaks = watchForLeaks(["secret-ish text"]);

    const error = await credentials.token("my_jwt").catch((reason: unknown) => reason);

    leaks.check(error);
    leaks.stop();
    expect(error).toMatchObject({ code: "INVALID_OPTIONS" });
    expect(server.tokenRequests()).toBe(before);
  });

  it("fails with INVALID_OPTIONS when a client secret comes without a client id", async () => {
    const credentials = createCredentials(manager, {
      my_jwt: config("RS256", { clientId: undefined, clientSecret: "{{ secret('JWT_CLIENT_SECRET') }}" }),
    });

    await expect(credentials.token("my_jwt")).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});
