import { request as httpsRequest } from "node:https";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "../../src/emulators/azure.ts";

let vault: AzureKeyVaultEmulator;
const AUTH = { authorization: "Bearer test-token" };

interface Reply {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of many shapes, checked field by field
  body: any;
}

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) {
  const response = await fetch(`${vault.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? undefined : JSON.parse(text),
  } as Reply;
}

const API = "api-version=2026-04-01";

beforeAll(async () => {
  vault = await startAzureKeyVaultEmulator({ identityHeader: "id-header", tls: false });
});
afterAll(async () => {
  await vault.close();
});
afterEach(() => {
  vault.faults.reset();
});

describe("azure key vault emulator: authentication", () => {
  it("answers a request without a token with the 401 challenge", async () => {
    const reply = await call("GET", `/secrets/anything/?${API}`, undefined, {});
    expect(reply.status).toBe(401);
    expect(reply.headers.get("www-authenticate")).toMatch(
      /^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[^"]+", resource="https:\/\/vault\.azure\.net"$/,
    );
    expect(reply.body.error.code).toBe("Unauthorized");
  });

  it("hands out managed-identity tokens only with the right X-IDENTITY-HEADER", async () => {
    const path = "/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fvault.azure.net";
    const wrong = await call("GET", path, undefined, { "x-identity-header": "nope" });
    expect(wrong.status).toBe(401);
    const right = await call("GET", path, undefined, { "x-identity-header": "id-header" });
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ token_type: "Bearer", resource: "https://vault.azure.net" });
    expect(Number(right.body.expires_on)).toBeGreaterThan(Date.now() / 1000);
    expect(vault.issuedTokens).toContain(right.body.access_token);
    expect(vault.identityEndpoint).toBe(`${vault.url}/msi/token`);
  });
});

describe("azure key vault emulator: transport", () => {
  it("serves HTTPS with its loopback certificate, in front of the same vault", async () => {
    const secure = await startAzureKeyVaultEmulator();
    try {
      expect(secure.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          `${secure.url}/secrets/none/?${API}`,
          { ca: secure.ca, headers: AUTH },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(404);
      expect(secure.requests.at(-1)?.path).toBe("/secrets/none/");
      expect(secure.identityEndpoint.startsWith(secure.httpUrl)).toBe(true);
    } finally {
      await secure.close();
    }
  });

  it("refuses a client that does not trust its certificate", async () => {
    const secure = await startAzureKeyVaultEmulator();
    try {
      await expect(fetch(`${secure.url}/secrets/none/?${API}`, { headers: AUTH })).rejects.toThrow();
    } finally {
      await secure.close();
    }
  });
});

describe("azure key vault emulator: secrets", () => {
  it("sets a secret and reads it by name and by version, whatever the api-version", async () => {
    const set = await call("PUT", `/secrets/fid-one?${API}`, {
      value: "v1",
      contentType: "text/plain",
      tags: { a: "b" },
    });
    expect(set.status).toBe(200);
    expect(set.body.id).toMatch(new RegExp(`^${vault.url}/secrets/fid-one/[0-9a-f]{32}$`));
    expect(set.body.attributes).toMatchObject({ enabled: true, recoveryLevel: "Recoverable+Purgeable" });
    expect(typeof set.body.attributes.created).toBe("number");
    const second = await call("PUT", "/secrets/fid-one?api-version=7.4", { value: "v2" });
    const latest = await call("GET", "/secrets/fid-one/?api-version=7.0");
    expect(latest.body).toMatchObject({ value: "v2", id: second.body.id });
    const first = await call("GET", `${new URL(set.body.id).pathname}?${API}`);
    expect(first.body).toMatchObject({ value: "v1", contentType: "text/plain", tags: { a: "b" } });
  });

  it("treats names case-insensitively and keeps the case they were created with", async () => {
    await call("PUT", `/secrets/Fid-Case?${API}`, { value: "x" });
    await call("PUT", `/secrets/FID-CASE?${API}`, { value: "y" });
    const read = await call("GET", `/secrets/fid-case/?${API}`);
    expect(read.body.value).toBe("y");
    expect(read.body.id).toContain("/secrets/Fid-Case/");
  });

  it("refuses illegal names with 400 BadParameter", async () => {
    const reply = await call("PUT", `/secrets/bad_name?${API}`, { value: "x" });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe("BadParameter");
  });

  it("refuses more than 15 tags and values over 25 KB", async () => {
    const tags = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`t${index}`, "v"]));
    expect((await call("PUT", `/secrets/fid-tags?${API}`, { value: "x", tags })).status).toBe(400);
    expect((await call("PUT", `/secrets/fid-big?${API}`, { value: "x".repeat(25 * 1024 + 1) })).status).toBe(
      400,
    );
  });

  it("answers a missing secret or version with 404 SecretNotFound", async () => {
    const missing = await call("GET", `/secrets/fid-missing/?${API}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("SecretNotFound");
    await call("PUT", `/secrets/fid-ver?${API}`, { value: "x" });
    const badVersion = await call("GET", `/secrets/fid-ver/${"0".repeat(32)}?${API}`);
    expect(badVersion.status).toBe(404);
    expect(badVersion.body.error.code).toBe("SecretNotFound");
  });

  it("updates properties and tags of a version without returning the value", async () => {
    const set = await call("PUT", `/secrets/fid-patch?${API}`, { value: "hidden", tags: { a: "1" } });
    const patched = await call("PATCH", `${new URL(set.body.id).pathname}?${API}`, {
      tags: { a: "2" },
      contentType: "ct",
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ tags: { a: "2" }, contentType: "ct" });
    expect(patched.body.value).toBeUndefined();
  });

  it("answers a disabled secret's get with 403", async () => {
    await call("PUT", `/secrets/fid-disabled?${API}`, { value: "x", attributes: { enabled: false } });
    const reply = await call("GET", `/secrets/fid-disabled/?${API}`);
    expect(reply.status).toBe(403);
    expect(reply.body.error.code).toBe("Forbidden");
  });

  it("answers with 403 Forbidden what the access policy does not grant", async () => {
    vault.permissions.delete("set");
    try {
      const reply = await call("PUT", `/secrets/fid-denied?${API}`, { value: "x" });
      expect(reply.status).toBe(403);
      expect(reply.body.error).toMatchObject({ code: "Forbidden", innererror: { code: "AccessDenied" } });
    } finally {
      vault.permissions.add("set");
    }
  });
});

