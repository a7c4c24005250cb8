import { inspect } from "node:util";
import { createSecretManager, type SecretManager } from "@strongbox/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCredentials } from "../src/index.ts";
import { type AuthorizationServer, startAuthorizationServer } from "./support/authorization-server.ts";
import { newManager } from "./support/fixtures.ts";

const SECRET = "s3cr3t-client-value-0001";

describe("client_credentials", () => {
  let server: AuthorizationServer;
  let manager: SecretManager;

  beforeAll(async () => {
    server = await startAuthorizationServer();
    server.addClient({ client_id: "basic", client_secret: SECRET, scope: "read write" });
    server.addClient({
      client_id: "post",
      client_secret: SECRET,
      token_endpoint_auth_method: "client_secret_post",
      scope: "read",
    });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    manager = await newManager();
    await manager.put({ namespace: "company.team", key: "CLIENT_SECRET" }, SECRET);
  });

  const config = (clientId: string, extra: Record<string, unknown> = {}) => ({
    type: "client_credentials",
    tokenEndpoint: server.tokenEndpoint,
    clientId,
    clientSecret: "{{ secret('CLIENT_SECRET') }}",
    allowInsecureRequests: true,
    ...extra,
  });

  it("mints a token with the client secret in Basic auth, read through namespace inheritance", async () => {
    const credentials = createCredentials(manager, { my_oauth: config("basic") });

    const token = await credentials.token("my_oauth", { namespace: "company.team.etl", scope: "read" });

    expect(token.tokenType).toBe("Bearer");
    expect(token.value.reveal().length).toBeGreaterThan(10);
    expect(token.scope).toBe("read");
    expect(token.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 3500_000);
  });

  it("mints a token with the client secret in the body (client_secret_post)", async () => {
    const credentials = createCredentials(manager, {
      my_oauth: config("post", {
        authMethod: "client_secret_post",
        namespace: "company.team",
        scope: ["read"],
      }),
    });

    const token = await credentials.token("my_oauth");

    expect(token.scope).toBe("read");
  });

  it("prints a token as ****** however it is inspected", async () => {
    const credentials = createCredentials(manager, {
      my_oauth: config("basic", { namespace: "company.team" }),
    });

    const token = await credentials.token("my_oauth");

    const value = token.value.reveal();
    expect(inspect(token, { depth: 5 })).not.toContain(value);
    expect(JSON.stringify(token)).not.toContain(value);
    expect(String(token.value)).toBe("******");
  });

  it("picks up a rotated client secret from the backend at the next mint", async () => {
    const credentials = createCredentials(manager, {
      my_oauth: config("rotating", { namespace: "company.team", cache: false }),
    });
    server.addClient({ client_id: "rotating", client_secret: SECRET });
    await credentials.token("my_oauth");
    server.addClient({ client_id: "rotating", client_secret: "rotated-secret-0002" });

    const stale = await credentials.token("my_oauth").catch((error: unknown) => error);
    await manager.put({ namespace: "company.team", key: "CLIENT_SECRET" }, "rotated-secret-0002");
    const fresh = await credentials.token("my_oauth");

    expect(stale).toMatchObject({ code: "ACCESS_DENIED", cause: { error: "invalid_client" } });
    expect(fresh.tokenType).toBe("Bearer");
  });

  it("test() mints a fresh token and reports everything but its value", async () => {
    const credentials = createCredentials(manager, {
      my_oauth: config("basic", { namespace: "company.team" }),
    });
    await credentials.token("my_oauth");
    const before = server.tokenRequests();

    const result = await credentials.test("my_oauth");

    expect(server.tokenRequests()).toBe(before + 1);
    expect(Object.keys(result).sort()).toEqual(["expiresAt", "tokenType"]);
    expect(result.tokenType).toBe("Bearer");
  });

  it("renders {{ credential('NAME') }} beside {{ secret('NAME') }} in the caller's namespace", async () => {
    const credentials = createCredentials(manager, { my_oauth: config("basic") });
    const scope = { namespace: "company.team.etl" };

    const header = await manager.render("Bearer {{ credential('my_oauth', scope='write') }}", scope);
    const resolved = await manager.resolve(
      { auth: "{{ credential('my_oauth', scope='write') }}", raw: "{{ secret('CLIENT_SECRET') }}" },
      scope,
    );

    const token = await credentials.token("my_oauth", { ...scope, scope: "write" });
    expect(header).toBe(`Bearer ${token.value.reveal()}`);
    expect(resolved).toEqual({ auth: token.value.reveal(), raw: SECRET });
  });

  it("reads kebab-case credentials from the manager's configuration, names untouched", async () => {
    const configured = await createSecretManager({
      secret: { type: "memory" },
      credentials: {
        "My-OAuth": {
          type: "client_credentials",
          "token-endpoint": server.tokenEndpoint,
          "client-id": "basic",
          "client-secret": "{{ secret('CLIENT_SECRET') }}",
          "allow-insecure-requests": true,
          "refresh-before-expiry": "2m",
        },
      },
    });
    await configured.put({ key: "CLIENT_SECRET" }, SECRET);

    const credentials = createCredentials(configured, configured.config.credentials);
    const token = await credentials.token("My-OAuth");

    expect(credentials.names()).toEqual(["My-OAuth"]);
    expect(token.tokenType).toBe("Bearer");
  });

  it("renders the secrets in the manager's default scope when the caller gives none", async () => {
    const scoped = await createSecretManager(
      { secret: { type: "memory" } },
      { scope: { namespace: "company.team" } },
    );
    await scoped.put({ namespace: "company.team", key: "CLIENT_SECRET" }, SECRET);
    const credentials = createCredentials(scoped, { my_oauth: config("basic") });

    const token = await credentials.token("my_oauth");

    expect(token.tokenType).toBe("Bearer");
  });

  it("rejects {{ credential() }} without a name", async () => {
    createCredentials(manager, { my_oauth: config("basic") });

    await expect(manager.render("{{ credential() }}")).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });

  it("fails, rather than waiting forever, on a credential whose template calls credential() on itself", async () => {
    const credentials = createCredentials(manager, {
      loop: config("basic", { clientSecret: "{{ credential('loop') }}" }),
      ping: config("basic", { clientSecret: "{{ credential('pong') }}" }),
      pong: config("basic", { clientSecret: "{{ credential('ping') }}" }),
    });

    await expect(credentials.token("loop")).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
    await expect(credentials.token("ping")).rejects.toMatchObject({ code: "INVALID_OPTIONS" });
  });
});
