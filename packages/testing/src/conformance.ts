import { randomBytes } from "node:crypto";
import {
  isStrongboxError,
  readOnly,
  type SecretBackend,
  type SecretEntry,
  type SecretRef,
  SecretValue,
} from "@strongbox/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { watchForLeaks } from "./leaks.ts";

/** Toggles of {@link testBackend}, only for real differences between stores. */
export interface ConformanceOptions {
  /** A new secret may take a moment to show in `list`: list checks retry for a while. */
  eventualList?: boolean;
  /** The store rejects an empty value (so the suite checks the rejection is clear instead). */
  rejectsEmptyValue?: boolean;
  /** Largest value to try, in bytes. @default min(capabilities.maxValueBytes, 60_000) */
  largeValueBytes?: number;
  /** The suite puts tenants and namespaces in refs; set false for a backend in `raw` naming mode. @default true */
  scopedRefs?: boolean;
  /**
   * The store's `list` returns names the codec had to shorten with a hash (it keeps the exact
   * ref in metadata). False for stores without metadata, whose list skips such names. @default true
   */
  listsHashedNames?: boolean;
  /** Time allowed per test, in ms. @default 20_000 */
  timeout?: number;
}

/**
 * The conformance suite: what every backend promises. A fresh backend per test,
 * a random name per run (so it can run against a shared live account), the
 * tests picked from the capabilities the backend declares.
 *
 * @example
 * testBackend("memory", () => memory());
 */
