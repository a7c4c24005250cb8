import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jdbc } from "@strongbox/jdbc";
import Database from "better-sqlite3";
import pg from "pg";
import { type BenchResult, paired, pairedRounds, ratio, timeNs } from "../harness.ts";

const SECRET = randomBytes(32).toString("base64");

const KEYS = Array.from({ length: 200 }, (_, index) => `SECRET_${index}`);
const VALUE = "x".repeat(64);

/** The limit's decrypt: one AES-256-GCM open of a 64-byte value with node:crypto. */
function rawCipher(): { sealed: Buffer; open: (sealed: Buffer) => Buffer } {
  // A KeyObject made once, as a careful raw implementation would (a Buffer key costs more per call).
  const key = createSecretKey(randomBytes(32));
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(VALUE), cipher.final()]);
  const sealed = Buffer.concat([iv, body, cipher.getAuthTag()]);
  return {
    sealed,
    open: (data) => {
      const decipher = createDecipheriv("aes-256-gcm", key, data.subarray(0, 12));
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(12, data.length - 16)), decipher.final()]);
    },
  };
}

/**
 * The point read the store runs for a current value, written out here: the limits send the same
 * statement with the raw driver, so each ratio shows what Strongbox adds (pool, mapping, the
 * envelope's checks), not a cheaper query. Keep it in step with getSql in packages/jdbc/src/queries.ts.
 */
function pointSql(table: string, placeholder: string): string {
  const columns = "s.id, s.tenant, s.namespace, s.ref_key, s.description, s.tags, s.created_at, s.updated_at";
  return `SELECT ${columns}, s.version, (SELECT v.envelope FROM ${table}_versions v WHERE v.secret_id = s.id AND v.version = s.version) AS envelope FROM ${table} s WHERE s.ref_hash = ${placeholder}`;
}

async function sqliteGet(dir: string): Promise<BenchResult> {
  const file = join(dir, "get.db");
  const table = "bench_get";
  const backend = jdbc({ url: `sqlite:${file}`, secret: SECRET, table });
  for (const key of KEYS) await backend.put({ namespace: "bench", key }, VALUE, { tags: { app: "bench" } });
  const raw = new Database(file, { readonly: true });
  const hashes = (
    raw.prepare(`SELECT ref_hash FROM ${table} ORDER BY id`).all() as { ref_hash: string }[]
  ).map((row) => row.ref_hash);
  const point = raw.prepare(pointSql(table, "?"));
  const { sealed, open } = rawCipher();
  let i = 0;
  const { oursNs: ours, limitNs: limit } = await paired(
    () => backend.get({ namespace: "bench", key: KEYS[i++ % KEYS.length] as string }),
    async () => {
      const row = point.get(hashes[i++ % hashes.length]) as { envelope: string };
      return [row.envelope.length, open(sealed)];
    },
  );
  raw.close();
  await backend.close();
  const ratioToLimit = ratio(ours, limit);
  return {
    description:
      "uncached get from the SQLite store (200 secrets, 64-byte values, tags): read, decrypt, metadata",
    goal: "ratioToLimit <= 2 (limit: the store's own point read, prepared with raw better-sqlite3, plus one node:crypto AES-256-GCM decrypt)",
    pass: ratioToLimit <= 2,
    oursNs: ours,
    limitNs: limit,
    ratioToLimit,
  };
}

async function postgresGet(url: string): Promise<BenchResult> {
  const table = `bench_get_${randomBytes(4).toString("hex")}`;
  const setup = new pg.Client({ connectionString: url });
  const writer = jdbc({ url, secret: SECRET, table });
  try {
    for (const key of KEYS) await writer.put({ namespace: "bench", key }, VALUE, { tags: { app: "bench" } });
    await writer.close();
    await setup.connect();
    const hashes = (await setup.query(`SELECT ref_hash FROM ${table} ORDER BY id`)).rows.map(
      (row) => row.ref_hash as string,
    );
    const { sealed, open } = rawCipher();
    const text = pointSql(table, "$1");
    let i = 0;
    // Each round reads through a new store and a new raw client: new server processes for both.
    const {
      oursNs: ours,
      limitNs: limit,
      rounds,
    } = await pairedRounds(async () => {
      const backend = jdbc({ url, secret: SECRET, table });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        ours: () => backend.get({ namespace: "bench", key: KEYS[i++ % KEYS.length] as string }),
        limit: async () => {
          const result = await client.query({
            name: "bench_raw_get",
            text,
            values: [hashes[i++ % hashes.length]],
          });
          return [result.rows[0].envelope.length, open(sealed)];
        },
        close: async () => {
          await client.end();
          await backend.close();
        },
      };
    });
    const ratioToLimit = ratio(ours, limit);
    return {
      description:
        "uncached get from the PostgreSQL store on localhost (200 secrets, 64-byte values, tags); median of 7 rounds, each on new connections",
      goal: "ratioToLimit <= 1.3 (limit: the store's own point query, prepared with raw pg, plus one node:crypto AES-256-GCM decrypt)",
      pass: ratioToLimit <= 1.3,
      oursNs: ours,
      limitNs: limit,
      ratioToLimit,
      roundRatios: rounds.map((round) => ratio(round.oursNs, round.limitNs)),
    };
  } finally {
    for (const suffix of ["", "_versions", "_tags", "_meta", "_migrations"])
      await setup.query(`DROP TABLE IF EXISTS ${table}${suffix}`).catch(() => undefined);
    await setup.end().catch(() => undefined);
    await writer.close();
  }
}

