import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import knex, { type Knex } from "knex";

export const KEY: string = "k".repeat(16) + randomBytes(16).toString("hex");
export const OTHER_KEY: string = "o".repeat(16) + randomBytes(16).toString("hex");

/** The databases the tests run against; a server-backed one is absent when its URL is not set. */
export interface Target {
  name: string;
  url: string;
  /** Why it is skipped, if it is. */
  skip?: string;
}

export function targets(): Target[] {
  const pg = process.env.STRONGBOX_IT_POSTGRES_URL;
  const my = process.env.STRONGBOX_IT_MYSQL_URL;
  return [
    { name: "sqlite", url: `sqlite:${join(tempDir(), "nested", "secrets.db")}` },
    pg
      ? { name: "postgres", url: pg }
      : { name: "postgres", url: "", skip: "STRONGBOX_IT_POSTGRES_URL is not set" },
    my ? { name: "mysql", url: my } : { name: "mysql", url: "", skip: "STRONGBOX_IT_MYSQL_URL is not set" },
  ];
}

const dirs: string[] = [];
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "sbx-jdbc-"));
  dirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A table name no other test file or run uses. */
export function uniqueTable(label: string): string {
  return `sbx_${label}_${randomBytes(4).toString("hex")}`;
}

/** A raw knex on a target, to look at rows and to drop the tables afterwards. */
export function rawDb(url: string): Knex {
  if (url.startsWith("sqlite:")) {
    return knex({ client: "better-sqlite3", connection: { filename: url.slice(7) }, useNullAsDefault: true });
  }
  return knex({
    client: url.startsWith("postgres") ? "pg" : "mysql2",
    connection: url,
    pool: { min: 0, max: 2 },
  });
}

export async function dropTables(url: string, table: string): Promise<void> {
  if (url.startsWith("sqlite:")) return; // the temp dir goes away
  const db = rawDb(url);
  try {
    for (const suffix of ["", "_versions", "_tags", "_meta", "_migrations"])
      await db.schema.dropTableIfExists(`${table}${suffix}`);
  } finally {
    await db.destroy();
  }
}
