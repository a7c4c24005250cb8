import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { isStrongboxError, refId, type SecretRef } from "@strongbox/core";
import { jdbc } from "@strongbox/jdbc";
import { testBackend } from "@strongbox/testing";
import { afterAll, describe, expect, it } from "vitest";
import { envelopeScope, scopeHead } from "../src/queries.ts";
import { dropTables, KEY, OTHER_KEY, rawDb, removeTempDirs, targets, uniqueTable } from "./helpers.ts";

const run = promisify(execFile);
const writer = fileURLToPath(new URL("./fixtures/writer.ts", import.meta.url));

afterAll(removeTempDirs);

for (const target of targets()) {
  const title =
    target.skip === undefined ? `jdbc on ${target.name}` : `jdbc on ${target.name} (skipped: ${target.skip})`;
  describe.skipIf(target.skip !== undefined)(title, () => {
    const table = uniqueTable(target.name);
    const open = (secret: string | string[] = KEY, extra: { prefix?: string; table?: string } = {}) =>
      jdbc({ url: target.url, table, secret, ...extra });
    afterAll(() => dropTables(target.url, table));

    testBackend(`jdbc (${target.name})`, () => open());

    it("stores nothing in a row that reveals the value", async () => {
      // prepare
      const backend = open();
      const value = "plain-canary-0123456789";
      await backend.put({ namespace: "rows", key: "CANARY" }, value, { description: "d", tags: { a: "b" } });
      await backend.close();
      const db = rawDb(target.url);
      try {
        // act
        const dump = JSON.stringify([
          await db(table).select(),
          await db(`${table}_versions`).select(),
          await db(`${table}_tags`).select(),
          await db(`${table}_meta`).select(),
        ]);
        // assert
        expect(dump).toContain("CANARY");
        expect(dump).not.toContain(value);
        expect(dump).not.toContain(Buffer.from(value).toString("base64").slice(0, 12));
      } finally {
        await db.destroy();
      }
    });

    it("a ciphertext moved to another row fails with DECRYPT_FAILED", async () => {
      // prepare
      const backend = open();
      await backend.put({ namespace: "moved", key: "FROM" }, "from-value");
      await backend.put({ namespace: "moved", key: "TO" }, "to-value");
      const db = rawDb(target.url);
      try {
        const from = await db(table).where({ namespace: "moved", ref_key: "FROM" }).first("id");
        const to = await db(table).where({ namespace: "moved", ref_key: "TO" }).first("id");
        const envelope = await db(`${table}_versions`).where({ secret_id: from.id }).first("envelope");
        await db(`${table}_versions`).where({ secret_id: to.id }).update({ envelope: envelope.envelope });
        // act
        const error = await backend.get({ namespace: "moved", key: "TO" }).catch((caught: unknown) => caught);
        // assert
        expect(isStrongboxError(error, "DECRYPT_FAILED")).toBe(true);
        expect(String(error)).not.toContain("from-value");
      } finally {
        await db.destroy();
        await backend.close();
      }
    });

    it("a wrong key fails at the first operation with a clear DECRYPT_FAILED, not garbage", async () => {
      // prepare
      const good = open();
      await good.put({ key: "WRONG_KEY_PROBE" }, "probe-value");
      await good.close();
      const wrong = open(OTHER_KEY);
      // act
      const error = await wrong.get({ key: "WRONG_KEY_PROBE" }).catch((caught: unknown) => caught);
      await wrong.close();
      // assert
      expect(isStrongboxError(error, "DECRYPT_FAILED")).toBe(true);
      expect((error as Error).message).toMatch(/none of the configured keys opens table/);
    });

    it("refuses to start against a schema newer than it knows, and changes nothing", async () => {
      // prepare
      const newer = uniqueTable("newer");
      const first = jdbc({ url: target.url, table: newer, secret: KEY });
      await first.migrate();
      await first.close();
      const db = rawDb(target.url);
      await db(`${newer}_migrations`).insert({
        version: 99,
        name: "from the future",
        applied_at: Date.now(),
      });
      await db.destroy();
      const backend = jdbc({ url: target.url, table: newer, secret: KEY });
      try {
        // act
        const error = await backend.get({ key: "ANY" }).catch((caught: unknown) => caught);
        // assert
        expect(isStrongboxError(error, "UNSUPPORTED")).toBe(true);
        expect((error as Error).message).toMatch(/version 99, newer than this @strongbox\/jdbc knows \(1\)/);
      } finally {
        await backend.close();
        await dropTables(target.url, newer);
      }
    });

    it("two processes writing one secret 200 times each leave 400 versions, no gap, no duplicate", {
      timeout: 120_000,
    }, async () => {
      // prepare
      const backend = open();
      await backend.migrate();
      const key = `RACE_${Date.now()}`;
      const args = (who: string) => ["--conditions=source", writer, target.url, table, KEY, key, who, "200"];
      // act
      await Promise.all([run(process.execPath, args("a")), run(process.execPath, args("b"))]);
      // assert
      const db = rawDb(target.url);
      try {
        const row = await db(table).where({ namespace: "race", ref_key: key }).first("id", "version");
        const versions = (
          await db(`${table}_versions`).where({ secret_id: row.id }).orderBy("version").select("version")
        ).map((v: { version: number }) => Number(v.version));
        expect(Number(row.version)).toBe(400);
        expect(versions).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
        const values = new Set<string>();
        for (const version of [1, 200, 400]) {
          const secret = await backend.get({ namespace: "race", key }, { version: String(version) });
          values.add(secret?.value.reveal() ?? "missing");
        }
        for (const value of values) expect(value).toMatch(/^[ab]-\d+$/);
        expect((await backend.get({ namespace: "race", key }))?.value.reveal()).toMatch(/^[ab]-200$/);
      } finally {
        await db.destroy();
        await backend.close();
      }
    });

    it("rotation interrupted halfway and resumed loses nothing, and every value reads throughout", {
      timeout: 60_000,
    }, async () => {
      // prepare
      const prefix = `rot${Date.now()}`;
      const before = open(KEY, { prefix });
      const refs: SecretRef[] = Array.from({ length: 25 }, (_, i) => ({ namespace: "rot", key: `K${i}` }));
      for (const [i, ref] of refs.entries()) {
        await before.put(ref, `old-${i}`);
        await before.put(ref, `new-${i}`);
      }
      await before.close();
      const rotating = open([OTHER_KEY, KEY], { prefix });
      // act: a crash after the second batch
      const crash = await rotating
        .rotate({
          batchSize: 10,
          onBatch: ({ rotated }) => {
            if (rotated >= 20) throw new Error("injected crash");
          },
        })
        .catch((caught: unknown) => caught);
      const halfway = await Promise.all(refs.map((ref) => rotating.get(ref)));
      const resumed = await rotating.rotate({ batchSize: 10 });
      await rotating.close();
      // assert
      expect((crash as Error).message).toMatch(/injected crash/);
      expect(halfway.map((secret) => secret?.value.reveal())).toEqual(refs.map((_, i) => `new-${i}`));
      expect(resumed.rotated).toBe(30);
      const after = open(OTHER_KEY, { prefix });
      try {
        for (const [i, ref] of refs.entries()) {
          expect((await after.get(ref))?.value.reveal()).toBe(`new-${i}`);
          expect((await after.get(ref, { version: "1" }))?.value.reveal()).toBe(`old-${i}`);
        }
      } finally {
        await after.close();
      }
    });

    it.each([1, 10])(
      "concurrent reads and writes each see their own secret (pool of %i)",
      async (poolSize) => {
        // prepare
        const backend = jdbc({ url: target.url, table, secret: KEY, poolSize });
        const namespace = `concurrent${poolSize}`;
        const refs: SecretRef[] = Array.from({ length: 30 }, (_, i) => ({ namespace, key: `C${i}` }));
        try {
          for (const ref of refs) await backend.put(ref, `first-${ref.key}`);
          // act
          const [reads] = await Promise.all([
            Promise.all(refs.map((ref) => backend.get(ref))),
            Promise.all(refs.slice(0, 10).map((ref) => backend.put(ref, `second-${ref.key}`))),
          ]);
          const after = await Promise.all(refs.map((ref) => backend.get(ref)));
          // assert
          for (const [i, secret] of reads.entries())
            expect(secret?.value.reveal()).toMatch(new RegExp(`^(first|second)-C${i}$`));
          for (const [i, secret] of after.entries())
            expect(secret?.value.reveal()).toBe(i < 10 ? `second-C${i}` : `first-C${i}`);
        } finally {
          await backend.close();
        }
      },
    );

    it("getMany reads several secrets in one query and leaves the missing out", async () => {
      // prepare
      const backend = open();
      const refs: SecretRef[] = [
        { tenant: "acme", namespace: "many", key: "M1" },
        { namespace: "many", key: "M2" },
      ];
      try {
        for (const ref of refs) await backend.put(ref, `value-${ref.key}`);
        // act
        const found = await backend.getMany([...refs, { namespace: "many", key: "MISSING" }]);
        // assert
        expect(found.size).toBe(2);
        expect(found.get(refId(refs[0] as SecretRef))?.value.reveal()).toBe("value-M1");
        expect(found.get(refId(refs[1] as SecretRef))?.value.reveal()).toBe("value-M2");
      } finally {
        await backend.close();
      }
    });

    it("filters on several tags in SQL and pages past one page in a stable order", {
      timeout: 120_000,
    }, async () => {
      // prepare: 1203 secrets, written 20 at a time
      const prefix = `page${Date.now()}`;
      const backend = open(KEY, { prefix });
      const db = rawDb(target.url);
      try {
        for (let start = 0; start < 1203; start += 20) {
          const batch = Array.from({ length: Math.min(20, 1203 - start) }, (_, offset) => start + offset);
          await Promise.all(
            batch.map((i) =>
              backend.put({ namespace: "paged", key: `P${String(i).padStart(4, "0")}` }, "v", {
                tags: { team: i % 3 === 0 ? "ops" : "dev", tier: i % 2 === 0 ? "gold" : "free" },
              }),
            ),
          );
        }
        // act
        const all: string[] = [];
        for await (const entry of backend.list({ namespace: "paged" })) all.push(entry.ref.key);
        const filtered: string[] = [];
        for await (const entry of backend.list({ namespace: "paged", tags: { team: "ops", tier: "gold" } }))
          filtered.push(entry.ref.key);
        // without a namespace the pages come from the tags index instead
        const byTags: string[] = [];
        for await (const entry of backend.list({ tags: { team: "ops", tier: "gold" } }))
          byTags.push(entry.ref.key);
        // assert
        expect(byTags).toEqual(filtered);
        expect(all).toHaveLength(1203);
        expect(new Set(all).size).toBe(1203);
        expect(filtered).toHaveLength(201);
        expect(filtered.every((key) => Number(key.slice(1)) % 6 === 0)).toBe(true);
      } finally {
        await db.destroy();
        await backend.close();
      }
    });
  });
}