describe("azure key vault emulator: listing", () => {
  it("pages with maxresults and nextLink, without values", async () => {
    const fresh = await startAzureKeyVaultEmulator({ tls: false });
    try {
      for (let index = 0; index < 7; index++) {
        await fetch(`${fresh.url}/secrets/page-${index}?${API}`, {
          method: "PUT",
          headers: { ...AUTH, "content-type": "application/json" },
          body: JSON.stringify({ value: `value-${index}`, tags: { n: String(index) } }),
        });
      }
      const names: string[] = [];
      let link: string | null = `${fresh.url}/secrets?${API}&maxresults=3`;
      let pages = 0;
      while (link) {
        const response = await fetch(link, { headers: AUTH });
        const body = (await response.json()) as {
          value: { id: string; tags: object }[];
          nextLink: string | null;
        };
        pages += 1;
        expect(JSON.stringify(body)).not.toContain("value-");
        names.push(...body.value.map((item) => item.id.split("/").pop() as string));
        link = body.nextLink;
      }
      expect(pages).toBe(3);
      expect(names).toEqual(Array.from({ length: 7 }, (_, index) => `page-${index}`));
    } finally {
      await fresh.close();
    }
  });

  it("refuses a maxresults over 25", async () => {
    expect((await call("GET", `/secrets?${API}&maxresults=26`)).status).toBe(400);
  });

  it("lists the versions of one secret", async () => {
    await call("PUT", `/secrets/fid-versions?${API}`, { value: "1" });
    await call("PUT", `/secrets/fid-versions?${API}`, { value: "2" });
    const reply = await call("GET", `/secrets/fid-versions/versions?${API}`);
    expect(reply.body.value).toHaveLength(2);
    for (const item of reply.body.value) expect(item.id).toMatch(/\/secrets\/fid-versions\/[0-9a-f]{32}$/);
  });
});

