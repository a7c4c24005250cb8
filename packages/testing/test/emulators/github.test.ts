import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GitHubEmulator, startGitHubEmulator } from "../../src/emulators/github.ts";

const APP_ID = 1234;
const OTHER_APP_ID = 99;

function keyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("rsa", { modulusLength: 2048 });
}

function appJwt(
  key: KeyObject,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = { alg: "RS256", typ: "JWT" },
): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString("base64url");
  const data = `${encode(header)}.${encode({ iss: APP_ID, iat: now - 60, exp: now + 540, ...claims })}`;
  return `${data}.${sign("sha256", Buffer.from(data), key).toString("base64url")}`;
}

describe("GitHub emulator", () => {
  const app = keyPair();
  const stranger = keyPair();
  let github: GitHubEmulator;

  beforeAll(async () => {
    github = await startGitHubEmulator();
  });
  afterAll(async () => {
    await github.close();
  });
  beforeEach(() => {
    github.faults.reset();
    github.addApp({
      id: APP_ID,
      publicKey: app.publicKey.export({ format: "pem", type: "spki" }).toString(),
    });
    github.addApp({ id: OTHER_APP_ID, publicKey: stranger.publicKey });
    github.addInstallation({
      id: 42,
      appId: APP_ID,
      repositories: ["octo/one", "octo/two"],
      permissions: { contents: "read", issues: "write" },
    });
    github.addInstallation({ id: 43, appId: OTHER_APP_ID });
  });

  const createToken = (jwt: string | undefined, installation = 42, body?: object) =>
    fetch(`${github.url}/app/installations/${installation}/access_tokens`, {
      method: "POST",
      headers: {
        accept: "application/vnd.github+json",
        ...(jwt === undefined ? {} : { authorization: `Bearer ${jwt}` }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  it("mints an installation access token for a valid app JWT", async () => {
    const response = await createToken(appJwt(app.privateKey));

    expect(response.status).toBe(201);
    const body = (await response.json()) as {
      token: string;
      expires_at: string;
      repository_selection: string;
    };
    expect(body.token).toMatch(/^ghs_/);
    const lifetime = Date.parse(body.expires_at) - Date.now();
    expect(lifetime).toBeGreaterThan(3500_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);
    expect(body.repository_selection).toBe("selected");
    expect(github.installationOf(body.token)).toBe(42);
  });

  it("narrows a token to the requested repositories (by name) and permissions", async () => {
    const response = await createToken(appJwt(app.privateKey), 42, {
      repositories: ["one"],
      permissions: { issues: "read" },
    });

    const body = (await response.json()) as { permissions: object; repositories: { full_name: string }[] };
    expect(response.status).toBe(201);
    expect(body.permissions).toEqual({ issues: "read" });
    expect(body.repositories.map((repo) => repo.full_name)).toEqual(["octo/one"]);
  });

  it("answers GET /app with the app the JWT names", async () => {
    const response = await fetch(`${github.url}/app`, {
      headers: { authorization: `Bearer ${appJwt(app.privateKey)}` },
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: APP_ID, slug: `app-${APP_ID}` });
  });

  it("rejects a request without authentication with 401 and GitHub's error body", async () => {
    const response = await createToken(undefined);

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      message: "Requires authentication",
      documentation_url: "https://docs.github.com/rest",
    });
  });

  it.each([
    ["signed with another key", () => appJwt(stranger.privateKey), "A JSON web token could not be decoded"],
    ["not a JWT", () => "ghp_personal", "A JSON web token could not be decoded"],
    [
      "signed with HS256",
      () => appJwt(app.privateKey, {}, { alg: "HS256" }),
      "A JSON web token could not be decoded",
    ],
    ["for an unknown app", () => appJwt(app.privateKey, { iss: 5 }), "Integration not found"],
    [
      "expired",
      () => appJwt(app.privateKey, { iat: 1000, exp: 1500 }),
      "'Expiration time' claim ('exp') must be",
    ],
    [
      "valid for more than 10 minutes",
      () => appJwt(app.privateKey, { exp: Math.floor(Date.now() / 1000) + 3600 }),
      "is too far in the future",
    ],
    [
      "issued in the future",
      () => appJwt(app.privateKey, { iat: Math.floor(Date.now() / 1000) + 300 }),
      "'Issued at' claim ('iat')",
    ],
  ])("rejects an app JWT %s with 401", async (_label, jwt, message) => {
    const response = await createToken(jwt());

    expect(response.status).toBe(401);
    const body = (await response.json()) as { message: string; documentation_url: string };
    expect(body.message).toContain(message);
    expect(body.documentation_url).toMatch(/^https:\/\/docs\.github\.com\//);
  });

  it("answers 404 for an unknown installation and for another app's installation", async () => {
    const unknown = await createToken(appJwt(app.privateKey), 7);
    const foreign = await createToken(appJwt(app.privateKey), 43);

    expect(unknown.status).toBe(404);
    expect(foreign.status).toBe(404);
    expect(((await foreign.json()) as { message: string }).message).toBe("Not Found");
  });

  it("answers 403 for a suspended installation", async () => {
    github.suspendInstallation(42);

    const response = await createToken(appJwt(app.privateKey));

    expect(response.status).toBe(403);
    expect(((await response.json()) as { message: string }).message).toBe(
      "This installation has been suspended",
    );
  });

  it("answers 422 for a repository or permission the installation lacks", async () => {
    const repository = await createToken(appJwt(app.privateKey), 42, { repositories: ["secret"] });
    const permission = await createToken(appJwt(app.privateKey), 42, { permissions: { contents: "write" } });

    expect(repository.status).toBe(422);
    expect(permission.status).toBe(422);
  });

  it("takes repository names only: a full name owner/name is no repository (422), as GitHub answers", async () => {
    const response = await createToken(appJwt(app.privateKey), 42, { repositories: ["octo/one"] });

    expect(response.status).toBe(422);
  });

  it("forgets the tokens of a removed installation", async () => {
    const { token } = (await (await createToken(appJwt(app.privateKey))).json()) as { token: string };

    github.removeInstallation(42);

    expect(github.installationOf(token)).toBeUndefined();
    expect((await createToken(appJwt(app.privateKey))).status).toBe(404);
  });

  it("answers an injected failure with GitHub's error body", async () => {
    github.faults.failNext(1, 503);

    const response = await createToken(appJwt(app.privateKey));

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      message: "Server Error",
      documentation_url: "https://docs.github.com/rest",
    });
  });
});
