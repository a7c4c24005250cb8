import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DopplerEmulator, startDopplerEmulator } from "../../src/emulators/doppler.ts";

// Fidelity against the documented Doppler API v3 (secrets endpoints), over plain fetch.
let doppler: DopplerEmulator;
const TOKEN = "dp.pt.fidelity";
let counter = 0;
const freshConfig = () => {
  counter += 1;
  doppler.addConfig("app", `dev_${counter}`);
  return `dev_${counter}`;
};

interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies are read field by field in assertions
  body: any;
}

async function call(method: string, path: string, body?: unknown, token = TOKEN): Promise<Reply> {
  const response = await fetch(doppler.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  doppler = await startDopplerEmulator({
    tokens: [{ token: TOKEN }, { token: "dp.st.readonly", access: "read", project: "app", config: "ro" }],
    configs: ["app/ro"],
  });
});
afterAll(async () => {
  await doppler.close();
});
afterEach(() => doppler.faults.reset());

describe("doppler emulator: auth", () => {
  it("a missing or unknown bearer token is 401 with messages and success false", async () => {
    const anonymous = await fetch(`${doppler.url}/v3/configs/config/secrets?project=app&config=ro`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ messages: ["Invalid Auth token"], success: false });
    expect(
      (await call("GET", "/v3/configs/config/secrets?project=app&config=ro", undefined, "dp.st.nope")).status,
    ).toBe(401);
  });

  it("a read-only service token reads its config without naming it, and gets 403 on writes", async () => {
    const read = await call("GET", "/v3/configs/config/secrets/names", undefined, "dp.st.readonly");
    expect(read.status).toBe(200);
    const write = await call("POST", "/v3/configs/config/secrets", { secrets: { A: "1" } }, "dp.st.readonly");
    expect(write.status).toBe(403);
    expect(write.body.success).toBe(false);
  });

  it("a service token is refused on another config with 403", async () => {
    const config = freshConfig();
    const reply = await call(
      "GET",
      `/v3/configs/config/secrets?project=app&config=${config}`,
      undefined,
      "dp.st.readonly",
    );
    expect(reply.status).toBe(403);
  });

  it("an unknown project or config is 404 saying which", async () => {
    const project = await call("GET", "/v3/configs/config/secrets?project=nope&config=dev");
    expect(project.status).toBe(404);
    expect(project.body.messages[0]).toMatch(/project/);
    const config = await call("GET", "/v3/configs/config/secrets?project=app&config=nope");
    expect(config.status).toBe(404);
    expect(config.body.messages[0]).toMatch(/config/);
  });
});

