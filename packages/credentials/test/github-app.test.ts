import { generateKeyPairSync } from "node:crypto";
import type { SecretManager } from "@strongbox/core";
import { watchForLeaks } from "@strongbox/testing";
import { type GitHubEmulator, startGitHubEmulator } from "@strongbox/testing/emulators/github";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createCredentials } from "../src/index.ts";
import { newManager } from "./support/fixtures.ts";

const APP_ID = 314;

function rsaPkcs1(): { pem: string; publicPem: string } {
  // GitHub hands out App keys as PKCS#1 ("BEGIN RSA PRIVATE KEY").
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    pem: privateKey.export({ format: "pem", type: "pkcs1" }).toString(),
    publicPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
  };
}

describe("github_app", () => {
  const app = rsaPkcs1();
  const stranger = rsaPkcs1();
  let github: GitHubEmulator;
  let manager: SecretManager;

  beforeAll(async () => {
    github = await startGitHubEmulator();
    github.addApp({ id: APP_ID, publicKey: app.publicPem });
  });
  afterAll(async () => {
    await github.close();
  });
  beforeEach(async () => {
    github.faults.reset();
    github.addInstallation({
      id: 7,
      appId: APP_ID,
      repositories: ["octo/api"],
      permissions: { contents: "read" },
    });
    manager = await newManager();
    await manager.put({ namespace: "company", key: "GITHUB_APP_PEM" }, app.pem);
    await manager.put({ key: "STRANGER_PEM" }, stranger.pem);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const config = (extra: Record<string, unknown> = {}) => ({
    type: "github_app",
    baseUrl: github.url,
    appId: APP_ID,
    installationId: 7,
    privateKey: "{{ secret('GITHUB_APP_PEM') }}",
    allowInsecureRequests: true,
    ...extra,
  });
  const scope = { namespace: "company.ci" };
  const tokenCalls = () =>
    github.requests.filter((request) => request.path.endsWith("/access_tokens")).length;

  it("exchanges an app JWT signed with a PKCS#1 key for an installation token", async () => {
    const credentials = createCredentials(manager, { gh: config() });

    const token = await credentials.token("gh", scope);

    expect(github.installationOf(token.value.reveal())).toBe(7);
    expect(token.tokenType).toBe("Bearer");
    expect(token.expiresAt?.getTime()).toBeGreaterThan(Date.now() + 3500_000);
  });

  it("sends the app JWT as Bearer with GitHub's API headers", async () => {
    const credentials = createCredentials(manager, { gh: config() });

    await credentials.token("gh", scope);

    const request = github.requests.at(-1);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/app/installations/7/access_tokens");
    expect(request?.headers.authorization).toMatch(/^Bearer ey/);
    expect(request?.headers.accept).toBe("application/vnd.github+json");
    expect(request?.headers["x-github-api-version"]).toBe("2022-11-28");
  });

  it("keeps the installation token until shortly before it expires", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    const credentials = createCredentials(manager, { gh: config({ refreshBeforeExpiry: "10m" }) });
    const first = await credentials.token("gh", scope);
    const before = tokenCalls();

    vi.setSystemTime(start + 49 * 60_000);
    const cached = await credentials.token("gh", scope);
    vi.setSystemTime(start + 51 * 60_000);
    const refreshed = await credentials.token("gh", scope);

    expect(cached.value.reveal()).toBe(first.value.reveal());
    expect(refreshed.value.reveal()).not.toBe(first.value.reveal());
    expect(tokenCalls() - before).toBe(1);
  });

  it("asks for the configured repositories (by name, owner dropped) and permissions only", async () => {
    const credentials = createCredentials(manager, {
      narrow: config({ repositories: ["octo/api"], permissions: { contents: "read" } }),
      wide: config({ repositories: ["octo/private"] }),
    });

    const narrow = await credentials.token("narrow", scope);
    const wide = await credentials.token("wide", scope).catch((reason: unknown) => reason);

    expect(github.installationOf(narrow.value.reveal())).toBe(7);
    expect(wide).toMatchObject({ code: "BACKEND", cause: { status: 422 } });
    expect(String((wide as Error).message)).toContain("not accessible to the parent installation");
  });

  it("reports an app JWT signed with the wrong key as ACCESS_DENIED with GitHub's message, not the JWT", async () => {
    const credentials = createCredentials(manager, {
      gh: config({ privateKey: "{{ secret('STRANGER_PEM') }}" }),
    });
    const leaks = watchForLeaks([stranger.pem.split("\n")[1] ?? stranger.pem]);

    const error = await credentials.token("gh", scope).catch((reason: unknown) => reason);

    leaks.check(error);
    leaks.stop();
    expect(error).toMatchObject({ code: "ACCESS_DENIED", cause: { status: 401 } });
    expect(String((error as Error).message)).toContain("A JSON web token could not be decoded");
    expect(String((error as Error).message)).not.toMatch(/ey[A-Za-z0-9_-]{10,}\./);
  });

  it("reports an unknown installation as NOT_FOUND and a suspended one as ACCESS_DENIED", async () => {
    const credentials = createCredentials(manager, { missing: config({ installationId: 8 }), gh: config() });
    github.suspendInstallation(7);

    const missing = await credentials.token("missing", scope).catch((reason: unknown) => reason);
    const suspended = await credentials.token("gh", scope).catch((reason: unknown) => reason);

    expect(missing).toMatchObject({ code: "NOT_FOUND", cause: { status: 404 } });
    expect(suspended).toMatchObject({ code: "ACCESS_DENIED", cause: { status: 403 } });
  });

  it("reports GitHub being down as UNAVAILABLE", async () => {
    github.faults.failNext(1, 503);
    const credentials = createCredentials(manager, { gh: config() });

    await expect(credentials.token("gh", scope)).rejects.toMatchObject({ code: "UNAVAILABLE" });
  });

  it("reports a rate-limited token request (403 with x-ratelimit-remaining 0) as UNAVAILABLE, not ACCESS_DENIED", async () => {
    const limit = { message: "API rate limit exceeded for installation ID 7." };
    github.faults.failNext(1, 403, limit, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1" });
    const credentials = createCredentials(manager, { gh: config() });

    const limited = await credentials.token("gh", scope).catch((reason: unknown) => reason);
    github.faults.failNext(
      1,
      403,
      { message: "You have exceeded a secondary rate limit." },
      {
        "retry-after": "60",
      },
    );
    const secondary = await credentials.token("gh", scope).catch((reason: unknown) => reason);

    expect(limited).toMatchObject({ code: "UNAVAILABLE", cause: { status: 403 } });
    expect(String((limited as Error).message)).toContain("API rate limit exceeded");
    expect(secondary).toMatchObject({ code: "UNAVAILABLE", cause: { status: 403 } });
  });

  it("refuses an OAuth scope, which GitHub App tokens do not take", async () => {
    const credentials = createCredentials(manager, { gh: config() });

    await expect(credentials.token("gh", { ...scope, scope: "repo" })).rejects.toMatchObject({
      code: "UNSUPPORTED",
    });
  });
});