export function testBackend(
  name: string,
  factory: () => SecretBackend | Promise<SecretBackend>,
  options: ConformanceOptions = {},
): void {
  const run = randomBytes(4).toString("hex");
  const scoped = options.scopedRefs ?? true;
  const timeout = options.timeout ?? 20_000;

  describe(`${name}: conformance`, () => {
    let backend: SecretBackend;
    let created: SecretRef[] = [];
    let counter = 0;

    /** A ref no other test of any run uses. */
    const fresh = (label: string, scope: Omit<SecretRef, "key"> = {}): SecretRef => {
      counter += 1;
      const key = `sbx_${run}_${label}_${counter}`;
      const ref: SecretRef = scoped ? { ...scope, key } : { key };
      created.push(ref);
      return ref;
    };
    const put = async (
      ref: SecretRef,
      value: string | Uint8Array,
      putOptions?: Parameters<NonNullable<SecretBackend["put"]>>[2],
    ) => {
      if (backend.put === undefined) throw new Error("put is not supported");
      return backend.put(ref, value, putOptions);
    };
    const listAll = async (
      query?: Parameters<NonNullable<SecretBackend["list"]>>[0],
    ): Promise<SecretEntry[]> => {
      const out: SecretEntry[] = [];
      // Raw names carry no tenant or namespace: list by tags alone; refs are told apart by key.
      const effective = scoped || query === undefined ? query : { ...(query.tags && { tags: query.tags }) };
      for await (const entry of backend.list?.(effective) ?? []) out.push(entry);
      return out;
    };
    /** Lists until `check` holds (at once for most stores; with retries for eventual ones). */
    const eventually = async (check: () => Promise<void>): Promise<void> => {
      const deadline = Date.now() + (options.eventualList ? 10_000 : 0);
      for (;;) {
        try {
          return await check();
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    };
    const sameRef = (a: SecretRef, b: SecretRef): boolean =>
      a.key === b.key &&
      (a.tenant ?? null) === (b.tenant ?? null) &&
      (a.namespace ?? null) === (b.namespace ?? null);

    beforeEach(async () => {
      backend = await factory();
      created = [];
    });

    afterEach(async () => {
      if (backend.delete !== undefined) {
        for (const ref of created) await backend.delete(ref).catch(() => false);
      }
      await backend.close?.();
    });

    it("declares its type and capabilities", () => {
      expect(backend.type).toMatch(/^[a-z0-9-]+$/);
      expect(typeof backend.capabilities.tags).toBe("boolean");
      expect(["server", "client", "none"]).toContain(backend.capabilities.tagFilter);
      if (!backend.capabilities.tags) expect(backend.capabilities.tagFilter).toBe("none");
    });

    it("resolves undefined for a missing secret", { timeout }, async () => {
      expect(await backend.get(fresh("missing"))).toBeUndefined();
      expect(await backend.get(fresh("missing", { tenant: "t1", namespace: "a.b" }))).toBeUndefined();
    });

    it("rejects a malformed ref with INVALID_NAME before calling the store", async () => {
      await expect(backend.get({ key: "" })).rejects.toSatisfy((error) =>
        isStrongboxError(error, "INVALID_NAME"),
      );
      await expect(backend.get({ namespace: "", key: "x" })).rejects.toSatisfy((error) =>
        isStrongboxError(error, "INVALID_NAME"),
      );
    });

    describe("writes", () => {
      it("round-trips a value with its exact ref", { timeout }, async ({ skip }) => {
        if (!backend.put) return skip("the store is read-only");
        const ref = fresh("roundtrip", { namespace: "company.team" });
        const written = await put(ref, "s3cr3t-value");
        expect(written.tags).toBeTypeOf("object");
        const secret = await backend.get(ref);
        expect(secret?.value).toBeInstanceOf(SecretValue);
        expect(secret?.value.reveal()).toBe("s3cr3t-value");
        expect(sameRef(secret?.ref as SecretRef, ref)).toBe(true);
      });

      it("keeps unicode values exactly", { timeout }, async ({ skip }) => {
        if (!backend.put) return skip("the store is read-only");
        const ref = fresh("unicode");
        const value = "pässwörd 🔑 秘密 \u0000 \n\t\"'\\ end";
        await put(ref, value);
        expect((await backend.get(ref))?.value.reveal()).toBe(value);
      });

      it("handles an empty value", { timeout }, async ({ skip }) => {
        if (!backend.put) return skip("the store is read-only");
        const ref = fresh("empty");
        if (options.rejectsEmptyValue) {
          await expect(put(ref, "")).rejects.toSatisfy((error) => isStrongboxError(error));
          return;
        }
        await put(ref, "");
        expect((await backend.get(ref))?.value.reveal()).toBe("");
      });

      it("keeps a large value", { timeout }, async ({ skip }) => {
        if (!backend.put) return skip("the store is read-only");
        const size =
          options.largeValueBytes ?? Math.min(backend.capabilities.maxValueBytes ?? 60_000, 60_000);
        const value = randomBytes(Math.ceil(size / 2))
          .toString("hex")
          .slice(0, size);
        const ref = fresh("large");
        await put(ref, value);
        expect((await backend.get(ref))?.value.reveal()).toBe(value);
      });

      it("keys that differ only by tenant, namespace or case are different secrets", { timeout }, async ({
        skip,
      }) => {
        if (!backend.put) return skip("the store is read-only");
        if (!scoped) return skip("raw naming has no tenants or namespaces");
        const base = fresh("scopes");
        const refs: SecretRef[] = [
          base,
          { namespace: "a.b", key: base.key },
          { namespace: "a", key: base.key },
          { tenant: "acme", key: base.key },
          { tenant: "acme", namespace: "a.b", key: base.key },
          { key: base.key.toUpperCase() },
        ];
        created.push(...refs);
        for (const [index, ref] of refs.entries()) await put(ref, `value-${index}`);
        for (const [index, ref] of refs.entries())
          expect((await backend.get(ref))?.value.reveal()).toBe(`value-${index}`);
      });

      it("round-trips keys a provider would not accept as they are", { timeout }, async ({ skip }) => {
        if (!backend.put) return skip("the store is read-only");
        if (!scoped) return skip("raw naming passes names through");
        const keys = [
          `sbx_${run}_dots.and_underscores`,
          `sbx_${run}_MiXeD-Case`,
          `sbx_${run}_slash/inside`,
          `sbx_${run}_ünï çødé`,
          `sbx_${run}_${"long".repeat(80)}`,
        ];
        const refs = keys.map((key) => ({ namespace: "odd.names", key }));
        created.push(...refs);
        for (const [index, ref] of refs.entries()) await put(ref, `odd-${index}`);
        for (const [index, ref] of refs.entries())
          expect((await backend.get(ref))?.value.reveal()).toBe(`odd-${index}`);
        if (backend.list) {
          await eventually(async () => {
            const listed = await listAll({ namespace: "odd.names" });
            const listable =
              options.listsHashedNames === false ? refs.filter((ref) => ref.key.length < 200) : refs;
            for (const ref of listable) expect(listed.some((entry) => sameRef(entry.ref, ref))).toBe(true);
          });
        }
      });

      it("an overwrite replaces the value and bumps the version", { timeout }, async ({ skip }) => {
        if (!backend.put) return skip("the store is read-only");
        const ref = fresh("overwrite");
        const first = await put(ref, "first");
        const second = await put(ref, "second");
        expect((await backend.get(ref))?.value.reveal()).toBe("second");
        if (first.version !== undefined) {
          expect(second.version).toBeDefined();
          expect(second.version).not.toBe(first.version);
          expect((await backend.get(ref))?.version).toBe(second.version);
        }
      });

      it("reads an older version", { timeout }, async ({ skip }) => {
        if (!backend.put || !backend.capabilities.versions) return skip("the store keeps no versions");
        const ref = fresh("versions");
        const first = await put(ref, "v-one");
        await put(ref, "v-two");
        expect(first.version).toBeDefined();
        const old = await backend.get(ref, { version: first.version as string });
        expect(old?.value.reveal()).toBe("v-one");
        expect((await backend.get(ref))?.value.reveal()).toBe("v-two");
      });

      it("keeps tags and the description", { timeout }, async ({ skip }) => {
        if (!backend.put) return skip("the store is read-only");
        const ref = fresh("meta");
        const tags = backend.capabilities.tags
          ? { application: "billing", "team.name": "Ops Team" }
          : undefined;
        const description = backend.capabilities.description ? "The billing database password" : undefined;
        await put(ref, "with-meta", { ...(tags && { tags }), ...(description && { description }) });
        const secret = await backend.get(ref);
        if (tags) expect(secret?.tags).toMatchObject(tags);
        if (description) expect(secret?.description).toBe(description);
        if (!tags && !description) expect(secret?.tags).toEqual({});
      });

      it("keeps bytes as bytes", { timeout }, async ({ skip }) => {
        if (!backend.put || !backend.capabilities.binary) return skip("the store keeps text only");
        const ref = fresh("binary");
        const bytes = new Uint8Array([0, 1, 2, 253, 254, 255, 0xc3, 0x28]);
        await put(ref, bytes);
        const secret = await backend.get(ref);
        expect(secret?.value.isBinary).toBe(true);
        expect([...(secret?.value.bytes() ?? [])]).toEqual([...bytes]);
      });

      it("check-and-set refuses a stale expected version with CONFLICT and keeps the value", {
        timeout,
      }, async ({ skip }) => {
        if (!backend.put || !backend.capabilities.checkAndSet) return skip("the store has no check-and-set");
        const ref = fresh("cas");
        const first = await put(ref, "cas-one", { expectedVersion: null });
        await expect(put(ref, "cas-dup", { expectedVersion: null })).rejects.toSatisfy((e) =>
          isStrongboxError(e, "CONFLICT"),
        );
        await put(ref, "cas-two", { expectedVersion: first.version as string });
        await expect(put(ref, "cas-three", { expectedVersion: first.version as string })).rejects.toSatisfy(
          (e) => isStrongboxError(e, "CONFLICT"),
        );
        expect((await backend.get(ref))?.value.reveal()).toBe("cas-two");
      });

      it("deletes, and a second delete finds nothing", { timeout }, async ({ skip }) => {
        if (!backend.put || !backend.delete) return skip("the store cannot delete");
        const ref = fresh("delete", { namespace: "x.y" });
        await put(ref, "to-delete");
        expect(await backend.delete(ref)).toBe(true);
        expect(await backend.get(ref)).toBeUndefined();
        expect(await backend.delete(ref)).toBe(false);
      });

      it("can write again after a delete", { timeout }, async ({ skip }) => {
        if (!backend.put || !backend.delete) return skip("the store cannot delete");
        const ref = fresh("rewrite");
        await put(ref, "before");
        await backend.delete(ref);
        await put(ref, "after");
        expect((await backend.get(ref))?.value.reveal()).toBe("after");
      });

      it("read-only wrapping rejects writes with READ_ONLY", async () => {
        const guarded = readOnly(backend);
        await expect(
          guarded.put?.(fresh("ro"), "nope") ?? Promise.reject(new Error("no put")),
        ).rejects.toSatisfy((e) => isStrongboxError(e, "READ_ONLY"));
      });
    });

    describe("list", () => {
      it("lists what was put, with exact refs and no values", { timeout }, async ({ skip }) => {
        if (!backend.put || !backend.list) return skip("the store cannot list");
        const namespace = `list.n${run}`;
        const refs = [
          fresh("list-a", { namespace }),
          fresh("list-b", { namespace }),
          fresh("list-c", { namespace: `${namespace}.deeper` }),
        ];
        for (const ref of refs) await put(ref, "listed-value-xyz");
        await eventually(async () => {
          const listed = await listAll({ namespace });
          expect(
            listed.filter((entry) => refs.slice(0, 2).some((ref) => sameRef(ref, entry.ref))),
          ).toHaveLength(2);
          if (scoped) expect(listed.some((entry) => sameRef(entry.ref, refs[2] as SecretRef))).toBe(false);
          for (const entry of listed) expect(JSON.stringify(entry)).not.toContain("listed-value-xyz");
        });
      });

      it("filters by tags", { timeout }, async ({ skip }) => {
        if (!backend.put || !backend.list || !backend.capabilities.tags)
          return skip("the store keeps no tags");
        const namespace = `tags.n${run}`;
        const billing = fresh("tag-billing", { namespace });
        const other = fresh("tag-other", { namespace });
        await put(billing, "b", { tags: { application: "billing", run } });
        await put(other, "o", { tags: { application: "other", run } });
        await eventually(async () => {
          const listed = await listAll({ namespace, tags: { application: "billing", run } });
          expect(listed.map((entry) => entry.ref.key)).toEqual([billing.key]);
          expect(listed[0]?.tags).toMatchObject({ application: "billing" });
        });
      });

      it("a deleted secret leaves the list", { timeout }, async ({ skip }) => {
        if (!backend.put || !backend.list || !backend.delete) return skip("the store cannot list and delete");
        const namespace = `gone.n${run}`;
        const ref = fresh("gone", { namespace });
        await put(ref, "soon gone");
        await backend.delete(ref);
        await eventually(async () => {
          expect((await listAll({ namespace })).some((entry) => sameRef(entry.ref, ref))).toBe(false);
        });
      });
    });

    it("no secret value appears in errors, output or inspected objects", { timeout }, async ({ skip }) => {
      if (!backend.put) return skip("the store is read-only");
      const value = `leak-canary-${randomBytes(8).toString("hex")}`;
      const leaks = watchForLeaks([value]);
      try {
        const ref = fresh("leak");
        await put(ref, value, backend.capabilities.tags ? { tags: { kind: "canary" } } : undefined);
        const secret = await backend.get(ref);
        leaks.check(secret, "the secret returned by get");
        leaks.check(backend, "the backend");
        if (backend.capabilities.checkAndSet) {
          const error = await put(ref, value, { expectedVersion: "999999" }).catch(
            (caught: unknown) => caught,
          );
          expect(isStrongboxError(error, "CONFLICT")).toBe(true);
          leaks.check(error, "a CONFLICT error");
        }
        const bad = await put({ key: "" }, value).catch((caught: unknown) => caught);
        expect(isStrongboxError(bad, "INVALID_NAME")).toBe(true);
        leaks.check(bad, "an INVALID_NAME error");
        console.log("backend state after the writes:", secret);
      } finally {
        leaks.stop();
      }
    });
  });
}
