import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import knex from "knex";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../packages/cli/src/bin.ts", import.meta.url));
const PG_URL = process.env.STRONGBOX_IT_POSTGRES_URL;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `strongbox` from its sources in `cwd`, with only the given STRONGBOX_* variables. */
function strongbox(
  cwd: string,
  args: string[],
  options: { input?: string | Buffer; env?: Record<string, string> } = {},
): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !name.startsWith("STRONGBOX_")) env[name] = value;
  Object.assign(env, { HOME: cwd, NO_COLOR: "1" }, options.env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--conditions=source", BIN, ...args], { cwd, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    child.stdin.end(options.input ?? "");
  });
}

const dirs: string[] = [];
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), "sbx-cli-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Each call starts a Node process that loads the sources: allow for a loaded machine.
describe("strongbox on the embedded SQLite store", { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = workspace();
    const init = await strongbox(dir, ["init"]);
    expect(init.code).toBe(0);
    // A secret several tests read: each test can run alone.
    await strongbox(dir, ["set", "DB_PASSWORD", "--namespace", "company.team"], { input: "team-secret" });
  });

  it("init writes a config and a 0600 key file, and never prints the key", async () => {
    // prepare
    const key = readFileSync(join(dir, ".strongbox", "key"), "utf8").trim();
    const other = workspace();
    // act
    const run = await strongbox(other, ["init"]);
    const again = await strongbox(other, ["init"]);
    // assert
    expect(run.code).toBe(0);
    expect(readFileSync(join(dir, "strongbox.yaml"), "utf8")).toMatch(/secret-file:/);
    expect(statSync(join(dir, ".strongbox", "key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, ".strongbox", "secrets.db")).mode & 0o777).toBe(0o600);
    expect(key.length).toBeGreaterThanOrEqual(32);
    expect(run.stdout + run.stderr).not.toContain(
      readFileSync(join(other, ".strongbox", "key"), "utf8").trim(),
    );
    expect(again.code).toBe(6);
    expect(again.stderr).toMatch(/exists already: pass --force/);
  });

  it("set reads the value from stdin and get prints it", async () => {
    // act
    const set = await strongbox(
      dir,
      ["set", "DB_PASSWORD", "--namespace", "company.team", "--tag", "app=billing"],
      {
        input: "team-secret\n",
      },
    );
    const get = await strongbox(dir, ["get", "DB_PASSWORD", "--namespace", "company.team"]);
    // assert
    expect(set.code).toBe(0);
    expect(set.stdout + set.stderr).not.toContain("team-secret");
    expect(get.code).toBe(0);
    expect(get.stdout).toBe("team-secret\n");
  });

  it("get finds a secret through namespace inheritance and --json says where", async () => {
    // prepare
    await strongbox(dir, ["set", "SHARED", "--namespace", "company", "--description", "for all"], {
      input: "shared-value",
    });
    // act
    const run = await strongbox(dir, ["get", "SHARED", "--namespace", "company.team.etl", "--json"]);
    // assert
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout);
    expect(parsed).toMatchObject({
      value: "shared-value",
      foundIn: "company",
      inherited: true,
      description: "for all",
      requested: { namespace: "company.team.etl", key: "SHARED" },
    });
  });

  it("set refuses empty input unless --allow-empty", async () => {
    // act
    const refused = await strongbox(dir, ["set", "EMPTY", "-n", "e"], { input: "" });
    const allowed = await strongbox(dir, ["set", "EMPTY", "-n", "e", "--allow-empty"], { input: "" });
    const read = await strongbox(dir, ["get", "EMPTY", "-n", "e", "--json"]);
    // assert
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/the value is empty/);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(read.stdout)).toMatchObject({ value: "", version: "1" });
  });

  it("set refuses a value given on the command line (it would show in the process list)", async () => {
    // act
    const run = await strongbox(dir, ["set", "LEAKY", "on-the-command-line", "--namespace", "x"]);
    // assert
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/takes no value on the command line/);
    expect(run.stdout + run.stderr).not.toContain("on-the-command-line");
    expect((await strongbox(dir, ["get", "LEAKY", "--namespace", "x"])).code).toBe(3);
  });

  it("list filters by namespace and tags, as a table or JSON, and never shows values", async () => {
    // prepare
    for (const [key, app] of [
      ["L1", "billing"],
      ["L2", "billing"],
      ["L3", "etl"],
    ] as const)
      await strongbox(dir, ["set", key, "--namespace", "listing", "--tag", `app=${app}`], {
        input: `value-of-${key}`,
      });
    // act
    const json = await strongbox(dir, [
      "list",
      "--namespace",
      "listing",
      "--tag",
      "app=billing",
      "--output",
      "json",
    ]);
    const text = await strongbox(dir, ["list", "--namespace", "listing"]);
    // assert
    expect(JSON.parse(json.stdout).map((entry: { ref: { key: string } }) => entry.ref.key)).toEqual([
      "L1",
      "L2",
    ]);
    expect(text.stdout).toMatch(/NAMESPACE\s+KEY\s+VERSION\s+TAGS/);
    expect(text.stdout).toMatch(/listing\s+L3\s+1\s+app=etl/);
    expect(json.stdout + text.stdout).not.toContain("value-of-");
    expect(text.stdout).not.toContain("\u001b[");
  });

  it("a missing secret exits 3 with a message naming where it looked", async () => {
    // act
    const run = await strongbox(dir, ["get", "NOPE", "--namespace", "a.b"]);
    // assert
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/not found: a\.b\/NOPE \(looked in a\.b, a, \(root\)\)/);
  });

  it("delete removes a secret and exits 3 when there was none", async () => {
    // prepare
    await strongbox(dir, ["set", "GONE", "--namespace", "d"], { input: "bye" });
    // act
    const first = await strongbox(dir, ["delete", "GONE", "--namespace", "d"]);
    const second = await strongbox(dir, ["delete", "GONE", "--namespace", "d"]);
    // assert
    expect(first.code).toBe(0);
    expect(second.code).toBe(3);
  });

  it("imports a .env file and exports it back as .env and JSON", async () => {
    // prepare
    writeFileSync(join(dir, "in.env"), 'A=1\nB="two words"\n# comment\nexport C=x=y\n');
    // act
    const imported = await strongbox(dir, [
      "import",
      "in.env",
      "--namespace",
      "env.test",
      "--tag",
      "src=dotenv",
    ]);
    const env = await strongbox(dir, ["export", "--namespace", "env.test"]);
    const json = await strongbox(dir, ["export", "--namespace", "env.test", "--format", "json"]);
    // assert
    expect(imported.code).toBe(0);
    expect(imported.stderr).not.toContain("two words");
    expect(env.stdout).toBe('A="1"\nB="two words"\nC="x=y"\n');
    expect(JSON.parse(json.stdout)).toContainEqual({
      namespace: "env.test",
      key: "B",
      value: "two words",
      tags: { src: "dotenv" },
    });
  });

  it("rotate-key re-encrypts everything under a new key file and every value still reads", async () => {
    // prepare
    const keyFile = join(dir, ".strongbox", "key");
    const before = readFileSync(keyFile, "utf8");
    await strongbox(dir, ["set", "ROTATED", "--namespace", "rot"], { input: "survives-rotation" });
    // act
    const run = await strongbox(dir, ["rotate-key", "--output", "json"]);
    // assert
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).rotated).toBeGreaterThan(0);
    const after = readFileSync(keyFile, "utf8");
    expect(after).not.toBe(before);
    expect(after.trim().split("\n")).toHaveLength(1);
    expect((await strongbox(dir, ["get", "ROTATED", "--namespace", "rot"])).stdout).toBe(
      "survives-rotation\n",
    );
  });

  it("doctor checks the configuration and the store without printing any value", async () => {
    // act
    const run = await strongbox(dir, ["doctor"]);
    // assert
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ok +store: reachable; schema and key verified/);
    expect(run.stdout).not.toMatch(/team-secret|shared-value/);
  });

  it("a wrong key exits 7 with a message to act on", async () => {
    // prepare
    const bad = join(dir, "bad-key");
    writeFileSync(bad, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600 });
    // act
    const run = await strongbox(dir, ["get", "DB_PASSWORD", "--namespace", "company.team"], {
      env: { STRONGBOX_SECRET__JDBC__SECRET_FILE: bad },
    });
    // assert
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/none of the configured keys opens table/);
    expect(run.stdout).toBe("");
  });

  it("flags override STRONGBOX_* variables, which override the file", async () => {
    // prepare
    const other = join(dir, "other.db");
    const env = { STRONGBOX_SECRET__JDBC__URL: `sqlite:${other}` };
    // act: the variable points at an empty store, the flag back at the file's
    const fromEnv = await strongbox(dir, ["get", "DB_PASSWORD", "--namespace", "company.team"], { env });
    const fromFlag = await strongbox(
      dir,
      [
        "--set",
        `secret.jdbc.url=sqlite:${join(dir, ".strongbox", "secrets.db")}`,
        "get",
        "DB_PASSWORD",
        "-n",
        "company.team",
      ],
      { env },
    );
    // assert
    expect(fromEnv.code).toBe(3);
    expect(fromFlag.stdout).toBe("team-secret\n");
  });

  it("a file field that a flag replaces needs none of its ${VAR}s; one left unset exits 4 naming it", async () => {
    // prepare
    const file = join(dir, "unset.yaml");
    const config = readFileSync(join(dir, "strongbox.yaml"), "utf8").replace(
      /url: .*/,
      "url: ${STRONGBOX_TEST_UNSET_URL}",
    );
    writeFileSync(file, config);
    const url = `sqlite:${join(dir, ".strongbox", "secrets.db")}`;
    // act
    const replaced = await strongbox(dir, [
      "--config",
      file,
      "--set",
      `secret.jdbc.url=${url}`,
      "get",
      "DB_PASSWORD",
      "-n",
      "company.team",
    ]);
    const fromEnv = await strongbox(dir, ["--config", file, "get", "DB_PASSWORD", "-n", "company.team"], {
      env: { STRONGBOX_SECRET__JDBC__URL: url },
    });
    const unset = await strongbox(dir, ["--config", file, "get", "DB_PASSWORD", "-n", "company.team"]);
    // assert
    expect(replaced.stdout).toBe("team-secret\n");
    expect(fromEnv.stdout).toBe("team-secret\n");
    expect(unset.code).toBe(4);
    expect(unset.stderr).toMatch(/secret\.jdbc\.url uses \$\{STRONGBOX_TEST_UNSET_URL\}, which is not set/);
  });

  it("bad configuration exits 4 naming the field, and no configuration says to run init", async () => {
    // prepare
    const empty = workspace();
    writeFileSync(
      join(empty, "bad.yaml"),
      "secret:\n  type: jdbc\n  jdbc:\n    url: sqlite:./x.db\n    secret: short\n",
    );
    // act
    const bad = await strongbox(empty, ["--config", "bad.yaml", "list"]);
    const none = await strongbox(empty, ["list"]);
    // assert
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/secret\.jdbc\.secret/);
    expect(bad.stderr).not.toContain("short");
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/run `strongbox init`/);
  });

  it("STRONGBOX_NAMESPACE stands in for --namespace, and the flag wins over it", async () => {
    // prepare
    await strongbox(dir, ["set", "SCOPED", "-n", "from.env"], { input: "env-scoped" });
    await strongbox(dir, ["set", "SCOPED", "-n", "from.flag"], { input: "flag-scoped" });
    const env = { STRONGBOX_NAMESPACE: "from.env" };
    // act
    const fromEnv = await strongbox(dir, ["get", "SCOPED"], { env });
    const fromFlag = await strongbox(dir, ["get", "SCOPED", "-n", "from.flag"], { env });
    // assert
    expect(fromEnv.stdout).toBe("env-scoped\n");
    expect(fromFlag.stdout).toBe("flag-scoped\n");
  });

  it("--service runs as that service: a denied one exits 5 before reaching the store", async () => {
    // prepare
    const isolation = [
      "--set",
      "secret.isolation.enabled=true",
      "--set",
      "secret.isolation.denied-services=[executor]",
    ];
    await strongbox(dir, ["set", "ISOLATED", "-n", "iso"], { input: "iso-value" });
    // act
    const denied = await strongbox(dir, [
      ...isolation,
      "--service",
      "executor",
      "get",
      "ISOLATED",
      "-n",
      "iso",
    ]);
    const allowed = await strongbox(dir, [
      ...isolation,
      "--service",
      "worker",
      "get",
      "ISOLATED",
      "-n",
      "iso",
    ]);
    // assert
    expect(denied.code).toBe(5);
    expect(denied.stdout).toBe("");
    expect(allowed.stdout).toBe("iso-value\n");
  });

  it("init --key-env uses a key already in STRONGBOX_KEY and prints nothing of it", async () => {
    // prepare
    const other = workspace();
    const key = randomBytes(32).toString("base64");
    // act
    const init = await strongbox(other, ["init", "--key-env"], { env: { STRONGBOX_KEY: key } });
    const set = await strongbox(other, ["set", "K", "-n", "env"], {
      env: { STRONGBOX_KEY: key },
      input: "v",
    });
    // assert
    expect(init.code).toBe(0);
    expect(init.stdout + init.stderr).not.toContain(key);
    expect(readFileSync(join(other, "strongbox.yaml"), "utf8")).toContain("secret: ${STRONGBOX_KEY}");
    expect(set.code).toBe(0);
    const unset = workspace();
    const refused = await strongbox(unset, ["init", "--key-env"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/STRONGBOX_KEY is not set/);
    expect(readdirSync(unset)).not.toContain("strongbox.yaml");
  });

  it("an unknown command or option is a usage error (exit 2)", async () => {
    // act
    const run = await strongbox(dir, ["fetch", "X"]);
    // assert
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command/);
  });
});

