import type { SecretManager } from "@strongbox/core";
import { startHttpEmulator } from "@strongbox/testing/emulators/http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createCredentials, refreshTime } from "../src/index.ts";
import { type AuthorizationServer, startAuthorizationServer } from "./support/authorization-server.ts";
import { newManager } from "./support/fixtures.ts";

const SECRET = "cache-test-client-secret";

describe("token cache", () => {
  let server: AuthorizationServer;
  let manager: SecretManager;

  beforeAll(async () => {
    server = await startAuthorizationServer();
    server.addClient({ client_id: "etl", client_secret: SECRET, scope: "read write" });
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(async () => {
    manager = await newManager();
    await manager.put({ key: "CLIENT_SECRET" }, SECRET);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const config = (extra: Record<string, unknown> = {}) => ({
    type: "client_credentials",
    tokenEndpoint: server.tokenEndpoint,
    clientId: "etl",
    clientSecret: "{{ secret('CLIENT_SECRET') }}",
    allowInsecureRequests: true,
    ...extra,
  });

  it("makes one token request for 1000 concurrent token() calls", async () => {
    const credentials = createCredentials(manager, { my_oauth: config() });
    const before = server.tokenRequests();

    const tokens = await Promise.all(Array.from({ length: 1000 }, () => credentials.token("my_oauth")));

    expect(server.tokenRequests() - before).toBe(1);
    expect(new Set(tokens.map((token) => token.value.reveal())).size).toBe(1);
  });

  it("shares the request in flight even with the cache turned off, then mints again", async () => {
    const credentials = createCredentials(manager, { my_oauth: config() }, { cache: false });
    const before = server.tokenRequests();

    await Promise.all(Array.from({ length: 50 }, () => credentials.token("my_oauth")));
    await credentials.token("my_oauth");

    expect(server.tokenRequests() - before).toBe(2);
  });

  it("mints again at each call of a credential configured with cache: false", async () => {
    const credentials = createCredentials(manager, { off: config({ cache: false }), on: config() });
    const before = server.tokenRequests();

    await credentials.token("off");
    await credentials.token("off");
    await credentials.token("on");
    await credentials.token("on");

    expect(server.tokenRequests() - before).toBe(3);
  });

  it("refreshes a token refreshBeforeExpiry before it expires, not earlier", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const credentials = createCredentials(manager, { my_oauth: config({ refreshBeforeExpiry: "5m" }) });
    const first = await credentials.token("my_oauth");
    const before = server.tokenRequests();

    vi.setSystemTime(start + 3600_000 - 301_000);
    const cached = await credentials.token("my_oauth");
    vi.setSystemTime(start + 3600_000 - 299_000);
    const refreshed = await credentials.token("my_oauth");

    expect(cached.value.reveal()).toBe(first.value.reveal());
    expect(refreshed.value.reveal()).not.toBe(first.value.reveal());
    expect(server.tokenRequests() - before).toBe(1);
  });

  it("serves the old token while the server is unavailable in the refresh window, not after expiry", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const down = await startHttpEmulator(() => ({
      status: 200,
      body: { access_token: `token-${Date.now()}`, token_type: "Bearer", expires_in: 3600 },
    }));
    const credentials = createCredentials(manager, {
      my_oauth: config({ tokenEndpoint: `${down.url}/token`, allowInsecureRequests: true }),
    });
    try {
      const first = await credentials.token("my_oauth");
      down.faults.failNext(2, 503, { error: "temporarily_unavailable" });

      vi.setSystemTime(start + 3600_000 - 30_000);
      const stale = await credentials.token("my_oauth");
      vi.setSystemTime(start + 3600_000 + 1_000);
      const expired = await credentials.token("my_oauth").catch((error: unknown) => error);

      expect(stale.value.reveal()).toBe(first.value.reveal());
      expect(expired).toMatchObject({ code: "UNAVAILABLE" });
    } finally {
      await down.close();
    }
  });

  it("does not serve the old token when the client was revoked", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    server.addClient({ client_id: "soon-revoked", client_secret: SECRET });
    const credentials = createCredentials(manager, { my_oauth: config({ clientId: "soon-revoked" }) });
    await credentials.token("my_oauth");
    server.revokeClient("soon-revoked");

    vi.setSystemTime(start + 3600_000 - 30_000);

    await expect(credentials.token("my_oauth")).rejects.toMatchObject({
      code: "ACCESS_DENIED",
      cause: { error: "invalid_client" },
    });
  });

  it("keeps one token per requested scope, in any order of its parts", async () => {
    const credentials = createCredentials(manager, { my_oauth: config() });
    const before = server.tokenRequests();

    const read = await credentials.token("my_oauth", { scope: "read" });
    const both = await credentials.token("my_oauth", { scope: "read write" });
    const again = await credentials.token("my_oauth", { scope: ["write", "read"] });

    expect(both.value.reveal()).not.toBe(read.value.reveal());
    expect(again.value.reveal()).toBe(both.value.reveal());
    expect(server.tokenRequests() - before).toBe(2);
  });

  it("mints again after forget() of that credential, and only of that one", async () => {
    const credentials = createCredentials(manager, { first: config(), second: config() });
    const first = await credentials.token("first");
    const second = await credentials.token("second");

    credentials.forget("first");

    expect((await credentials.token("first")).value.reveal()).not.toBe(first.value.reveal());
    expect((await credentials.token("second")).value.reveal()).toBe(second.value.reveal());
  });

  it("forget() of one credential while another mints still caches the other's token", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let requests = 0;
    const slow = await startHttpEmulator(async () => {
      requests += 1;
      await gate;
      return {
        status: 200,
        body: { access_token: `slow-${requests}`, token_type: "Bearer", expires_in: 3600 },
      };
    });
    try {
      const credentials = createCredentials(manager, {
        slow: config({ tokenEndpoint: `${slow.url}/token` }),
        other: config(),
      });
      const pending = credentials.token("slow");
      await vi.waitFor(() => expect(requests).toBe(1));

      credentials.forget("other");
      release();
      const first = await pending;
      const again = await credentials.token("slow");

      expect(again.value.reveal()).toBe(first.value.reveal());
      expect(requests).toBe(1);
    } finally {
      release();
      await slow.close();
    }
  });

  it("forgets its tokens on close and refuses later calls", async () => {
    const credentials = createCredentials(manager, { my_oauth: config() });
    await credentials.token("my_oauth");

    credentials.close();

    await expect(credentials.token("my_oauth")).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("refreshes a token shorter-lived than the margin at half its lifetime", () => {
    expect(refreshTime(0, 30_000, 60_000)).toBe(15_000);
    expect(refreshTime(0, 3600_000, 60_000)).toBe(3540_000);
  });
});