describe("azure key vault emulator: soft delete", () => {
  it("soft-deletes, refuses the name with 409, recovers, and purges", async () => {
    await call("PUT", `/secrets/fid-soft?${API}`, { value: "keep" });
    const deleted = await call("DELETE", `/secrets/fid-soft?${API}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.recoveryId).toBe(`${vault.url}/deletedsecrets/fid-soft`);
    expect(deleted.body.scheduledPurgeDate).toBeGreaterThan(deleted.body.deletedDate);
    expect(deleted.body.value).toBeUndefined();
    expect((await call("GET", `/secrets/fid-soft/?${API}`)).status).toBe(404);
    expect((await call("GET", `/deletedsecrets/fid-soft?${API}`)).status).toBe(200);
    const listed = await call("GET", `/deletedsecrets?${API}`);
    expect(listed.body.value.map((item: { recoveryId: string }) => item.recoveryId)).toContain(
      `${vault.url}/deletedsecrets/fid-soft`,
    );

    const conflict = await call("PUT", `/secrets/fid-soft?${API}`, { value: "new" });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({
      code: "Conflict",
      innererror: { code: "ObjectIsDeletedButRecoverable" },
    });

    expect((await call("POST", `/deletedsecrets/fid-soft/recover?${API}`)).status).toBe(200);
    expect((await call("GET", `/secrets/fid-soft/?${API}`)).body.value).toBe("keep");

    await call("DELETE", `/secrets/fid-soft?${API}`);
    expect((await call("DELETE", `/deletedsecrets/fid-soft?${API}`)).status).toBe(204);
    expect((await call("GET", `/deletedsecrets/fid-soft?${API}`)).status).toBe(404);
    expect((await call("PUT", `/secrets/fid-soft?${API}`, { value: "reborn" })).status).toBe(200);
  });

  it("shows a deletion only once it is recorded, and the name is busy meanwhile", async () => {
    const slow = await startAzureKeyVaultEmulator({ deleteDelayMs: 60_000, tls: false });
    try {
      const put = (value: string) =>
        fetch(`${slow.url}/secrets/slow?${API}`, {
          method: "PUT",
          headers: { ...AUTH, "content-type": "application/json" },
          body: JSON.stringify({ value }),
        });
      await put("a");
      await fetch(`${slow.url}/secrets/slow?${API}`, { method: "DELETE", headers: AUTH });
      const pending = await fetch(`${slow.url}/deletedsecrets/slow?${API}`, { headers: AUTH });
      expect(pending.status).toBe(404);
      const busy = await put("b");
      expect(busy.status).toBe(409);
      expect(((await busy.json()) as { error: { innererror: { code: string } } }).error.innererror.code).toBe(
        "ObjectIsBeingDeleted",
      );
    } finally {
      await slow.close();
    }
  });

  it("reads a recovered secret only once the recovery completes, and refuses writes meanwhile", async () => {
    const slow = await startAzureKeyVaultEmulator({ recoverDelayMs: 60_000, tls: false });
    try {
      const send = (method: string, path: string, body?: unknown) =>
        fetch(`${slow.url}${path}?${API}`, {
          method,
          headers: { ...AUTH, "content-type": "application/json" },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      await send("PUT", "/secrets/rec", { value: "a" });
      await send("DELETE", "/secrets/rec");
      expect((await send("POST", "/deletedsecrets/rec/recover")).status).toBe(200);
      expect((await send("GET", "/secrets/rec/")).status).toBe(404);
      expect((await send("GET", "/deletedsecrets/rec")).status).toBe(404);
      expect((await send("PUT", "/secrets/rec", { value: "b" })).status).toBe(409);
    } finally {
      await slow.close();
    }
  });

  it("answers a missing deleted secret with 404", async () => {
    const reply = await call("GET", `/deletedsecrets/fid-never?${API}`);
    expect(reply.status).toBe(404);
    expect(reply.body.error.code).toBe("SecretNotFound");
    expect((await call("POST", `/deletedsecrets/fid-never/recover?${API}`)).status).toBe(404);
    expect((await call("DELETE", `/deletedsecrets/fid-never?${API}`)).status).toBe(404);
  });
});

describe("azure key vault emulator: faults and request log", () => {
  it("injects 429 with Key Vault's error body and headers, then recovers", async () => {
    vault.faults.failNext(1, 429, undefined, { "retry-after": "1" });
    const throttled = await call("GET", `/secrets/fid-missing/?${API}`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("1");
    expect(throttled.body.error.code).toBe("Throttled");
    expect((await call("GET", `/secrets/fid-missing/?${API}`)).status).toBe(404);
  });

  it("drops connections", async () => {
    vault.faults.dropNext(1);
    await expect(call("GET", `/secrets/fid-missing/?${API}`)).rejects.toThrow();
  });

  it("logs every request", async () => {
    const before = vault.requests.length;
    await call("GET", `/secrets/fid-logged/?${API}`);
    expect(vault.requests.slice(before)).toEqual([
      expect.objectContaining({ method: "GET", path: "/secrets/fid-logged/" }),
    ]);
  });
});
