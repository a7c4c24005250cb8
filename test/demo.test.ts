import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function demo(): Promise<{ code: number; output: string }> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !name.startsWith("STRONGBOX_")) env[name] = value;
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["scripts/demo.sh"], { cwd: ROOT, env: { ...env, NO_COLOR: "1" } });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, output: Buffer.concat(chunks).toString() }));
  });
}

describe("npm run demo (scripts/demo.sh)", () => {
  it("stores, lists and reads secrets with tags, namespaces and inheritance, and prints no value it was not asked for", {
    timeout: 120_000,
  }, async () => {
    // act
    const { code, output } = await demo();
    // assert
    expect(code, output).toBe(0);
    expect(output).toMatch(/company\.team\.etl\s+DB_PASSWORD\s+1\s+app=etl,env=prod/);
    expect(output).toMatch(/"foundIn": "company\.team"/);
    expect(output).toMatch(/"inherited": true/);
    expect(output).toContain("etl-db-password\n");
    expect(output).toContain("company-wide-token\n");
    expect(output).toMatch(/no plaintext value in/);
    expect(output).toMatch(/ok +store: reachable/);
    expect(output).toMatch(/not found: company\.team\/NOPE/);
    expect(output).not.toContain("acme-only-token");
    expect(output).not.toContain("\u001b[");
  });
});
