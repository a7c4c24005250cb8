import type { SecretManager } from "@strongbox/core";
import { strongboxRejection, watchForLeaks } from "@strongbox/testing";
import { type HttpEmulator, startHttpEmulator } from "@strongbox/testing/emulators/http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCredentials, TokenEndpointError } from "../src/index.ts";
import { type AuthorizationServer, startAuthorizationServer } from "./support/authorization-server.ts";
import { newManager } from "./support/fixtures.ts";

const SECRET = "errors-test-client-secret";
const LEAKY_TOKEN = "leaky-access-token-value-123";

describe("credential errors", () => {
  let server: AuthorizationServer;
  let upstream: HttpEmulator;
  let answer: { status: number; body: object };
  let manager: SecretManager;

  beforeAll(async () => {
    server = await startAuthorizationServer();
    server.addClient({ client_id: "etl", client_secret: SECRET, scope: "read" });
    upstream = await startHttpEmulator(() => answer);
  });
  afterAll(async () => {
    await server.close();
    await upstream.close();
  });
  beforeEach(async () => {
    upstream.faults.reset();
    manager = await newManager();
    await manager.put({ key: "CLIENT_SECRET" }, SECRET);
    await manager.put({ key: "WRONG_SECRET" }, "wrong-client-secret-value");
  });

  const config = (extra: Record<string, unknown> = {}) => ({
    type: "client_credentials",
    tokenEndpoint: server.tokenEndpoint,
    clientId: "etl",
    clientSecret: "{{ secret('CLIENT_SECRET') }}",
    allowInsecureRequests: true,
    ...extra,
  });

  it("reports a revoked client as ACCESS_DENIED with the OAuth error and its description", async () => {
    server.addClient({ client_id: "revoked", client_secret: SECRET });
    const credentials = createCredentials(manager, { my_oauth: config({ clientId: "revoked" }) });
    await credentials.token("my_oauth");
    server.revokeClient("revoked");
    const leaks = watchForLeaks([SECRET]);

    const error = await strongboxRejection(credentials.test("my_oauth"));

    leaks.check(error);
    leaks.stop();
    expect(error.code).toBe("ACCESS_DENIED");
    expect(error.message).toContain(
      'test "my_oauth" failed: invalid_client: client authentication failed (HTTP 401)',
    );
    expect(error.cause).toBeInstanceOf(TokenEndpointError);
    expect(error.cause).toMatchObject({ error: "invalid_client", status: 401 });
  });

  it("never puts the client secret in the error of a rejected secret, in the body or in Basic auth", async () => {
    const credentials = createCredentials(manager, {
      basic: config({ clientSecret: "{{ secret('WRONG_SECRET') }}" }),
      post: config({ clientSecret: "{{ secret('WRONG_SECRET') }}", authMethod: "client_secret_post" }),
    });
    const leaks = watchForLeaks([
      "wrong-client-secret-value",
      Buffer.from("etl:wrong%2Dclient%2Dsecret%2Dvalue").toString("base64"),
    ]);

    const basic = await strongboxRejection(credentials.token("basic"));
    const post = await strongboxRejection(credentials.token("post"));

    leaks.check(basic);
    leaks.check(post);
    leaks.stop();
    expect(basic.cause).toMatchObject({ error: "invalid_client" });
    expect(post.cause).toMatchObject({ error: "invalid_client" });
  });

  it("reports a scope the client may not have as invalid_scope", async () => {
    const credentials = createCredentials(manager, { my_oauth: config() });

    const error = await strongboxRejection(credentials.token("my_oauth", { scope: "admin" }));

    expect(error.code).toBe("ACCESS_DENIED");
    expect(error.cause).toMatchObject({ error: "invalid_scope" });
  });

  it("fails with NOT_FOUND and no token request when the client secret is missing", async () => {
    const credentials = createCredentials(manager, {
      my_oauth: config({ clientSecret: "{{ secret('ABSENT') }}" }),
    });
    const before = server.tokenRequests();

    const error = await strongboxRejection(credentials.token("my_oauth"));

    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain("cannot render clientSecret");
    expect(server.tokenRequests()).toBe(before);
  });

  it("fails with NOT_FOUND for a credential that is not configured", async () => {
    const credentials = createCredentials(manager, {});

    const error = await strongboxRejection(credentials.token("nope"));

    expect(error.code).toBe("NOT_FOUND");
    expect(error.message).toContain('"nope"');
  });

  it("refuses a caller outside the credential's tenant or namespace", async () => {
    const credentials = createCredentials(manager, {
      my_oauth: config({ tenant: "acme", namespace: "company.team" }),
    });

    const otherTenant = await strongboxRejection(credentials.token("my_oauth", { tenant: "globex" }));
    const sibling = await strongboxRejection(credentials.token("my_oauth", { namespace: "company.teams" }));
    const below = await credentials
      .token("my_oauth", { tenant: "acme", namespace: "company.team.etl" })
      .catch((e) => e);

    expect(otherTenant.code).toBe("ACCESS_DENIED");
    expect(sibling.code).toBe("ACCESS_DENIED");
    // Allowed through: it fails further on, because the secret is not in acme's namespace.
    expect(below).toMatchObject({ code: "NOT_FOUND" });
  });

  it("reports an unreachable token endpoint as UNAVAILABLE", async () => {
    const gone = await startHttpEmulator(() => ({ status: 200 }));
    await gone.close();
    const credentials = createCredentials(manager, {
      my_oauth: config({ tokenEndpoint: `${gone.url}/token` }),
    });

    const error = await strongboxRejection(credentials.token("my_oauth"));

    expect(error.code).toBe("UNAVAILABLE");
    expect(error.message).toContain("cannot reach the token endpoint");
  });

  it("reports a token endpoint slower than the timeout as UNAVAILABLE", async () => {
    upstream.faults.latencyMs = 2000;
    answer = { status: 200, body: { access_token: LEAKY_TOKEN, token_type: "Bearer" } };
    const credentials = createCredentials(manager, {
      my_oauth: config({ tokenEndpoint: `${upstream.url}/token`, timeout: "100ms" }),
    });

    const error = await strongboxRejection(credentials.token("my_oauth"));

    expect(error.code).toBe("UNAVAILABLE");
  });

  it("reports temporarily_unavailable from the server as UNAVAILABLE", async () => {
    answer = { status: 503, body: { error: "temporarily_unavailable", error_description: "try later" } };
    const credentials = createCredentials(manager, {
      my_oauth: config({ tokenEndpoint: `${upstream.url}/token` }),
    });

    const error = await strongboxRejection(credentials.token("my_oauth"));

    expect(error.code).toBe("UNAVAILABLE");
    expect(error.cause).toMatchObject({
      error: "temporarily_unavailable",
      description: "try later",
      status: 503,
    });
  });

  it.each([
    ["an unknown token_type", { access_token: LEAKY_TOKEN, token_type: "weird" }],
    ["a non-numeric expires_in", { access_token: LEAKY_TOKEN, token_type: "Bearer", expires_in: "soon" }],
  ])("reports an answer with %s as BACKEND without the token it holds", async (_label, body) => {
    answer = { status: 200, body };
    const credentials = createCredentials(manager, {
      my_oauth: config({ tokenEndpoint: `${upstream.url}/token` }),
    });
    const leaks = watchForLeaks([LEAKY_TOKEN, SECRET]);

    const error = await strongboxRejection(credentials.token("my_oauth"));

    leaks.check(error);
    leaks.stop();
    expect(error.code).toBe("BACKEND");
  });
});