const TOTAL = 100_000;

/** Fills the store's tables directly (the envelopes are not read by `list`), in one transaction. */
function fill(file: string, table: string): void {
  const db = new Database(file);
  const now = Date.now();
  const secret = db.prepare(
    `INSERT INTO ${table} (ref_hash, prefix, tenant, namespace, ref_key, description, tags, version, created_at, updated_at) VALUES (?, '', '', ?, ?, NULL, ?, 1, ?, ?)`,
  );
  const version = db.prepare(
    `INSERT INTO ${table}_versions (secret_id, version, key_id, envelope, created_at) VALUES (?, 1, 'k', 'v1:k:x', ?)`,
  );
  const tag = db.prepare(`INSERT INTO ${table}_tags (secret_id, tag_name, tag_value) VALUES (?, ?, ?)`);
  db.transaction(() => {
    for (let i = 0; i < TOTAL; i++) {
      const namespace = `company.team${i % 10}`;
      const key = `KEY_${i}`;
      const tags = { team: `t${i % 100}`, env: ["dev", "staging", "prod"][i % 3] as string };
      const hash = createHash("sha256")
        .update(JSON.stringify(["", "", namespace, key]))
        .digest("hex");
      const id = Number(secret.run(hash, namespace, key, JSON.stringify(tags), now, now).lastInsertRowid);
      version.run(id, now);
      for (const [name, value] of Object.entries(tags)) tag.run(id, name, value);
    }
  })();
  db.close();
}

async function sqliteListTags(dir: string): Promise<BenchResult> {
  const file = join(dir, "list.db");
  const table = "bench_list";
  const backend = jdbc({ url: `sqlite:${file}`, secret: SECRET, table });
  await backend.migrate();
  fill(file, table);
  const filter = { team: "t7", env: "prod" };
  const listAll = async () => {
    let count = 0;
    for await (const _ of backend.list({ tags: filter })) count++;
    return count;
  };
  const matched = await listAll();
  const ours = await timeNs(listAll, { minSamples: 10 });
  const db = new Database(file, { readonly: true });
  // The SQL of one page, as listPage builds it.
  const sql = `SELECT s.id FROM ${table}_tags t0 JOIN ${table} s ON s.id = t0.secret_id WHERE t0.tag_name = ? AND t0.tag_value = ? AND t0.secret_id > 0 AND s.prefix = '' AND EXISTS (SELECT 1 FROM ${table}_tags t1 WHERE t1.secret_id = s.id AND t1.tag_name = ? AND t1.tag_value = ?) ORDER BY t0.secret_id LIMIT 500`;
  const plan = (
    db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all("team", "t7", "env", "prod") as { detail: string }[]
  ).map((row) => row.detail);
  // Rows the plan touches: the index range of the first tag; the second is one primary-key probe per row.
  const scanned = (
    db
      .prepare(`SELECT count(*) AS n FROM ${table}_tags WHERE tag_name = 'team' AND tag_value = 't7'`)
      .get() as {
      n: number;
    }
  ).n;
  db.close();
  await backend.close();
  const fullScan = plan.some((line) => /^SCAN /.test(line));
  return {
    description: `list with a two-tag filter over ${TOTAL} secrets in SQLite (${matched} match), every page`,
    goal: "the filter runs in SQL through the tags index (no full scan of the secrets table), rows scanned near rows matched",
    pass: !fullScan && matched === 333 && scanned <= TOTAL / 50,
    oursNs: ours,
    oursMs: Math.round(ours / 1e4) / 100,
    secrets: TOTAL,
    matched,
    rowsScanned: scanned,
    queryPlan: plan,
  };
}

/** `npm run bench -- jdbc`: the SQL store against raw driver reads, and a tag filter over 100,000 secrets. */
export async function run(): Promise<Record<string, BenchResult>> {
  const dir = mkdtempSync(join(tmpdir(), "sbx-bench-jdbc-"));
  try {
    const results: Record<string, BenchResult> = { "jdbc.sqlite.get": await sqliteGet(dir) };
    const url = process.env.STRONGBOX_IT_POSTGRES_URL;
    if (url) results["jdbc.postgres.get"] = await postgresGet(url);
    else process.stdout.write("jdbc.postgres.get skipped: STRONGBOX_IT_POSTGRES_URL is not set\n");
    results["jdbc.sqlite.list-tags"] = await sqliteListTags(dir);
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
