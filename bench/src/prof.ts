import Database from "better-sqlite3";
import { timeNs } from "./harness.ts";

const db = new Database("/tmp/sbxp/p.db");
const t = db.prepare("select name from sqlite_master").all() as { name: string }[];
const tb = t
  .map((r) => r.name)
  .filter((n) => /^p\d+$/.test(n))
  .pop();
const st = db.prepare(
  `SELECT s.id, s.tenant, s.namespace, s.ref_key, s.description, s.tags, s.created_at, s.updated_at, v.version, v.envelope FROM ${tb} s JOIN ${tb}_versions v ON v.secret_id = s.id AND v.version = s.version WHERE s.ref_hash = ?`,
);
const pk = db.prepare(`SELECT envelope FROM ${tb}_versions WHERE secret_id = ? AND version = 1`);
const h = (db.prepare(`select ref_hash from ${tb}`).get() as any).ref_hash;
console.log(db.pragma("journal_mode"));
for (let r = 0; r < 3; r++) {
  console.log(
    "join",
    await timeNs(() => st.get(h)),
    "pk",
    await timeNs(() => pk.get(1)),
    "sync-join",
    (await timeNs(() => {
      for (let i = 0; i < 100; i++) st.get(h);
    })) / 100,
  );
}
console.log(
  db
    .prepare(
      `EXPLAIN QUERY PLAN SELECT s.id FROM ${tb} s JOIN ${tb}_versions v ON v.secret_id = s.id AND v.version = s.version WHERE s.ref_hash = ?`,
    )
    .all(h),
);
