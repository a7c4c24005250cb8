import { SignJWT } from "jose";
import * as oauth from "oauth4webapi";
import type { GitHubAppConfig } from "./config.ts";
import { answerError, credentialError } from "./errors.ts";
import { importPrivateKey } from "./keys.ts";
import { httpOptions, type Minted, type MintRequest } from "./mint.ts";

interface InstallationToken {
  token?: unknown;
  expires_at?: unknown;
  permissions?: Record<string, string>;
}

/**
 * GitHub App: signs an app JWT (RS256, `iss` the app id, issued 60 s in the
 * past against clock drift, valid 10 minutes at most) and exchanges it for an
 * installation access token (`POST /app/installations/{id}/access_tokens`).
 */
export async function mintGitHubApp(config: GitHubAppConfig, request: MintRequest): Promise<Minted> {
  if (request.scope !== undefined) {
    throw credentialError(
      "UNSUPPORTED",
      "a GitHub App token takes no OAuth scope: configure repositories and permissions instead",
      request.context,
    );
  }
  const pem = await request.render("privateKey", config.privateKey, { sensitive: true });
  const key = await importPrivateKey(pem, "RS256", request.context);
  const appId = await request.render("appId", config.appId);
  const now = Math.floor(Date.now() / 1000);
  const appJwt = await new SignJWT({})
    .setProtectedHeader({
      alg: "RS256",
      typ: "JWT",
      ...(config.keyId === undefined ? {} : { kid: config.keyId }),
    })
    .setIssuer(appId)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + 540)
    .sign(key);
  request.secrets.push(appJwt);

  const installation = encodeURIComponent(await request.render("installationId", config.installationId));
  const url = new URL(
    `${config.baseUrl.replace(/\/+$/, "")}/app/installations/${installation}/access_tokens`,
  );
  const body: Record<string, unknown> = {};
  // GitHub takes repository names; a full name's owner is dropped (an installation belongs to one account).
  if (config.repositories !== undefined)
    body.repositories = config.repositories.map((name) => name.slice(name.lastIndexOf("/") + 1));
  if (config.permissions !== undefined) body.permissions = config.permissions;
  const headers = new Headers({
    accept: "application/vnd.github+json",
    "content-type": "application/json",
    "user-agent": "strongbox-credentials",
    "x-github-api-version": "2022-11-28",
  });
  const response = await oauth.protectedResourceRequest(
    appJwt,
    "POST",
    url,
    headers,
    JSON.stringify(body),
    httpOptions(config),
  );
  const answer = (await response.json().catch(() => ({}))) as InstallationToken & { message?: unknown };
  if (response.status !== 201) {
    const message = typeof answer.message === "string" ? answer.message : undefined;
    // GitHub answers 404 for an installation that does not exist or is not this app's, and
    // 403 (or 429) for a rate limit: x-ratelimit-remaining 0, or a retry-after for a secondary
    // limit. A rate limit is the service being unavailable for now, not a refusal.
    const rateLimited =
      response.status === 429 ||
      (response.status === 403 &&
        (response.headers.get("x-ratelimit-remaining") === "0" || response.headers.has("retry-after")));
    const code = response.status === 404 ? "NOT_FOUND" : rateLimited ? "UNAVAILABLE" : undefined;
    throw answerError(
      `http_${response.status}`,
      message,
      response.status,
      request.context,
      request.secrets,
      code,
    );
  }
  if (typeof answer.token !== "string" || typeof answer.expires_at !== "string") {
    throw credentialError("BACKEND", "GitHub answered without token or expires_at", request.context);
  }
  return { accessToken: answer.token, tokenType: "Bearer", expiresAt: new Date(answer.expires_at) };
}