describe("jdbc envelope scope", () => {
  it("stays JSON.stringify([table, prefix, version]): stored envelopes are bound to it", () => {
    // prepare
    const prefixes = ["", "app/", 'quote"back\\slash', "ünï·cødé", "a,b]"];
    // act
    const scopes = prefixes.flatMap((prefix) =>
      [1, 2, 4_294_967_295].map(
        (version) =>
          [envelopeScope({ scopeHead: scopeHead("sbx_secrets", prefix) }, version), prefix, version] as const,
      ),
    );
    // assert
    for (const [scope, prefix, version] of scopes) {
      expect(scope).toBe(JSON.stringify(["sbx_secrets", prefix, version]));
    }
  });
});

describe("jdbc options and start-up", () => {
  it("rejects bad options when the factory runs, with the field path", () => {
    // act
    const short = (() => {
      try {
        jdbc({ url: "sqlite::memory:", secret: "too-short" });
      } catch (error) {
        return error;
      }
    })();
    const scheme = (() => {
      try {
        jdbc({ url: "oracle://x", secret: KEY });
      } catch (error) {
        return error;
      }
    })();
    // assert
    expect(isStrongboxError(short, "INVALID_OPTIONS")).toBe(true);
    expect((short as Error).message).toMatch(/jdbc\.secret/);
    expect((short as Error).message).not.toContain("too-short");
    expect(isStrongboxError(scheme, "INVALID_OPTIONS")).toBe(true);
    expect((scheme as Error).message).toMatch(/jdbc\.url/);
  });

  it("does not connect before the first operation, and an unreachable database is UNAVAILABLE", async () => {
    // prepare
    const backend = jdbc({ url: "postgres://nobody@127.0.0.1:1/none", secret: KEY });
    // act
    const error = await backend.get({ key: "X" }).catch((caught: unknown) => caught);
    await backend.close();
    // assert
    expect(isStrongboxError(error, "UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/cannot be reached/);
  });
});
