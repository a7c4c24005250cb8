import type { SecretManager } from "@strongbox/core";
import { type HttpEmulator, startHttpEmulator } from "@strongbox/testing/emulators/http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCredentials } from "../src/index.ts";
import { newManager } from "./support/fixtures.ts";

describe("credentials configuration", () => {
  let endpoint: HttpEmulator;
  let manager: SecretManager;
  let lastBody = new URLSearchParams();

  beforeAll(async () => {
    endpoint = await startHttpEmulator((request) => {
      lastBody = new URLSearchParams(request.body.toString("utf8"));
      return {
        status: 200,
        body: { access_token: "from-the-emulator", token_type: "bearer", expires_in: 60 },
      };
    });
  });
  afterAll(async () => {
    await endpoint.close();
  });
  beforeEach(async () => {
    manager = await newManager();
    await manager.put({ key: "CLIENT_SECRET" }, "config-client-secret");
  });

  const valid = () => ({
    type: "client_credentials",
    tokenEndpoint: `${endpoint.url}/token`,
    clientId: "etl",
    clientSecret: "{{ secret('CLIENT_SECRET') }}",
    allowInsecureRequests: true,
  });

  it("lists the configured names and calls nothing before the first token()", () => {
    const before = endpoint.requests.length;

    const credentials = createCredentials(manager, { first: valid(), "second.one": valid() });

    expect(credentials.names()).toEqual(["first", "second.one"]);
    expect(endpoint.requests.length).toBe(before);
  });

  it.each([
    ["a bad token endpoint", { tokenEndpoint: "not a url" }, "credentials.my_oauth.tokenEndpoint"],
    ["an unknown field", { clientSecrett: "x" }, 'credentials.my_oauth: unknown option "clientSecrett"'],
    ["a bad duration", { refreshBeforeExpiry: "soon" }, "credentials.my_oauth.refreshBeforeExpiry"],
    ["an unknown type", { type: "saml" }, "credentials.my_oauth.type"],
    ["a missing client secret", { clientSecret: undefined }, "credentials.my_oauth.clientSecret"],
  ])("rejects %s with INVALID_OPTIONS and the field path", (_label, change, path) => {
    const build = () =>
      createCredentials(manager, { my_oauth: { ...valid(), ...change, clientId: "literal-value-1" } });

    expect(build).toThrow(
      expect.objectContaining({ code: "INVALID_OPTIONS", message: expect.stringContaining(path) }),
    );
  });

  it("never echoes a literal client secret in a configuration error", () => {
    const build = () =>
      createCredentials(manager, {
        my_oauth: { ...valid(), clientSecret: "inline-secret-value", timeout: "never" },
      });

    expect(build).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("inline-secret-value") }),
    );
  });

  it("accepts ISO durations and a numeric GitHub installation id", () => {
    const build = () =>
      createCredentials(manager, {
        oauth: { ...valid(), refreshBeforeExpiry: "PT2M", timeout: 5000 },
        gh: { type: "github_app", appId: 1, installationId: 2, privateKey: "{{ secret('PEM') }}" },
      });

    expect(build().names()).toEqual(["oauth", "gh"]);
  });

  it("accepts a token endpoint answering token_type in lowercase and spells it Bearer", async () => {
    const credentials = createCredentials(manager, { my_oauth: valid() });

    const token = await credentials.token("my_oauth");

    expect(token.tokenType).toBe("Bearer");
    expect(token.value.reveal()).toBe("from-the-emulator");
  });

  it("sends the extra parameters and the scope in the form, the secret in Basic auth only", async () => {
    const credentials = createCredentials(manager, {
      my_oauth: { ...valid(), scope: "b a", parameters: { audience: "https://api.example.com" } },
    });

    await credentials.token("my_oauth");

    const headers = endpoint.requests.at(-1)?.headers;
    expect(Object.fromEntries(lastBody)).toEqual({
      grant_type: "client_credentials",
      scope: "a b",
      audience: "https://api.example.com",
    });
    // RFC 6749 section 2.3.1: id and secret are form-encoded before Basic.
    const basic = Buffer.from(String(headers?.authorization).replace(/^Basic /, ""), "base64").toString(
      "utf8",
    );
    expect(basic.split(":").map(decodeURIComponent)).toEqual(["etl", "config-client-secret"]);
  });

  it("refuses plain http unless allowInsecureRequests is set", async () => {
    const credentials = createCredentials(manager, {
      my_oauth: { ...valid(), allowInsecureRequests: false },
    });
    const before = endpoint.requests.length;

    await expect(credentials.token("my_oauth")).rejects.toMatchObject({
      code: "INVALID_OPTIONS",
      message: expect.stringContaining("allowInsecureRequests"),
    });
    expect(endpoint.requests.length).toBe(before);
  });
});
