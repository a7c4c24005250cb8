import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { SecretValue, StrongboxError } from "../src/index.ts";

describe("SecretValue", () => {
  it("prints ****** everywhere a value could leak", () => {
    const value = SecretValue.from("hunter2-canary");
    for (const text of [
      String(value),
      `${value}`,
      inspect(value),
      inspect({ value }, { showHidden: true }),
      JSON.stringify({ value }),
    ]) {
      expect(text).not.toContain("hunter2-canary");
      expect(text).toContain("******");
    }
    expect(String(new StrongboxError("BACKEND", `failed with ${value}`))).not.toContain("hunter2-canary");
  });

  it("reveals on purpose, as text or bytes, and compares", () => {
    const value = SecretValue.from("héllo");
    expect(value.reveal()).toBe("héllo");
    expect(value.byteLength).toBe(6);
    expect(Buffer.from(value.bytes()).toString("utf8")).toBe("héllo");
    expect(value.equals("héllo")).toBe(true);
    expect(value.equals("hello")).toBe(false);
    expect(SecretValue.from(value)).toBe(value);
  });

  it("copies bytes in and out, so callers cannot change a stored value", () => {
    const input = new Uint8Array([1, 2, 3]);
    const value = SecretValue.from(input);
    value.bytes().fill(9);
    expect([...value.bytes()]).toEqual([1, 2, 3]);
  });
});
