import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type ConjurEmulator, parsePolicy, startConjurEmulator } from "../../src/emulators/cyberark.ts";

let conjur: ConjurEmulator;

beforeAll(async () => {
  conjur = await startConjurEmulator({
    account: "myorg",
    users: [
      { login: "admin", password: "Admin-Password1", apiKey: "admin-key" },
      { login: "host/reader", apiKey: "reader-key", privileges: ["read"], policyPrivileges: [] },
      { login: "host/adder", apiKey: "adder-key", policyPrivileges: ["create"] },
    ],
    policies: ["apps"],
  });
});
afterAll(() => conjur.close());
afterEach(() => {
  conjur.faults.reset();
  vi.useRealTimers();
});

async function token(login = "admin", apiKey = "admin-key"): Promise<string> {
  const response = await fetch(`${conjur.url}/authn/myorg/${encodeURIComponent(login)}/authenticate`, {
    method: "POST",
    headers: { "accept-encoding": "base64" },
    body: apiKey,
  });
  return `Token token="${await response.text()}"`;
}

async function call(
  method: string,
  path: string,
  body?: string | Uint8Array,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${conjur.url}${path}`, {
    method,
    headers: { authorization: await token(), ...headers },
    ...(body === undefined ? {} : { body }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const text = bytes.toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {
    status: response.status,
    text,
    bytes,
    json: json as Record<string, unknown>,
    headers: response.headers,
  };
}
const load = (method: string, policy: string, branch = "root") =>
  call(method, `/policies/myorg/policy/${branch}`, policy);
const setSecret = (id: string, value: string | Uint8Array) =>
  call("POST", `/secrets/myorg/variable/${encodeURIComponent(id)}`, value);

describe("Conjur emulator: fidelity", () => {
  it("login exchanges Basic credentials for the API key; wrong ones get 401 with no body", async () => {
    const basic = (secret: string) => `Basic ${Buffer.from(`admin:${secret}`).toString("base64")}`;

    const ok = await fetch(`${conjur.url}/authn/myorg/login`, {
      headers: { authorization: basic("Admin-Password1") },
    });
    const bad = await fetch(`${conjur.url}/authn/myorg/login`, { headers: { authorization: basic("nope") } });

    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe("admin-key");
    expect(bad.status).toBe(401);
    expect(await bad.text()).toBe("");
  });

  it("authenticate returns a base64 token on Accept-Encoding: base64, the token JSON otherwise", async () => {
    const url = `${conjur.url}/authn/myorg/admin/authenticate`;
    const encoded = await fetch(url, {
      method: "POST",
      headers: { "accept-encoding": "base64" },
      body: "admin-key",
    });
    const plain = await fetch(url, {
      method: "POST",
      headers: { "accept-encoding": "identity" },
      body: "admin-key",
    });
    const wrong = await fetch(url, { method: "POST", body: "wrong-key" });

    const fromBase64 = JSON.parse(Buffer.from(await encoded.text(), "base64").toString("utf8"));
    const payload = JSON.parse(Buffer.from(fromBase64.payload, "base64url").toString("utf8"));
    expect(encoded.headers.get("content-encoding")).toBe("base64");
    expect(Object.keys(fromBase64).sort()).toEqual(["payload", "protected", "signature"]);
    expect(payload.sub).toBe("admin");
    expect(payload.exp - payload.iat).toBe(480);
    expect(Object.keys((await plain.json()) as object).sort()).toEqual(["payload", "protected", "signature"]);
    expect(wrong.status).toBe(401);
  });

  it("a token expires after its TTL (8 minutes by default) and is then refused with 401", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const header = await token();
    const whoami = () =>
      fetch(`${conjur.url}/resources/myorg?kind=variable&count=true`, { headers: { authorization: header } });

    const fresh = await whoami();
    vi.setSystemTime(Date.now() + 8 * 60_000 + 1);
    const expired = await whoami();

    expect(fresh.status).toBe(200);
    expect(expired.status).toBe(401);
  });

  it("policy POST creates variables with annotations; values are versioned and the last 20 kept", async () => {
    const loaded = await load("POST", '- !variable\n  id: db/password\n  annotations:\n    team: "ops"\n');
    for (let i = 1; i <= 22; i++) await setSecret("db/password", `v${i}`);

    const latest = await call("GET", "/secrets/myorg/variable/db%2Fpassword");
    const third = await call("GET", "/secrets/myorg/variable/db%2Fpassword?version=3");
    const pruned = await call("GET", "/secrets/myorg/variable/db%2Fpassword?version=2");
    const resource = await call("GET", "/resources/myorg/variable/db%2Fpassword");

    expect(loaded.status).toBe(201);
    expect(loaded.json).toMatchObject({ created_roles: {}, version: expect.any(Number) });
    expect(latest.text).toBe("v22");
    expect(third.text).toBe("v3");
    expect(pruned.status).toBe(404);
    expect(resource.json.id).toBe("myorg:variable:db/password");
    expect(resource.json.annotations).toEqual([{ name: "team", value: "ops", policy: "myorg:policy:root" }]);
    expect((resource.json.secrets as unknown[]).length).toBe(20);
  });

  it("refuses an empty or blank value with 422, a missing variable with 404, a variable with no value with 404", async () => {
    await load("POST", "- !variable empty-one\n");

    const blank = await setSecret("empty-one", "  \n");
    const noValue = await call("GET", "/secrets/myorg/variable/empty-one");
    const missing = await call("GET", "/secrets/myorg/variable/no-such-variable");

    expect(blank.status).toBe(422);
    expect(blank.json).toEqual({
      error: { code: "unprocessable_entity", message: "'value' may not be empty" },
    });
    expect(noValue.status).toBe(404);
    expect(missing.status).toBe(404);
    expect((missing.json.error as { code: string }).code).toBe("not_found");
  });

  it("batch retrieval returns a map; one missing id fails the whole batch with 404", async () => {
    await load("POST", "- !variable batch/a\n- !variable batch/b\n");
    await setSecret("batch/a", "A");
    await setSecret("batch/b", "B");

    const both = await call("GET", "/secrets?variable_ids=myorg:variable:batch%2Fa,myorg:variable:batch%2Fb");
    const oneMissing = await call(
      "GET",
      "/secrets?variable_ids=myorg:variable:batch%2Fa,myorg:variable:nope",
    );

    expect(both.json).toEqual({ "myorg:variable:batch/a": "A", "myorg:variable:batch/b": "B" });
    expect(oneMissing.status).toBe(404);
  });

  it("a binary value in a batch needs Accept-Encoding: base64 (406 otherwise)", async () => {
    await load("POST", "- !variable batch/binary\n");
    await setSecret("batch/binary", new Uint8Array([0xff, 0xfe, 0x00, 0x41]));

    const refused = await call("GET", "/secrets?variable_ids=myorg:variable:batch%2Fbinary");
    const encoded = await call("GET", "/secrets?variable_ids=myorg:variable:batch%2Fbinary", undefined, {
      "accept-encoding": "base64",
    });

    expect(refused.status).toBe(406);
    expect(encoded.headers.get("content-encoding")).toBe("base64");
    expect([...Buffer.from(encoded.json["myorg:variable:batch/binary"] as string, "base64")]).toEqual([
      0xff, 0xfe, 0, 0x41,
    ]);
  });

  it("lists variables with search, limit, offset (limit 10 by default with an offset) and count", async () => {
    const records = Array.from(
      { length: 15 },
      (_, i) => `- !variable list/item-${String(i).padStart(2, "0")}`,
    );
    await load(
      "POST",
      `${records.join("\n")}\n- !variable\n  id: list/tagged\n  annotations:\n    purpose: needle\n`,
    );

    const counted = await call("GET", "/resources/myorg?kind=variable&search=list%2F&count=true");
    const page = await call("GET", "/resources/myorg?kind=variable&search=list%2Fitem&limit=5&offset=5");
    const defaultLimit = await call("GET", "/resources/myorg?kind=variable&search=list%2Fitem&offset=1");
    const byAnnotation = await call("GET", "/resources/myorg?kind=variable&search=needle");
    const users = await call("GET", "/resources/myorg?kind=user");

    expect(counted.json).toEqual({ count: 16 });
    expect((page.json as unknown as { id: string }[]).map((resource) => resource.id)).toEqual(
      [5, 6, 7, 8, 9].map((i) => `myorg:variable:list/item-${String(i).padStart(2, "0")}`),
    );
    expect(defaultLimit.json).toHaveLength(10);
    expect((byAnnotation.json as unknown as { id: string }[]).map((resource) => resource.id)).toEqual([
      "myorg:variable:list/tagged",
    ]);
    expect(users.json).toEqual([]);
  });

  it("policy modes: POST refuses !delete and keeps existing annotations; PATCH updates and deletes; PUT replaces", async () => {
    await load(
      "POST",
      "- !variable\n  id: modes/a\n  annotations:\n    k: one\n- !variable modes/b\n",
      "apps",
    );

    const postDelete = await load("POST", "- !delete\n  record: !variable modes/a\n", "apps");
    await load("POST", "- !variable\n  id: modes/a\n  annotations:\n    k: two\n", "apps");
    const afterPost = conjur.variables.get("apps/modes/a")?.annotations.get("k");
    await load("PATCH", "- !variable\n  id: modes/a\n  annotations:\n    k: 'three'\n", "apps");
    const afterPatch = conjur.variables.get("apps/modes/a")?.annotations.get("k");
    await load("PATCH", "- !delete\n  record: !variable modes/b\n", "apps");
    const bDeleted = !conjur.variables.has("apps/modes/b");
    await load("PUT", "- !variable modes/c\n", "apps");

    expect(postDelete.status).toBe(422);
    expect(afterPost).toBe("one");
    expect(afterPatch).toBe("three");
    expect(bDeleted).toBe(true);
    expect(conjur.variables.has("apps/modes/a")).toBe(false);
    expect(conjur.variables.has("apps/modes/c")).toBe(true);
  });

  it("answers 404 for an unknown policy branch, 422 for a malformed policy, 403 without the privilege", async () => {
    const unknown = await load("POST", "- !variable x\n", "nope");
    const malformed = await load("POST", "- !variable\n  id: x\n  colour: red\n");
    const adder = await token("host/adder", "adder-key");
    const patchByAdder = await fetch(`${conjur.url}/policies/myorg/policy/root`, {
      method: "PATCH",
      headers: { authorization: adder },
      body: "- !variable x\n",
    });

    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(422);
    expect(patchByAdder.status).toBe(403);
  });

  it("a role with read but not execute sees the variable but gets 403 on its value", async () => {
    await load("POST", "- !variable perms/x\n");
    await setSecret("perms/x", "hidden");
    const reader = await token("host/reader", "reader-key");

    const resource = await fetch(`${conjur.url}/resources/myorg/variable/perms%2Fx`, {
      headers: { authorization: reader },
    });
    const value = await fetch(`${conjur.url}/secrets/myorg/variable/perms%2Fx`, {
      headers: { authorization: reader },
    });
    const write = await fetch(`${conjur.url}/secrets/myorg/variable/perms%2Fx`, {
      method: "POST",
      headers: { authorization: reader },
      body: "new",
    });

    expect(resource.status).toBe(200);
    expect(value.status).toBe(403);
    expect(write.status).toBe(403);
  });

  it("injects faults: JSON error bodies, an empty 401, dropped connections", async () => {
    const header = await token();
    conjur.faults.failNext(1, 500);
    const failedResponse = await fetch(`${conjur.url}/resources/myorg?kind=variable`, {
      headers: { authorization: header },
    });
    const failed = { status: failedResponse.status, json: await failedResponse.json() };
    conjur.faults.failNext(1, 401);
    const unauthorized = await fetch(`${conjur.url}/resources/myorg`);
    conjur.faults.dropNext(1);
    const dropped = await fetch(`${conjur.url}/resources/myorg`).catch((error: unknown) => error);

    expect(failed.status).toBe(500);
    expect(failed.json).toHaveProperty("error.code");
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.text()).toBe("");
    expect(dropped).toBeInstanceOf(TypeError);
  });

  it("parses the policy YAML subset: short and long forms, quoted scalars with escapes, comments", () => {
    const records = parsePolicy(
      [
        "---",
        "# a comment",
        "- !variable plain/id",
        "- !variable",
        '  id: "quoted\\u00e9/id"',
        "  annotations:",
        "    'single ''quoted''': \"tab\\tnew\\nline\"",
        "    plain: value # trailing comment",
        "- !delete",
        "  record: !variable gone/id",
      ].join("\n"),
    );

    expect(records).toEqual([
      { tag: "variable", id: "plain/id", annotations: {} },
      {
        tag: "variable",
        id: "quotedé/id",
        annotations: { "single 'quoted'": "tab\tnew\nline", plain: "value" },
      },
      { tag: "delete", id: "gone/id", annotations: {} },
    ]);
    expect(() => parsePolicy("- !user alice\n")).toThrow(/!variable and !delete only/);
  });
});
