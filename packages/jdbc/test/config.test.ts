import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createSecretManager, isStrongboxError, refId } from "@strongbox/core";
import { fromConfig, type JdbcBackend, jdbc } from "@strongbox/jdbc";
import { afterAll, describe, expect, it } from "vitest";
import { dropTables, KEY, OTHER_KEY, removeTempDirs, tempDir } from "./helpers.ts";

afterAll(removeTempDirs);

describe("jdbc configuration", () => {
  it("fromConfig takes the manager's prefix, and two prefixes in one file never see each other", async () => {
    // prepare
    const url = `sqlite:${join(tempDir(), "prefixes.db")}`;
    const billing = fromConfig(
      { url, secret: KEY },
      { path: "secret.jdbc", prefix: "billing" },
    ) as JdbcBackend;
    const payroll = fromConfig(
      { url, secret: OTHER_KEY },
      { path: "secret.jdbc", prefix: "payroll" },
    ) as JdbcBackend;
    try {
      // act
      await billing.put({ key: "DB" }, "billing-db");
      await payroll.put({ key: "DB" }, "payroll-db");
      const listed: string[] = [];
      for await (const entry of billing.list()) listed.push(entry.ref.key);
      // assert
      expect((await billing.get({ key: "DB" }))?.value.reveal()).toBe("billing-db");
      expect((await payroll.get({ key: "DB" }))?.value.reveal()).toBe("payroll-db");
      expect(listed).toEqual(["DB"]);
    } finally {
      await billing.close();
      await payroll.close();
    }
  });

  it("fromConfig accepts the naming mode the manager passes on (SQL keeps refs as columns)", async () => {
    // prepare
    const backend = fromConfig(
      { url: `sqlite:${join(tempDir(), "naming.db")}`, secret: KEY, naming: "raw" },
      { path: "secret.jdbc" },
    );
    try {
      // act
      await backend.put?.({ namespace: "a", key: "N" }, "named");
      // assert
      expect((await backend.get({ namespace: "a", key: "N" }))?.value.reveal()).toBe("named");
    } finally {
      await backend.close?.();
    }
  });

  it("fromConfig rejects an unknown option with its path", () => {
    // act
    const error = (() => {
      try {
        fromConfig({ url: "sqlite::memory:", secret: KEY, tabel: "x" }, { path: "secret.jdbc" });
      } catch (caught) {
        return caught;
      }
    })();
    // assert
    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect((error as Error).message).toMatch(/secret\.jdbc: unknown option "tabel"/);
  });

  it("reads its keys from a key file, newest first, so a half-rotated store reads with both", async () => {
    // prepare
    const dir = tempDir();
    const keyFile = join(dir, "key");
    const url = `sqlite:${join(dir, "keys.db")}`;
    writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
    const first = jdbc({ url, secretFile: keyFile });
    await first.put({ key: "OLD" }, "under-the-old-key");
    await first.close();
    writeFileSync(keyFile, `# newest first\n${OTHER_KEY}\n${KEY}\n`, { mode: 0o600 });
    const both = jdbc({ url, secretFile: keyFile });
    try {
      // act
      await both.put({ key: "NEW" }, "under-the-new-key");
      // assert
      expect((await both.get({ key: "OLD" }))?.value.reveal()).toBe("under-the-old-key");
      expect((await both.get({ key: "NEW" }))?.value.reveal()).toBe("under-the-new-key");
    } finally {
      await both.close();
    }
  });

  it("a missing key file is INVALID_OPTIONS when the factory runs", () => {
    // act
    const error = (() => {
      try {
        jdbc({ url: "sqlite::memory:", secretFile: "/nonexistent/strongbox/key" });
      } catch (caught) {
        return caught;
      }
    })();
    // assert
    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect((error as Error).message).toMatch(/secretFile: cannot read the key file/);
  });

  it("two stores starting at once on a fresh database both migrate and work", async () => {
    // prepare
    const url = `sqlite:${join(tempDir(), "fresh", "race.db")}`;
    const a = jdbc({ url, secret: KEY });
    const b = jdbc({ url, secret: KEY });
    try {
      // act
      await Promise.all([a.put({ key: "A" }, "a"), b.put({ key: "B" }, "b")]);
      // assert
      expect((await a.get({ key: "B" }))?.value.reveal()).toBe("b");
      expect((await b.get({ key: "A" }))?.value.reveal()).toBe("a");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("with autoMigrate off, an empty database is a clear error until migrate() runs", async () => {
    // prepare
    const backend = jdbc({ url: `sqlite:${join(tempDir(), "manual.db")}`, secret: KEY, autoMigrate: false });
    try {
      // act
      const before = await backend.get({ key: "X" }).catch((caught: unknown) => caught);
      const applied = await backend.migrate();
      const after = await backend.get({ key: "X" });
      // assert
      expect(isStrongboxError(before, "UNAVAILABLE")).toBe(true);
      expect((before as Error).message).toMatch(/call migrate\(\)/);
      expect(applied).toEqual([1]);
      expect(after).toBeUndefined();
    } finally {
      await backend.close();
    }
  });

  it("serves type jdbc through createSecretManager, with inheritance on top", async () => {
    // prepare
    const manager = await createSecretManager({
      secret: {
        type: "jdbc",
        prefix: "app",
        jdbc: { url: `sqlite:${join(tempDir(), "manager.db")}`, secret: KEY, tags: { owner: "ops" } },
      },
    });
    try {
      await manager.put({ namespace: "company.team", key: "DB" }, "team-db", { tags: { app: "billing" } });
      // act
      const found = await manager.get({ namespace: "company.team.etl", key: "DB" });
      // assert
      expect(found?.value.reveal()).toBe("team-db");
      expect(found?.ref).toEqual({ namespace: "company.team", key: "DB" });
      expect(found?.tags).toEqual({ owner: "ops", app: "billing" });
      expect(typeof (manager.adapter as JdbcBackend).rotate).toBe("function");
    } finally {
      await manager.close();
    }
  });
});

describe("jdbc getMany", () => {
  it("reads many secrets in one call, leaving the missing ones out", async () => {
    // prepare
    const backend = jdbc({ url: `sqlite:${join(tempDir(), "many.db")}`, secret: KEY });
    try {
      await backend.put({ tenant: "acme", namespace: "a.b", key: "ONE" }, "one");
      await backend.put({ key: "TWO" }, "two", { tags: { t: "2" } });
      // act
      const found = await backend.getMany([
        { tenant: "acme", namespace: "a.b", key: "ONE" },
        { key: "TWO" },
        { key: "MISSING" },
      ]);
      // assert
      expect([...found.keys()].sort()).toEqual(
        [refId({ key: "TWO" }), refId({ tenant: "acme", namespace: "a.b", key: "ONE" })].sort(),
      );
      expect(found.get(refId({ key: "TWO" }))?.value.reveal()).toBe("two");
      expect(found.get(refId({ key: "TWO" }))?.tags).toEqual({ t: "2" });
    } finally {
      await backend.close();
    }
  });
});

describe("jdbc connection objects", () => {
  it("accepts a knex connection object with a dialect instead of a URL", async () => {
    // prepare
    const backend = jdbc({
      connection: { filename: join(tempDir(), "object.db") },
      dialect: "sqlite",
      secret: KEY,
    });
    try {
      // act
      await backend.put({ key: "OBJ" }, "from-an-object");
      // assert
      expect((await backend.get({ key: "OBJ" }))?.value.reveal()).toBe("from-an-object");
      expect(backend.dialect).toBe("sqlite");
    } finally {
      await backend.close();
    }
  });

  it.skipIf(process.env.STRONGBOX_IT_POSTGRES_URL === undefined)(
    "accepts a PostgreSQL connection object (skipped without STRONGBOX_IT_POSTGRES_URL)",
    async () => {
      // prepare
      const url = new URL(process.env.STRONGBOX_IT_POSTGRES_URL as string);
      const table = `sbx_obj_${Date.now().toString(36)}`;
      const backend = jdbc({
        connection: {
          host: url.hostname,
          port: Number(url.port || 5432),
          user: url.username,
          database: url.pathname.slice(1),
        },
        dialect: "postgres",
        table,
        secret: KEY,
      });
      try {
        // act
        await backend.put({ key: "OBJ" }, "pg-object");
        // assert
        expect((await backend.get({ key: "OBJ" }))?.value.reveal()).toBe("pg-object");
      } finally {
        await backend.close();
        await dropTables(process.env.STRONGBOX_IT_POSTGRES_URL as string, table);
      }
    },
  );
});

describe("jdbc check-and-set", () => {
  it("an expected version the store never issues is a CONFLICT, not a database error", async () => {
    // prepare
    const backend = jdbc({ url: `sqlite:${join(tempDir(), "cas.db")}`, secret: KEY });
    try {
      await backend.put({ key: "CAS" }, "one");
      // act
      const error = await backend
        .put({ key: "CAS" }, "two", { expectedVersion: "not-a-number" })
        .catch((caught: unknown) => caught);
      // assert
      expect(isStrongboxError(error, "CONFLICT")).toBe(true);
      expect((await backend.get({ key: "CAS" }))?.value.reveal()).toBe("one");
    } finally {
      await backend.close();
    }
  });
});

describe("jdbc check", () => {
  it("counts the versions still under an older key, and none after a rotation", async () => {
    // prepare
    const url = `sqlite:${join(tempDir(), "check.db")}`;
    const first = jdbc({ url, secret: KEY });
    await first.put({ key: "C1" }, "one");
    await first.put({ key: "C1" }, "two");
    await first.close();
    const both = jdbc({ url, secret: [OTHER_KEY, KEY] });
    try {
      // act
      const before = await both.check();
      await both.rotate();
      const after = await both.check();
      // assert
      expect(before).toMatchObject({ dialect: "sqlite", secrets: 1, olderKeyVersions: 2 });
      expect(after.olderKeyVersions).toBe(0);
      expect(after.keyId).toBe(before.keyId);
    } finally {
      await both.close();
    }
  });
});