/**
 * A person's terminal: colours allowed, no configuration from the test's own variables, and
 * no `CI` (under a generic CI variable Node reports a terminal as colourless).
 */
function terminalEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !/^(STRONGBOX_|NO_COLOR$|FORCE_COLOR$|NODE_DISABLE_COLORS$|CI$)/.test(name))
      env[name] = value;
  return { ...env, HOME: home, TERM: "xterm-256color" };
}

const HAS_SCRIPT = ["/usr/bin/script", "/bin/script"].some((path) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
});

describe.skipIf(!HAS_SCRIPT)(
  `strongbox set on a terminal${HAS_SCRIPT ? "" : " (skipped: no script(1) to make a terminal)"}`,
  { timeout: 60_000 },
  () => {
    it("migrate shows a progress bar on a terminal", async () => {
      // prepare
      const dir = workspace();
      await strongbox(dir, ["init"]);
      for (const key of ["P1", "P2", "P3"])
        await strongbox(dir, ["set", key, "-n", "bar"], { input: `${key}-value` });
      writeFileSync(
        join(dir, "target.yaml"),
        `secret:\n  jdbc:\n    url: sqlite:${join(dir, "target.db")}\n    secret: ${randomBytes(32).toString("base64")}\n`,
      );
      const command = `node --conditions=source ${BIN} migrate --from strongbox.yaml --to target.yaml`;
      // act
      const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: dir, env: terminalEnv(dir) });
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      // assert
      expect(code).toBe(0);
      expect(output).toMatch(/migrating \[.*\] 3\/3 secrets/);
      expect(output).toMatch(/copied 3 of 3 secret\(s\)/);
      expect(output).not.toContain("-value");
    });

    it("asks for the value twice at a hidden prompt, never echoes it, and colours only there", async () => {
      // prepare: script(1) runs the command on a pseudo-terminal
      const dir = workspace();
      const value = `typed-${randomBytes(6).toString("hex")}`;
      const settings = [
        `--set secret.jdbc.url=sqlite:${join(dir, "tty.db")}`,
        `--set secret.jdbc.secret=${randomBytes(32).toString("base64")}`,
      ];
      const command = `node --conditions=source ${BIN} ${settings.join(" ")} set TYPED -n tty`;
      const child = spawn("script", ["-qec", command, "/dev/null"], { cwd: dir, env: terminalEnv(dir) });
      let output = "";
      let answered = 0;
      // act: type only once each prompt is shown (typing earlier would be echoed by the terminal itself)
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        if (answered === 0 && output.includes("value (hidden): ")) {
          answered = 1;
          child.stdin.write(`${value}\r`);
        } else if (answered === 1 && output.includes("again: ")) {
          answered = 2;
          child.stdin.write(`${value}\r`);
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      const read = await strongbox(dir, [
        ...settings.flatMap((setting) => setting.split(" ")),
        "get",
        "TYPED",
        "-n",
        "tty",
      ]);
      // assert
      expect(code).toBe(0);
      expect(output).not.toContain(value);
      expect(output).toContain("\u001b[32mstored\u001b[39m tty/TYPED");
      expect(read.stdout).toBe(`${value}\n`);
    });
  },
);