describe("doppler emulator: secrets", () => {
  it("update then retrieve: {name, value:{raw, computed, note}}", async () => {
    const config = freshConfig();
    const update = await call("POST", "/v3/configs/config/secrets", {
      project: "app",
      config,
      secrets: { API_KEY: "k-1" },
    });
    expect(update.status).toBe(200);
    expect(update.body.secrets.API_KEY).toMatchObject({ raw: "k-1", computed: "k-1" });
    const got = await call("GET", `/v3/configs/config/secret?project=app&config=${config}&name=API_KEY`);
    expect(got.body).toMatchObject({
      success: true,
      name: "API_KEY",
      value: { raw: "k-1", computed: "k-1", note: "" },
    });
  });

  it("computed expands ${NAME} references; raw keeps them", async () => {
    const config = freshConfig();
    await call("POST", "/v3/configs/config/secrets", {
      project: "app",
      config,
      secrets: { HOST: "db.internal", URL: "postgres://${HOST}/app" },
    });
    const got = await call("GET", `/v3/configs/config/secret?project=app&config=${config}&name=URL`);
    expect(got.body.value.raw).toBe("postgres://${HOST}/app");
    expect(got.body.value.computed).toBe("postgres://db.internal/app");
  });

  it("a missing secret is 404 with a message", async () => {
    const config = freshConfig();
    const got = await call("GET", `/v3/configs/config/secret?project=app&config=${config}&name=NOPE`);
    expect(got.status).toBe(404);
    expect(got.body).toEqual({ messages: ["Could not find requested secret"], success: false });
  });

  it("refuses names outside [A-Z_][A-Z0-9_]* with 400", async () => {
    const config = freshConfig();
    for (const name of ["lower", "1ABC", "A-B"]) {
      const reply = await call("POST", "/v3/configs/config/secrets", {
        project: "app",
        config,
        secrets: { [name]: "x" },
      });
      expect(reply.status).toBe(400);
      expect(reply.body.success).toBe(false);
    }
  });

  it("list includes the managed DOPPLER_* secrets unless include_managed_secrets=false", async () => {
    const config = freshConfig();
    await call("POST", "/v3/configs/config/secrets", { project: "app", config, secrets: { MINE: "1" } });
    const all = await call("GET", `/v3/configs/config/secrets/names?project=app&config=${config}`);
    expect(all.body.names).toEqual(expect.arrayContaining(["MINE", "DOPPLER_PROJECT", "DOPPLER_CONFIG"]));
    const mine = await call(
      "GET",
      `/v3/configs/config/secrets/names?project=app&config=${config}&include_managed_secrets=false`,
    );
    expect(mine.body.names).toEqual(["MINE"]);
    const listed = await call(
      "GET",
      `/v3/configs/config/secrets?project=app&config=${config}&include_managed_secrets=false`,
    );
    expect(Object.keys(listed.body.secrets)).toEqual(["MINE"]);
  });

  it("sets a note, kept across value updates", async () => {
    const config = freshConfig();
    await call("POST", "/v3/configs/config/secrets", { project: "app", config, secrets: { N: "1" } });
    const note = await call("POST", "/v3/configs/config/secrets/note", {
      project: "app",
      config,
      secret: "N",
      note: "hello",
    });
    expect(note.body).toEqual({ secret: "N", note: "hello", success: true });
    await call("POST", "/v3/configs/config/secrets", { project: "app", config, secrets: { N: "2" } });
    const got = await call("GET", `/v3/configs/config/secret?project=app&config=${config}&name=N`);
    expect(got.body.value).toMatchObject({ raw: "2", note: "hello" });
  });

  it("deletes with DELETE, then 404", async () => {
    const config = freshConfig();
    await call("POST", "/v3/configs/config/secrets", { project: "app", config, secrets: { GONE: "1" } });
    const path = `/v3/configs/config/secret?project=app&config=${config}&name=GONE`;
    expect((await call("DELETE", path)).status).toBe(200);
    expect((await call("DELETE", path)).status).toBe(404);
    expect((await call("GET", path)).status).toBe(404);
  });

  it("change_requests add, rename and delete; secrets and change_requests together are refused", async () => {
    const config = freshConfig();
    const post = (body: object) =>
      call("POST", "/v3/configs/config/secrets", { project: "app", config, ...body });
    await post({ change_requests: [{ name: "A", originalName: null, value: "1" }] });
    await post({ change_requests: [{ name: "B", originalName: "A", value: null }] });
    let names = (
      await call(
        "GET",
        `/v3/configs/config/secrets/names?project=app&config=${config}&include_managed_secrets=false`,
      )
    ).body.names;
    expect(names).toEqual(["B"]);
    await post({ change_requests: [{ name: "B", originalName: "B", value: null, shouldDelete: true }] });
    names = (
      await call(
        "GET",
        `/v3/configs/config/secrets/names?project=app&config=${config}&include_managed_secrets=false`,
      )
    ).body.names;
    expect(names).toEqual([]);
    expect((await post({ secrets: { C: "1" }, change_requests: [] })).status).toBe(400);
  });

  it("injects faults with Doppler's error body", async () => {
    doppler.faults.failNext(1, 429, undefined, { "retry-after": "1" });
    const response = await fetch(`${doppler.url}/v3/configs/config/secrets/names?project=app&config=ro`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(((await response.json()) as { success: boolean }).success).toBe(false);
    expect(doppler.requests.at(-1)?.path).toBe("/v3/configs/config/secrets/names");
  });
});
