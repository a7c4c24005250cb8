import { SecretValue, StrongboxError } from "@strongbox/core";
import { describe, expect, it } from "vitest";
import { watchForLeaks } from "../src/leaks.ts";

describe("watchForLeaks", () => {
  it("fails when console output holds a watched value", () => {
    const leaks = watchForLeaks(["canary-123456"]);
    console.log("oops canary-123456");
    expect(() => leaks.stop()).toThrow(/process output holds a secret value/);
  });

  it("fails when an error's cause holds a watched value", () => {
    const leaks = watchForLeaks(["canary-abcdef"]);
    leaks.check(
      new StrongboxError("BACKEND", "wrapped", { cause: new Error("server said canary-abcdef") }),
      "error",
    );
    expect(() => leaks.stop()).toThrow(/error holds a secret value/);
  });

  it("passes when values stay wrapped", () => {
    const leaks = watchForLeaks(["canary-wrapped"]);
    const value = SecretValue.from("canary-wrapped");
    console.log(value, `${value}`, JSON.stringify({ value }));
    leaks.check({ nested: { value } });
    expect(() => leaks.stop()).not.toThrow();
  });
});
