import { OnePasswordConnect } from "@1password/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type OnePasswordEmulator, startOnePasswordEmulator } from "../../src/emulators/onepassword.ts";

let emulator: OnePasswordEmulator;
let vaultId: string;

beforeAll(async () => {
  emulator = await startOnePasswordEmulator({ vaults: ["Strongbox", "Other"], readOnlyToken: "ro" });
  vaultId = emulator.vaults[0]?.id as string;
});
afterAll(() => emulator.close());
afterEach(() => emulator.faults.reset());

async function call(method: string, path: string, body?: unknown, token = emulator.token) {
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
}
const items = (filter?: string) =>
  call(
    "GET",
    `/v1/vaults/${vaultId}/items${filter === undefined ? "" : `?filter=${encodeURIComponent(filter)}`}`,
  );
const newItem = (title: string, extra: object = {}) => ({
  title,
  vault: { id: vaultId },
  category: "PASSWORD",
  fields: [{ id: "password", type: "CONCEALED", purpose: "PASSWORD", label: "password", value: "pw" }],
  ...extra,
});

describe("1Password Connect emulator: fidelity", () => {
  it("refuses a missing or wrong bearer token with 401 {status, message}", async () => {
    const response = await fetch(`${emulator.url}/v1/vaults`);
    const wrong = await call("GET", "/v1/vaults", undefined, "nope");

    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ status: 401, message: "Invalid token signature" });
    expect(wrong.status).toBe(401);
  });

  it("lists vaults and filters them by title (as the SDK sends) or name", async () => {
    const all = await call("GET", "/v1/vaults");
    const byTitle = await call("GET", `/v1/vaults?filter=${encodeURIComponent('title eq "Other"')}`);
    const byName = await call("GET", `/v1/vaults?filter=${encodeURIComponent('name eq "Strongbox"')}`);

    expect(all.body.map((vault: { name: string }) => vault.name)).toEqual(["Strongbox", "Other"]);
    expect(byTitle.body).toHaveLength(1);
    expect(byTitle.body[0].name).toBe("Other");
    expect(byName.body[0].id).toMatch(/^[a-z0-9]{26}$/);
  });

  it("creates an item with a 26-character id and version 1, and lists it as a summary without fields", async () => {
    const created = await call("POST", `/v1/vaults/${vaultId}/items`, newItem("created"));
    const listed = await items('title eq "created"');

    expect(created.status).toBe(200);
    expect(created.body.id).toMatch(/^[a-z0-9]{26}$/);
    expect(created.body.version).toBe(1);
    expect(created.body.fields[0].value).toBe("pw");
    expect(listed.body).toHaveLength(1);
    expect(listed.body[0]).not.toHaveProperty("fields");
    expect(listed.body[0].version).toBe(1);
  });

  it("a replace (PUT) bumps the version; a delete answers 204 and the item is gone (404)", async () => {
    const created = await call("POST", `/v1/vaults/${vaultId}/items`, newItem("replaced"));
    const id = created.body.id as string;

    const replaced = await call("PUT", `/v1/vaults/${vaultId}/items/${id}`, {
      ...newItem("replaced"),
      id,
      tags: ["a=b"],
    });
    const again = await call("PUT", `/v1/vaults/${vaultId}/items/${id}`, { ...newItem("replaced"), id });
    const deleted = await call("DELETE", `/v1/vaults/${vaultId}/items/${id}`);
    const gone = await call("GET", `/v1/vaults/${vaultId}/items/${id}`);

    expect(replaced.body.version).toBe(2);
    expect(replaced.body.tags).toEqual(["a=b"]);
    expect(again.body.version).toBe(3);
    expect(deleted).toEqual({ status: 204, body: undefined });
    expect(gone).toEqual({ status: 404, body: { status: 404, message: "Item not found" } });
  });

  it("filters items with title eq (exact), title co (contains) and tag eq", async () => {
    await call("POST", `/v1/vaults/${vaultId}/items`, newItem("filter-alpha", { tags: ["team=ops"] }));
    await call("POST", `/v1/vaults/${vaultId}/items`, newItem("filter-alphabet"));

    const exact = await items('title eq "filter-alpha"');
    const contains = await items('title co "filter-alph"');
    const tagged = await items('tag eq "team=ops"');

    expect(exact.body.map((item: { title: string }) => item.title)).toEqual(["filter-alpha"]);
    expect(contains.body).toHaveLength(2);
    expect(tagged.body.map((item: { title: string }) => item.title)).toEqual(["filter-alpha"]);
  });

  it("a title with an unescaped quote breaks the filter with 400; an escaped one matches", async () => {
    await call("POST", `/v1/vaults/${vaultId}/items`, newItem('say "hi"'));

    const broken = await items('title eq "say "hi""');
    const escaped = await items('title eq "say \\"hi\\""');

    expect(broken.status).toBe(400);
    expect(broken.body).toEqual({ status: 400, message: "Invalid filter query" });
    expect(escaped.body).toHaveLength(1);
  });

  it("answers 404 for an unknown vault, 400 for an invalid item, 400 for an id that does not match", async () => {
    const created = await call("POST", `/v1/vaults/${vaultId}/items`, newItem("mismatch"));

    const noVault = await call("GET", "/v1/vaults/aaaaaaaaaaaaaaaaaaaaaaaaaa/items");
    const badCategory = await call("POST", `/v1/vaults/${vaultId}/items`, newItem("x", { category: "NOPE" }));
    const mismatch = await call("PUT", `/v1/vaults/${vaultId}/items/${created.body.id}`, {
      ...newItem("mismatch"),
      id: "bbbbbbbbbbbbbbbbbbbbbbbbbb",
    });

    expect(noVault).toEqual({ status: 404, body: { status: 404, message: "Vault not found" } });
    expect(badCategory.status).toBe(400);
    expect(mismatch.status).toBe(400);
  });

  it("a token that may only read gets 403 on writes", async () => {
    const read = await call("GET", `/v1/vaults/${vaultId}/items`, undefined, "ro");
    const write = await call("POST", `/v1/vaults/${vaultId}/items`, newItem("ro"), "ro");

    expect(read.status).toBe(200);
    expect(write.status).toBe(403);
    expect(write.body.status).toBe(403);
  });

  it("injects errors with Connect's body, and drops connections", async () => {
    emulator.faults.failNext(1, 503);
    const failed = await call("GET", "/v1/vaults");
    emulator.faults.dropNext(1);
    const dropped = await fetch(`${emulator.url}/v1/vaults`).catch((error: unknown) => error);
    const after = await call("GET", "/v1/vaults");

    expect(failed).toEqual({ status: 503, body: { status: 503, message: "Internal server error" } });
    expect(dropped).toBeInstanceOf(TypeError);
    expect(after.status).toBe(200);
  });

  it("serves the real SDK: get by title, create, update, delete, plain-object rejections", async () => {
    const sdk = OnePasswordConnect({ serverURL: emulator.url, token: emulator.token, keepAlive: false });
    const created = await sdk.createItem(vaultId, newItem("via-sdk") as never);

    const byTitle = await sdk.getItem(vaultId, "via-sdk");
    const updated = await sdk.updateItem(vaultId, { ...byTitle, title: "via-sdk-2" } as never);
    await sdk.deleteItemById(vaultId, created.id as string);
    const missing = await sdk.getItemById(vaultId, created.id as string).catch((error: unknown) => error);

    expect(byTitle.id).toBe(created.id);
    expect(updated.version).toBe(2);
    expect(updated.title).toBe("via-sdk-2");
    expect(missing).toEqual({ status: 404, message: "Item not found" });
  });
});