const DIST_BIN = fileURLToPath(new URL("../packages/cli/dist/bin.js", import.meta.url));
const HAS_DIST = (() => {
  try {
    return statSync(DIST_BIN).isFile();
  } catch {
    return false;
  }
})();

describe.skipIf(!HAS_DIST)(
  `the built strongbox binary${HAS_DIST ? "" : " (skipped: run npm run build --workspace @strongbox/cli)"}`,
  { timeout: 60_000 },
  () => {
    it("packages/cli/dist/bin.js runs: stores and reads a secret", async () => {
      // prepare
      const dir = workspace();
      const settings = [
        "--set",
        `secret.jdbc.url=sqlite:${join(dir, "dist.db")}`,
        "--set",
        `secret.jdbc.secret=${randomBytes(32).toString("base64")}`,
      ];
      const run = (args: string[], input = "") =>
        new Promise<Run>((resolve, reject) => {
          const child = spawn(process.execPath, [DIST_BIN, ...settings, ...args], {
            cwd: dir,
            env: terminalEnv(dir),
          });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (chunk: Buffer) => {
            stdout += chunk.toString();
          });
          child.stderr.on("data", (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          child.on("error", reject);
          child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
          child.stdin.end(input);
        });
      // act
      const set = await run(["set", "BUILT", "-n", "dist.ns"], "from-the-build");
      const get = await run(["get", "BUILT", "-n", "dist.ns.deeper"]);
      // assert
      expect(set.code, set.stderr).toBe(0);
      expect(get.stdout).toBe("from-the-build\n");
    });
  },
);

describe("strongbox credential test", { timeout: 60_000 }, () => {
  it("mints a token from a secret found through inheritance and prints neither the token nor the secret", async () => {
    // prepare: a token endpoint that accepts client "cli" with the stored secret (Basic auth)
    // Letters and digits only: the client form-urlencodes the secret in Basic auth (RFC 6749 2.3.1).
    const clientSecret = `clientsecret${randomBytes(6).toString("hex")}`;
    const token = `access-token-${randomBytes(6).toString("hex")}`;
    const server = createServer((request, response) => {
      const expected = `Basic ${Buffer.from(`cli:${clientSecret}`).toString("base64")}`;
      const ok = request.headers.authorization === expected;
      response.writeHead(ok ? 200 : 401, { "content-type": "application/json", "cache-control": "no-store" });
      response.end(
        JSON.stringify(
          ok
            ? { access_token: token, token_type: "Bearer", expires_in: 3600, scope: "read" }
            : { error: "invalid_client" },
        ),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const dir = workspace();
    await strongbox(dir, ["init"]);
    appendFileSync(
      join(dir, "strongbox.yaml"),
      `credentials:\n  my_oauth:\n    type: client_credentials\n    token-endpoint: http://127.0.0.1:${port}/token\n    client-id: cli\n    client-secret: "{{ secret('CLIENT_SECRET') }}"\n    allow-insecure-requests: true\n`,
    );
    await strongbox(dir, ["set", "CLIENT_SECRET", "-n", "company.team"], { input: clientSecret });
    try {
      // act
      const good = await strongbox(dir, ["credential", "test", "my_oauth", "-n", "company.team.etl"]);
      await strongbox(dir, ["set", "CLIENT_SECRET", "-n", "company.team"], {
        input: "awrongclientsecret",
      });
      const bad = await strongbox(dir, ["credential", "test", "my_oauth", "-n", "company.team.etl"]);
      // assert
      expect(good.code, good.stderr).toBe(0);
      expect(good.stdout).toMatch(/ok my_oauth: a Bearer token was issued/);
      expect(bad.code).not.toBe(0);
      for (const output of [good.stdout, good.stderr, bad.stdout, bad.stderr]) {
        expect(output).not.toContain(token);
        expect(output).not.toContain(clientSecret);
        expect(output).not.toContain("awrongclientsecret");
      }
    } finally {
      server.close();
    }
  });
});

describe.skipIf(PG_URL === undefined)(
  `strongbox on PostgreSQL${PG_URL === undefined ? " (skipped: STRONGBOX_IT_POSTGRES_URL is not set)" : ""}`,
  { timeout: 90_000 },
  () => {
    const table = `sbx_cli_${randomBytes(4).toString("hex")}`;
    const key = randomBytes(32).toString("base64");
    const env = {
      STRONGBOX_SECRET__TYPE: "jdbc",
      STRONGBOX_SECRET__JDBC__URL: PG_URL ?? "",
      STRONGBOX_SECRET__JDBC__TABLE: table,
      STRONGBOX_SECRET__JDBC__SECRET: key,
    };
    afterAll(async () => {
      const db = knex({ client: "pg", connection: PG_URL });
      for (const suffix of ["", "_versions", "_tags", "_meta", "_migrations"])
        await db.schema.dropTableIfExists(`${table}${suffix}`);
      await db.destroy();
    });

    it("works from STRONGBOX_* variables alone: set, get through inheritance, list", async () => {
      // prepare
      const dir = workspace();
      // act
      const set = await strongbox(dir, ["set", "PG_SECRET", "--tenant", "acme", "--namespace", "company"], {
        env,
        input: "pg-value",
      });
      const get = await strongbox(
        dir,
        ["get", "PG_SECRET", "--tenant", "acme", "--namespace", "company.team"],
        { env },
      );
      const list = await strongbox(dir, ["list", "--tenant", "acme", "-o", "json"], { env });
      // assert
      expect(set.code).toBe(0);
      expect(get.stdout).toBe("pg-value\n");
      expect(JSON.parse(list.stdout)).toHaveLength(1);
    });

    it("migrate copies SQLite to PostgreSQL with tags and descriptions: dry run, copy, resume", async () => {
      // prepare
      const dir = workspace();
      await strongbox(dir, ["init"]);
      await strongbox(dir, ["set", "M1", "-n", "mig", "--tag", "t=1", "-d", "first"], { input: "m-one" });
      await strongbox(dir, ["set", "M2", "-n", "mig"], { input: "m-two" });
      writeFileSync(
        join(dir, "pg.yaml"),
        `secret:\n  type: jdbc\n  jdbc:\n    url: ${PG_URL}\n    table: ${table}\n    secret: \${PG_KEY}\n`,
      );
      const run = (args: string[]) => strongbox(dir, args, { env: { PG_KEY: key } });
      // act
      const dry = await run([
        "migrate",
        "--from",
        "strongbox.yaml",
        "--to",
        "pg.yaml",
        "-n",
        "mig",
        "--dry-run",
        "-o",
        "json",
      ]);
      const afterDry = await run(["--config", "pg.yaml", "list", "-n", "mig", "-o", "json"]);
      const copy = await run([
        "migrate",
        "--from",
        "strongbox.yaml",
        "--to",
        "pg.yaml",
        "-n",
        "mig",
        "-o",
        "json",
      ]);
      const resume = await run([
        "migrate",
        "--from",
        "strongbox.yaml",
        "--to",
        "pg.yaml",
        "-n",
        "mig",
        "-o",
        "json",
      ]);
      const copied = await run(["--config", "pg.yaml", "get", "M1", "-n", "mig", "--json"]);
      // assert
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, copied: 2 });
      expect(JSON.parse(afterDry.stdout)).toEqual([]);
      expect(JSON.parse(copy.stdout)).toMatchObject({ copied: 2, unchanged: 0 });
      expect(JSON.parse(resume.stdout)).toMatchObject({ copied: 0, unchanged: 2 });
      expect(JSON.parse(copied.stdout)).toMatchObject({
        value: "m-one",
        tags: { t: "1" },
        description: "first",
      });
    });

    it("an unreachable database exits 8 with a message to act on", async () => {
      // act
      const run = await strongbox(workspace(), ["doctor"], {
        env: { ...env, STRONGBOX_SECRET__JDBC__URL: "postgres://postgres@127.0.0.1:1/test" },
      });
      // assert
      expect(run.code).toBe(8);
      expect(run.stdout).toMatch(/FAIL store: .*cannot be reached/);
    });
  },
);
