import { randomBytes } from "node:crypto";
import { jdbc } from "@strongbox/jdbc";
import pg from "pg";

const url = process.env.STRONGBOX_IT_POSTGRES_URL!;
const table = `prof_${randomBytes(3).toString("hex")}`;
const secret = randomBytes(32).toString("base64");
const b0 = jdbc({ url, secret, table });
const KEYS = Array.from({ length: 200 }, (_, i) => `K${i}`);
for (const key of KEYS) await b0.put({ namespace: "bench", key }, "x".repeat(64), { tags: { app: "b" } });
await b0.close();
const c0 = new pg.Client({ connectionString: url });
await c0.connect();
const hashes = (await c0.query(`SELECT ref_hash FROM ${table} ORDER BY id`)).rows.map((r) => r.ref_hash);
const text = `SELECT s.id, s.tenant, s.namespace, s.ref_key, s.description, s.tags, s.created_at, s.updated_at, s.version, (SELECT v.envelope FROM ${table}_versions v WHERE v.secret_id = s.id AND v.version = s.version) AS envelope FROM ${table} s WHERE s.ref_hash = $1`;
let i = 0;
const N = 5000;
const loop = async (f: () => unknown) => {
  for (let n = 0; n < 500; n++) await f();
  const t0 = performance.now();
  for (let n = 0; n < N; n++) await f();
  return Math.round(((performance.now() - t0) * 1000) / N);
};
const raws: number[] = [],
  ours: number[] = [];
for (let r = 0; r < 8; r++) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  raws.push(await loop(() => c.query({ name: "x", text, values: [hashes[i++ % 200]] })));
  await c.end();
  const b = jdbc({ url, secret, table });
  ours.push(await loop(() => b.get({ namespace: "bench", key: KEYS[i++ % 200]! })));
  await b.close();
}
console.log({ raws, ours });
for (const s of ["", "_versions", "_tags", "_meta", "_migrations"])
  await c0.query(`DROP TABLE IF EXISTS ${table}${s}`);
await c0.end();
