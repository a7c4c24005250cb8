import { describe, expect, it } from "vitest";
import { createCipher, isStrongboxError, SecretValue } from "../src/index.ts";

const KEY_A = "a-very-long-secret-of-at-least-32-characters!";
const KEY_B = "another-long-secret-used-for-rotation-tests-123";
const ref = { tenant: "acme", namespace: "company.team", key: "DB_PASSWORD" };

const decryptError = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected the decryption to fail");
};

describe("envelope encryption", () => {
  it("round-trips text and bytes, keeping their kind", () => {
    const cipher = createCipher({ keys: [KEY_A] });
    const text = cipher.decrypt(cipher.encrypt(SecretValue.from("pässwörd 🔑"), ref), ref);
    expect(text.isBinary).toBe(false);
    expect(text.reveal()).toBe("pässwörd 🔑");
    const bytes = cipher.decrypt(cipher.encrypt(SecretValue.from(new Uint8Array([0, 255, 7])), ref), ref);
    expect(bytes.isBinary).toBe(true);
    expect([...bytes.bytes()]).toEqual([0, 255, 7]);
  });

  it("uses a fresh IV: the same value encrypts differently each time", () => {
    const cipher = createCipher({ keys: [KEY_A] });
    const value = SecretValue.from("same");
    expect(cipher.encrypt(value, ref)).not.toBe(cipher.encrypt(value, ref));
  });

  it("never repeats an IV, across several blocks of random bytes and both keys", () => {
    // prepare
    const ciphers = [createCipher({ keys: [KEY_A] }), createCipher({ keys: [KEY_B] })];
    const value = SecretValue.from("same");
    // act
    const ivs = Array.from({ length: 3000 }, (_, index) => {
      const envelope = (ciphers[index % 2] as (typeof ciphers)[number]).encrypt(value, ref);
      return Buffer.from(envelope.split(":")[2] as string, "base64url")
        .subarray(0, 12)
        .toString("hex");
    });
    // assert
    expect(new Set(ivs).size).toBe(3000);
    expect(ivs.every((iv) => iv !== "0".repeat(24))).toBe(true);
  });

  it("the envelope names its version and key and holds no plaintext", () => {
    const cipher = createCipher({ keys: [{ id: "k2026", secret: KEY_A }] });
    const envelope = cipher.encrypt(SecretValue.from("plaintext-canary"), ref);
    expect(envelope).toMatch(/^v1:k2026:[A-Za-z0-9_-]+$/);
    expect(envelope).not.toContain("plaintext-canary");
    expect(Buffer.from(envelope.split(":")[2] as string, "base64url").toString("latin1")).not.toContain(
      "plaintext-canary",
    );
  });

  it.each([
    ["a flipped bit", (envelope: string) => flipBit(envelope)],
    ["a truncated value", (envelope: string) => envelope.slice(0, -6)],
    ["a truncated tag", (envelope: string) => envelope.slice(0, -1)],
    ["an empty body", (envelope: string) => `${envelope.split(":").slice(0, 2).join(":")}:`],
    ["not an envelope", () => "hello"],
    ["a fourth part", (envelope: string) => `${envelope}:AAAA`],
    ["another format version", (envelope: string) => envelope.replace(/^v1:/, "v2:")],
    ["no key id part", (envelope: string) => `v1:${envelope.split(":")[2]}`],
    ["a character outside base64url", (envelope: string) => `${envelope.slice(0, 30)}!${envelope.slice(31)}`],
  ])("%s fails with DECRYPT_FAILED", (_label, tamper) => {
    const cipher = createCipher({ keys: [KEY_A] });
    const envelope = tamper(cipher.encrypt(SecretValue.from("value"), ref));
    expect(
      isStrongboxError(
        decryptError(() => cipher.decrypt(envelope, ref)),
        "DECRYPT_FAILED",
      ),
    ).toBe(true);
  });

  it("a ciphertext moved to another ref or scope fails with DECRYPT_FAILED", () => {
    const cipher = createCipher({ keys: [KEY_A] });
    const envelope = cipher.encrypt(SecretValue.from("value"), ref, "table:secrets");
    for (const [other, scope] of [
      [{ ...ref, key: "OTHER" }, "table:secrets"],
      [{ ...ref, namespace: "company" }, "table:secrets"],
      [{ namespace: ref.namespace, key: ref.key }, "table:secrets"],
      [ref, "table:other"],
    ] as const) {
      expect(
        isStrongboxError(
          decryptError(() => cipher.decrypt(envelope, other, scope)),
          "DECRYPT_FAILED",
        ),
      ).toBe(true);
    }
  });

  it("a wrong key fails with DECRYPT_FAILED, even under the same key id", () => {
    const envelope = createCipher({ keys: [{ id: "main", secret: KEY_A }] }).encrypt(
      SecretValue.from("value"),
      ref,
    );
    const wrongId = decryptError(() => createCipher({ keys: [KEY_B] }).decrypt(envelope, ref));
    expect(isStrongboxError(wrongId, "DECRYPT_FAILED")).toBe(true);
    expect(String(wrongId)).toMatch(/no configured key has id "main"/);
    const sameId = decryptError(() =>
      createCipher({ keys: [{ id: "main", secret: KEY_B }] }).decrypt(envelope, ref),
    );
    expect(isStrongboxError(sameId, "DECRYPT_FAILED")).toBe(true);
  });

  it("rotation: the first key encrypts, every key decrypts, and old envelopes are flagged", () => {
    const old = createCipher({ keys: [KEY_A] });
    const rotated = createCipher({ keys: [KEY_B, KEY_A] });
    const before = old.encrypt(SecretValue.from("value"), ref);
    expect(rotated.decrypt(before, ref).reveal()).toBe("value");
    expect(rotated.needsRotation(before)).toBe(true);
    const after = rotated.encrypt(SecretValue.from("value"), ref);
    expect(rotated.needsRotation(after)).toBe(false);
    expect(rotated.keyIdOf(after)).toBe(rotated.currentKeyId);
  });

  it("accepts base64 of 32 bytes and refuses short keys without echoing them", () => {
    const base64 = Buffer.alloc(32, 7).toString("base64");
    expect(createCipher({ keys: [base64] }).currentKeyId).toMatch(/^[A-Za-z0-9_-]+$/);
    let error: unknown;
    try {
      createCipher({ keys: ["short-secret-value"] });
    } catch (caught) {
      error = caught;
    }
    expect(isStrongboxError(error, "INVALID_OPTIONS")).toBe(true);
    expect(String(error)).not.toContain("short-secret-value");
    expect(String(error)).toContain("keys[0]");
  });
});

function flipBit(envelope: string): string {
  const [version, id, data] = envelope.split(":") as [string, string, string];
  const bytes = Buffer.from(data, "base64url");
  bytes[14] = (bytes[14] as number) ^ 1;
  return `${version}:${id}:${bytes.toString("base64url")}`;
}
