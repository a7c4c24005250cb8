import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isStrongboxError, type NamingRules, nameCodec, namingRules, type SecretRef } from "../src/index.ts";

const part = fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).filter((text) => text.isWellFormed());
const asciiPart = fc.string({
  unit: fc.constantFrom(...'aZ09._-/+=@~ :"\\'.split("")),
  minLength: 1,
  maxLength: 12,
});
const namespace = fc
  .array(
    fc.oneof(asciiPart, part).filter((text) => !text.includes(".")),
    { minLength: 1, maxLength: 4 },
  )
  .map((parts) => parts.join("."));
const ref: fc.Arbitrary<SecretRef> = fc.record(
  {
    tenant: fc.oneof(asciiPart, part),
    namespace,
    key: fc.oneof(asciiPart, part, fc.string({ minLength: 300, maxLength: 700 })),
  },
  { requiredKeys: ["key"] },
);

const legal = (rules: NamingRules, name: string): boolean => {
  const chars = [...name];
  return (
    chars.length <= rules.maxLength &&
    new RegExp(`^[${rules.firstChar ?? rules.alphabet}]$`, "u").test(chars[0] ?? "") &&
    chars.every((char) => new RegExp(`^[${rules.alphabet}]$`, "u").test(char))
  );
};
const sameRef = (a: SecretRef, b: SecretRef) => expect(b).toEqual(a);
const fold = (rules: NamingRules, name: string) => (rules.caseSensitive ? name : name.toLowerCase());

describe.each(Object.entries(namingRules))("naming codec: %s rules", (provider, rules) => {
  const prefixes = [undefined, provider === "doppler" ? "APP" : "app"];

  it.each(prefixes)("every name is legal, and decodes to its ref unless hashed (prefix %s)", (prefix) => {
    const codec = nameCodec(rules, { prefix });
    fc.assert(
      fc.property(ref, (input) => {
        const name = codec.encode(input);
        expect(legal(rules, name), `illegal name ${name}`).toBe(true);
        const decoded = codec.decode(name);
        if (decoded !== undefined) sameRef(input, decoded);
        else expect(name.length).toBeGreaterThan(rules.maxLength - 40);
        if (prefix !== undefined) expect(name.startsWith(prefix)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it("is injective, even where the store ignores case", () => {
    const codec = nameCodec(rules);
    fc.assert(
      fc.property(ref, ref, (a, b) => {
        const same =
          JSON.stringify([a.tenant, a.namespace, a.key]) === JSON.stringify([b.tenant, b.namespace, b.key]);
        fc.pre(!same);
        expect(fold(rules, codec.encode(a))).not.toBe(fold(rules, codec.encode(b)));
      }),
      { numRuns: 400 },
    );
  });

  it("keeps names that differ only in case or scope apart", () => {
    const codec = nameCodec(rules);
    const names = [
      { key: "db_password" },
      { key: "DB_PASSWORD" },
      { namespace: "a", key: "DB_PASSWORD" },
      { tenant: "a", key: "DB_PASSWORD" },
      { namespace: "a.b", key: "DB_PASSWORD" },
      { namespace: "a", key: "b.DB_PASSWORD" },
    ].map((input) => fold(rules, codec.encode(input)));
    expect(new Set(names).size).toBe(names.length);
  });

  it("does not decode names from another prefix, nor foreign names", () => {
    const codec = nameCodec(rules, { prefix: provider === "doppler" ? "APP" : "app" });
    const other = nameCodec(rules, { prefix: provider === "doppler" ? "APPX" : "appx" });
    expect(codec.decode(other.encode({ key: "KEY" }))).toBeUndefined();
    expect(nameCodec(rules).decode(`${rules.escape}zz`)).toBeUndefined();
  });
});

describe("naming codec", () => {
  it("writes readable names where the alphabet allows", () => {
    const aws = nameCodec(namingRules.aws, { prefix: "billing" });
    expect(aws.encode({ namespace: "company.team", key: "DB_PASSWORD" })).toBe(
      "billing/+ncompany.team/DB_PASSWORD",
    );
    expect(aws.encode({ tenant: "acme", namespace: "company", key: "KEY" })).toBe(
      "billing/+tacme/+ncompany/KEY",
    );
  });

  it("cuts over-long names at maxLength with a hash, distinct for distinct refs", () => {
    const codec = nameCodec(namingRules.azure);
    const a = codec.encode({ key: `${"k".repeat(200)}a` });
    const b = codec.encode({ key: `${"k".repeat(200)}b` });
    expect(a).toHaveLength(127);
    expect(b).toHaveLength(127);
    expect(a).not.toBe(b);
    expect(codec.decode(a)).toBeUndefined();
  });

  it("letters whose case does not map back (dotless i, Kelvin sign) round-trip where the store ignores case", () => {
    for (const rules of [namingRules.doppler, namingRules.azure]) {
      const codec = nameCodec(rules);
      for (const ref of [
        { namespace: "ı\u0000", key: "\u0000" },
        { key: "\u212a" },
        { key: "ſ" },
        { key: "İx" },
      ]) {
        expect(codec.decode(codec.encode(ref))).toEqual(ref);
      }
    }
  });

  it("escapes a key that cannot start a Doppler name", () => {
    const name = nameCodec(namingRules.doppler).encode({ key: "1PASSWORD" });
    expect(name).toMatch(/^[A-Z_]/);
    expect(nameCodec(namingRules.doppler).decode(name)).toEqual({ key: "1PASSWORD" });
  });

  it("raw mode passes legal names through and refuses illegal ones with INVALID_NAME", () => {
    const raw = nameCodec(namingRules.aws, { prefix: "app", mode: "raw" });
    expect(raw.encode({ key: "prod/db" })).toBe("app/prod/db");
    expect(raw.decode("app/prod/db")).toEqual({ key: "prod/db" });
    expect(() => raw.encode({ key: "bad name" })).toThrowError(
      expect.objectContaining({ code: "INVALID_NAME" }),
    );
  });

  it("refuses a mixed-case prefix where the store ignores case (two prefixes would collide)", () => {
    expect(() => nameCodec(namingRules.azure, { prefix: "Sb12" })).toThrowError(
      /prefix "Sb12" mixes letter cases/,
    );
    expect(nameCodec(namingRules.azure, { prefix: "sb12" }).encode({ key: "K" })).toMatch(/^sb12/);
    expect(nameCodec(namingRules.doppler, { prefix: "APP" }).encode({ key: "K" })).toMatch(/^APP/);
  });

  it("rejects a prefix the alphabet cannot hold, naming it", () => {
    expect(() => nameCodec(namingRules.gcp, { prefix: "a/b" })).toThrowError(/prefix "a\/b"/);
  });

  it("rejects malformed refs", () => {
    const codec = nameCodec(namingRules.aws);
    for (const bad of [
      { key: "" },
      { namespace: "a..b", key: "k" },
      { tenant: "", key: "k" },
      { key: "\ud800" },
    ]) {
      let caught: unknown;
      try {
        codec.encode(bad);
      } catch (error) {
        caught = error;
      }
      expect(isStrongboxError(caught, "INVALID_NAME")).toBe(true);
    }
  });

  it("gives list prefixes that every name in the scope starts with", () => {
    const codec = nameCodec(namingRules.aws, { prefix: "app" });
    const start = codec.listPrefix({ tenant: "acme", namespace: "a.b" });
    expect(codec.encode({ tenant: "acme", namespace: "a.b", key: "X" }).startsWith(start)).toBe(true);
    expect(codec.encode({ tenant: "acme", namespace: "a.bc", key: "X" }).startsWith(start)).toBe(false);
  });
});
